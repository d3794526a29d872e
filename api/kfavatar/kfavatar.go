// Package kfavatar turns any picture the operator picks (JPG, PNG, GIF, BMP,
// WebP) into what kfaccount/uploadheadimg accepts: a JPEG, 640×640 as the docs
// recommend, within the size limit. It sits under api/ because these are WeChat's
// rules for one upload; it has no Fyne, SQL or HTTP, so window and CLI share it.
package kfavatar

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for image.Decode
	"image/jpeg"
	_ "image/png"
	"io"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"kfdesk/api"
)

// Size is the side of the square avatar ("推荐使用640*640").
const Size = 640

// MaxInput bounds the picked file; a camera photo is well under it.
const MaxInput = 50 << 20

// maxPixels refuses decompression bombs before decoding (a 100-megapixel PNG is 400 MB in memory).
const maxPixels = 100_000_000

// qualities are tried in order until the JPEG fits the limit.
var qualities = []int{92, 85, 75, 60, 45, 30}

// Prepare converts an image file's bytes into the avatar JPEG: centre-cropped
// square, upright per the JPEG's EXIF orientation, transparency on white, scaled
// to Size×Size, encoded within api.MaxKFAvatarSize.
func Prepare(data []byte) ([]byte, error) { return prepare(data, api.MaxKFAvatarSize) }

// Read reads a picked file, refusing one over MaxInput (a video picked by mistake).
func Read(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxInput {
		return nil, tooLarge()
	}
	return data, nil
}

func tooLarge() error {
	return &api.InputError{Field: "image",
		ZH: fmt.Sprintf("图片文件太大（超过 %d MB），请换一张。", MaxInput>>20),
		EN: fmt.Sprintf("The picture file is too large (over %d MB); pick another.", MaxInput>>20)}
}

func prepare(data []byte, limit int) ([]byte, error) {
	if len(data) > MaxInput {
		return nil, tooLarge()
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, notAnImage()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil, &api.InputError{Field: "image",
			ZH: fmt.Sprintf("图片尺寸 %d×%d 太大，请换一张（最多约 1 亿像素）。", cfg.Width, cfg.Height),
			EN: fmt.Sprintf("The picture is %d×%d, too large; pick another (at most about 100 megapixels).", cfg.Width, cfg.Height)}
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, notAnImage()
	}
	square := scaleSquare(src, Size)
	if format == "jpeg" {
		square = orient(square, exifOrientation(data))
	}
	var buf bytes.Buffer
	for _, q := range qualities {
		buf.Reset()
		if err := jpeg.Encode(&buf, square, &jpeg.Options{Quality: q}); err != nil {
			return nil, err
		}
		if buf.Len() <= limit {
			return buf.Bytes(), nil
		}
	}
	return nil, &api.InputError{Field: "image",
		ZH: fmt.Sprintf("无法把这张图片压缩到 %d KB 以内，请换一张。", limit>>10),
		EN: fmt.Sprintf("This picture cannot be compressed below %d KB; pick another.", limit>>10)}
}

func notAnImage() error {
	return &api.InputError{Field: "image",
		ZH: "无法识别这个文件。请选择 JPG、PNG、GIF、BMP 或 WebP 图片（iPhone 的 HEIC 照片请先导出为 JPG）。",
		EN: "This file is not a picture KF Desk can read. Pick a JPG, PNG, GIF, BMP or WebP (export iPhone HEIC photos as JPG first)."}
}

// Thumbnail decodes an avatar (any supported format) into a side×side square for
// display; done off the UI thread, it keeps full-size avatars out of the list.
func Thumbnail(data []byte, side int) (image.Image, error) {
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, notAnImage()
	}
	return scaleSquare(src, side), nil
}

// scaleSquare takes the centred square of src and scales it to side×side on a
// white background (JPEG has no transparency; black would show instead).
func scaleSquare(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	edge := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-edge)/2
	y0 := b.Min.Y + (b.Dy()-edge)/2
	crop := image.Rect(x0, y0, x0+edge, y0+edge)
	dst := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Over, nil)
	return dst
}
