package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"strings"
	"testing"

	"kfdesk/api"
	pt "kfdesk/api/picture/picturetest"
)

// near fails unless the pixel is close to c (JPEG is lossy).
func near(t *testing.T, img image.Image, x, y int, c color.RGBA, what string) {
	t.Helper()
	r, g, b, _ := img.At(x, y).RGBA()
	d := func(a uint32, b uint8) int { return max(int(a>>8)-int(b), int(b)-int(a>>8)) }
	if d(r, c.R) > 40 || d(g, c.G) > 40 || d(b, c.B) > 40 {
		t.Fatalf("%s: pixel (%d,%d) = %d,%d,%d, want about %v", what, x, y, r>>8, g>>8, b>>8, c)
	}
}

func jpegOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sideways holds, for each EXIF orientation, how a camera stores the upright scene
// 200×100 (red, green / blue, yellow): the stored picture's size and quadrants, worked
// out by hand from the EXIF standard's description of the tag (0th row / 0th column).
var sideways = []struct {
	o              uint16
	w, h           int
	tl, tr, bl, br color.RGBA
}{
	{1, 200, 100, pt.Red, pt.Green, pt.Blue, pt.Yellow},
	{2, 200, 100, pt.Green, pt.Red, pt.Yellow, pt.Blue}, // mirrored left to right
	{3, 200, 100, pt.Yellow, pt.Blue, pt.Green, pt.Red}, // upside down
	{4, 200, 100, pt.Blue, pt.Yellow, pt.Red, pt.Green}, // mirrored top to bottom
	{5, 100, 200, pt.Red, pt.Blue, pt.Green, pt.Yellow}, // 0th row = left side, 0th column = top
	{6, 100, 200, pt.Green, pt.Yellow, pt.Red, pt.Blue}, // 0th row = right side, 0th column = top
	{7, 100, 200, pt.Yellow, pt.Green, pt.Blue, pt.Red}, // 0th row = right side, 0th column = bottom
	{8, 100, 200, pt.Blue, pt.Red, pt.Yellow, pt.Green}, // 0th row = left side, 0th column = bottom
}

// checkUpright fails unless img is the 200×100 scene, upright.
func checkUpright(t *testing.T, img image.Image, what string) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 100 {
		t.Fatalf("%s: %v, want 200×100", what, b)
	}
	near(t, img, 50, 25, pt.Red, what)
	near(t, img, 150, 25, pt.Green, what)
	near(t, img, 50, 75, pt.Blue, what)
	near(t, img, 150, 75, pt.Yellow, what)
}

func TestEveryEXIFOrientationComesOutUpright(t *testing.T) {
	for _, tc := range sideways {
		for _, order := range []binary.ByteOrder{binary.BigEndian, binary.LittleEndian} {
			in := pt.WithOrientation(jpegOf(t, pt.Quadrants(tc.w, tc.h, tc.tl, tc.tr, tc.bl, tc.br)), tc.o, order)
			img, err := Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			checkUpright(t, img, fmt.Sprint("orientation ", tc.o, " ", order))
		}
	}
	// A message picture scaled down to fit is upright too (the path phone photos take).
	in := pt.WithOrientation(jpegOf(t, pt.Quadrants(100, 200, pt.Green, pt.Yellow, pt.Red, pt.Blue)), 6, binary.LittleEndian)
	out, err := Shrink(in, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	checkUpright(t, img, "shrunk")
}

func TestTransparencyFlattensOntoWhite(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 200, 100)) // transparent, with an opaque red left half
	for y := 0; y < 100; y++ {
		for x := 0; x < 100; x++ {
			img.SetNRGBA(x, y, color.NRGBA{0xff, 0, 0, 0xff})
		}
	}
	img.SetNRGBA(150, 50, color.NRGBA{0, 0, 0, 0}) // transparent black is still white
	var in bytes.Buffer
	if err := png.Encode(&in, img); err != nil {
		t.Fatal(err)
	}
	dec, err := Decode(in.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	near(t, dec, 50, 50, pt.Red, "decoded")
	near(t, dec, 150, 50, pt.White, "decoded")
	out, err := Shrink(in.Bytes(), 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	jpg, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	near(t, jpg, 150, 50, pt.White, "shrunk")
}

// A PNG of a few dozen bytes claiming 50000×50000 (2.5 GB once decoded) is refused
// from its header, with the size in both languages, and without the memory.
func TestHugeDimensionsRefusedBeforeDecoding(t *testing.T) {
	bomb := pt.HugePNG(50000, 50000)
	if _, err := png.DecodeConfig(bytes.NewReader(bomb)); err != nil {
		t.Fatalf("the test header is not a valid PNG: %v", err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(bomb)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing the header allocated %d bytes", n)
	}
	var ie *api.InputError
	if !errors.As(err, &ie) || ie.Field != "image" || !strings.Contains(ie.ZH(), "50000×50000") || !strings.Contains(ie.EN(), "50000×50000") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Shrink(bomb, 1<<20); !errors.As(err, &ie) || !strings.Contains(ie.EN(), "50000×50000") {
		t.Fatalf("shrink: %v", err)
	}
}

func TestNotAPictureIsExplained(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("%PDF-1.7 not a picture"), {0xFF, 0xD8, 0xFF, 0xE1, 0xFF}} {
		_, err := Decode(in)
		var ie *api.InputError
		if !errors.As(err, &ie) || ie.Field != "image" || ie.ZH() == "" || ie.EN() == "" {
			t.Fatalf("%q: err = %v", in, err)
		}
	}
}
