package workspace

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"

	// Decoders for what operators pick: phone photos (JPEG), screenshots (PNG), GIFs.
	_ "image/gif"
	_ "image/png"

	"golang.org/x/image/draw"
)

// ShrinkImage re-encodes an image as JPEG of at most maxBytes: first by lowering
// the quality, then by scaling down. Transparent parts become white (JPEG has no
// alpha). It is how a too-large photo becomes a valid image or thumb.
func ShrinkImage(data []byte, maxBytes int) ([]byte, error) {
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("the file is not a picture that can be re-encoded (JPG, PNG or GIF) / 无法识别的图片，只能压缩 JPG、PNG、GIF")
	}
	img := flatten(src)
	for scale := 1.0; scale > 0.02; scale *= 0.7 {
		if scale < 1 {
			img = resize(flatten(src), scale)
		}
		for _, q := range []int{85, 70, 55, 40} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
				return nil, err
			}
			if buf.Len() <= maxBytes {
				return buf.Bytes(), nil
			}
		}
	}
	return nil, errors.New("the picture could not be made small enough / 图片无法压缩到限制以内")
}

// flatten draws the image on white.
func flatten(src image.Image) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), src, b.Min, draw.Over)
	return dst
}

func resize(src *image.RGBA, scale float64) *image.RGBA {
	w := max(1, int(float64(src.Bounds().Dx())*scale))
	h := max(1, int(float64(src.Bounds().Dy())*scale))
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}
