package kfavatar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/image/bmp"

	"kfdesk/api"
	pt "kfdesk/api/picture/picturetest"
)

// halves is w×h, left half red and right half blue.
func halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{0xff, 0, 0, 0xff}
			if x >= w/2 {
				c = color.RGBA{0, 0, 0xff, 0xff}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func decodeAvatar(t *testing.T, out []byte) image.Image {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(out))
	if err != nil || format != "jpeg" {
		t.Fatalf("output is not a JPEG: %v %q", err, format)
	}
	if cfg.Width != Size || cfg.Height != Size {
		t.Fatalf("output is %d×%d, want %d×%d", cfg.Width, cfg.Height, Size, Size)
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// near reports whether the pixel is close to c (JPEG is lossy).
func near(t *testing.T, img image.Image, x, y int, c color.RGBA) {
	t.Helper()
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a uint32, b uint8) int { return abs(int(a>>8) - int(b)) }
	if d(r, c.R) > 40 || d(g, c.G) > 40 || d(b, c.B) > 40 {
		t.Fatalf("pixel (%d,%d) = %d,%d,%d, want about %v", x, y, r>>8, g>>8, b>>8, c)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var (
	red   = color.RGBA{0xff, 0, 0, 0xff}
	blue  = color.RGBA{0, 0, 0xff, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

func TestPNGBecomesSquareJPEG(t *testing.T) {
	// 300×100: the centred 100×100 square is columns 100–199, red left of 150, blue right.
	var in bytes.Buffer
	if err := png.Encode(&in, halves(300, 100)); err != nil {
		t.Fatal(err)
	}
	out, err := Prepare(in.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	img := decodeAvatar(t, out)
	near(t, img, 100, 320, red)
	near(t, img, 540, 320, blue)
	if len(out) > api.MaxKFAvatarSize {
		t.Fatalf("%d bytes", len(out))
	}
}

func TestOtherFormatsAreRead(t *testing.T) {
	src := halves(120, 120)
	encoders := map[string]func(*bytes.Buffer) error{
		"gif":  func(b *bytes.Buffer) error { return gif.Encode(b, src, nil) },
		"bmp":  func(b *bytes.Buffer) error { return bmp.Encode(b, src) },
		"jpeg": func(b *bytes.Buffer) error { return jpeg.Encode(b, src, nil) },
	}
	for name, enc := range encoders {
		var in bytes.Buffer
		if err := enc(&in); err != nil {
			t.Fatal(err)
		}
		out, err := Prepare(in.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img := decodeAvatar(t, out)
		near(t, img, 100, 320, red)
		near(t, img, 540, 320, blue)
	}
}

func TestTransparencyBecomesWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 50, 50)) // fully transparent
	var in bytes.Buffer
	if err := png.Encode(&in, img); err != nil {
		t.Fatal(err)
	}
	out, err := Prepare(in.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	near(t, decodeAvatar(t, out), 320, 320, white)
}

func TestEXIFOrientationIsHonoured(t *testing.T) {
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, halves(200, 100), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		o                    uint16
		order                binary.ByteOrder
		topLeft, bottomRight color.RGBA
	}{
		{1, binary.BigEndian, red, blue},    // left red, right blue
		{6, binary.LittleEndian, red, blue}, // turned clockwise: red on top
		{8, binary.BigEndian, blue, red},    // turned counter-clockwise: blue on top
		{3, binary.BigEndian, blue, red},    // upside down: blue left
		{2, binary.LittleEndian, blue, red}, // mirrored: blue left
	}
	for _, tc := range cases {
		in := pt.WithOrientation(plain.Bytes(), tc.o, tc.order)
		out, err := Prepare(in)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeAvatar(t, out)
		// top-left and bottom-right quadrant centres
		near(t, img, 160, 160, tc.topLeft)
		near(t, img, 480, 480, tc.bottomRight)
		if tc.o == 6 || tc.o == 8 { // a rotation: left and right of the top row agree
			near(t, img, 480, 160, tc.topLeft)
		}
	}
}

func TestNotAnImageIsExplained(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("%PDF-1.7 not a picture"), {0xFF, 0xD8, 0xFF, 0xE1, 0xFF}} {
		_, err := Prepare(in)
		var ie *api.InputError
		if !errors.As(err, &ie) || ie.Field != "image" || ie.ZH() == "" || ie.EN() == "" {
			t.Fatalf("%q: err = %v", in, err)
		}
	}
}

func TestHugeDimensionsRefusedBeforeDecoding(t *testing.T) {
	// A PNG header claiming 20000×20000: refused from the header alone (see api/picture).
	_, err := Prepare(pt.HugePNG(20000, 20000))
	var ie *api.InputError
	if !errors.As(err, &ie) || ie.Field != "image" || !strings.Contains(ie.EN(), "20000×20000") {
		t.Fatalf("err = %v", err)
	}
}

func TestQualityStepsDownToFitTheLimit(t *testing.T) {
	noise := image.NewRGBA(image.Rect(0, 0, Size, Size))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	var in bytes.Buffer
	if err := png.Encode(&in, noise); err != nil {
		t.Fatal(err)
	}
	best, err := prepare(in.Bytes(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	limit := len(best) * 2 / 3
	out, err := prepare(in.Bytes(), limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > limit || len(out) >= len(best) {
		t.Fatalf("%d bytes with limit %d (first try %d)", len(out), limit, len(best))
	}
	decodeAvatar(t, out)
	if _, err := prepare(in.Bytes(), 1000); err == nil {
		t.Fatal("an impossible limit was met")
	}
}

func TestThumbnail(t *testing.T) {
	var in bytes.Buffer
	if err := png.Encode(&in, halves(300, 100)); err != nil {
		t.Fatal(err)
	}
	img, err := Thumbnail(in.Bytes(), 48)
	if err != nil || img.Bounds().Dx() != 48 || img.Bounds().Dy() != 48 {
		t.Fatalf("%v %v", img.Bounds(), err)
	}
	near(t, img, 5, 24, red)
	near(t, img, 43, 24, blue)
	if _, err := Thumbnail([]byte("<html>"), 48); err == nil {
		t.Fatal("an HTML page became a thumbnail")
	}
}

func TestReadRefusesHugeFiles(t *testing.T) {
	if _, err := Read(bytes.NewReader(make([]byte, MaxInput+1))); err == nil {
		t.Fatal("a file over the limit was read")
	}
	if b, err := Read(bytes.NewReader([]byte("abc"))); err != nil || string(b) != "abc" {
		t.Fatalf("%q %v", b, err)
	}
}
