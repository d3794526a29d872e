// Package picture is the one way KF Desk reads a picture the operator picks, for a
// message (image, thumb) and for a KF avatar alike: refuse a decompression bomb from
// the header alone, decode, turn a phone photo upright (EXIF orientation), put
// transparency on white (JPEG, which WeChat wants, has none), then scale and encode.
// It sits under api/ (next to kfavatar, which uses it) so that both api/kfavatar and
// ui/workspace can import it; it has no Fyne, SQL or HTTP.
package picture

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for image.Decode
	"image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"kfdesk/api"
)

// MaxPixels refuses decompression bombs before decoding: a PNG of a few hundred bytes
// can claim 50000×50000 (10 GB decoded). 100 megapixels is above any phone camera's
// normal output and costs at most about 400 MB per copy.
const MaxPixels = 100_000_000

// Decode reads a JPG, PNG, GIF, BMP or WebP into an upright, opaque image: the size
// is checked from the header first, a JPEG's EXIF orientation is applied and
// transparent parts become white.
func Decode(data []byte) (*image.RGBA, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, NotAPicture()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, &api.InputError{Field: "image",
			Chinese: fmt.Sprintf("图片尺寸 %d×%d 太大，请换一张（最多约 1 亿像素）。", cfg.Width, cfg.Height),
			English: fmt.Sprintf("The picture is %d×%d, too large; pick another (at most about 100 megapixels).", cfg.Width, cfg.Height)}
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, NotAPicture()
	}
	img := flatten(src)
	if format == "jpeg" {
		img = orient(img, exifOrientation(data))
	}
	return img, nil
}

// NotAPicture is the error for a file no decoder reads.
func NotAPicture() error {
	return &api.InputError{Field: "image",
		Chinese: "无法识别这个文件。请选择 JPG、PNG、GIF、BMP 或 WebP 图片（iPhone 的 HEIC 照片请先导出为 JPG）。",
		English: "This file is not a picture KF Desk can read. Pick a JPG, PNG, GIF, BMP or WebP (export iPhone HEIC photos as JPG first)."}
}

// EncodeJPEG encodes img at the first of qualities whose JPEG fits in maxBytes; ok is
// false when none does.
func EncodeJPEG(img image.Image, maxBytes int, qualities []int) (out []byte, ok bool, err error) {
	var buf bytes.Buffer
	for _, q := range qualities {
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			return nil, false, err
		}
		if buf.Len() <= maxBytes {
			return buf.Bytes(), true, nil
		}
	}
	return nil, false, nil
}

// TooBig is the error for a picture that cannot be encoded within maxBytes.
func TooBig(maxBytes int) error {
	return &api.InputError{Field: "image",
		Chinese: fmt.Sprintf("无法把这张图片压缩到 %s 以内，请换一张。", api.SizeText(maxBytes)),
		English: fmt.Sprintf("This picture cannot be compressed below %s; pick another.", api.SizeText(maxBytes))}
}

// Shrink re-encodes a picture as a JPEG of at most maxBytes: first by lowering the
// quality, then by scaling down. It is how a too-large photo becomes a valid image or thumb.
func Shrink(data []byte, maxBytes int) ([]byte, error) {
	img, err := Decode(data)
	if err != nil {
		return nil, err
	}
	for scale := 1.0; scale > 0.02; scale *= 0.7 {
		frame := img
		if scale < 1 {
			frame = Scale(img, max(1, int(float64(img.Rect.Dx())*scale)), max(1, int(float64(img.Rect.Dy())*scale)))
		}
		out, ok, err := EncodeJPEG(frame, maxBytes, []int{85, 70, 55, 40})
		if err != nil || ok {
			return out, err
		}
	}
	return nil, TooBig(maxBytes)
}

// Scale resizes src to w×h.
func Scale(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// Square takes the centred square of src and scales it to side×side.
func Square(src image.Image, side int) *image.RGBA {
	b := src.Bounds()
	edge := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-edge)/2
	y0 := b.Min.Y + (b.Dy()-edge)/2
	dst := image.NewRGBA(image.Rect(0, 0, side, side))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, image.Rect(x0, y0, x0+edge, y0+edge), draw.Src, nil)
	return dst
}

// flatten draws src on white, at the origin.
func flatten(src image.Image) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Over)
	return dst
}
