package workspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/jpeg"
	"strings"
	"testing"

	"kfdesk/api"
	pt "kfdesk/api/picture/picturetest"
)

// A phone photo stored sideways (EXIF orientation 6) is sent upright once shrunk, and
// a picture whose header claims 50000×50000 is refused with its size in both languages.
func TestShrinkImageUprightAndCapped(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, pt.Quadrants(100, 200, pt.Green, pt.Yellow, pt.Red, pt.Blue), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	out, err := ShrinkImage(pt.WithOrientation(b.Bytes(), 6, binary.BigEndian), api.MediaLimits[api.MediaImage].MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 200 || img.Bounds().Dy() != 100 {
		t.Fatalf("still sideways: %v", img.Bounds())
	}
	if r, g, bl, _ := img.At(50, 25).RGBA(); r>>8 < 200 || g>>8 > 60 || bl>>8 > 60 {
		t.Fatalf("top left is %d,%d,%d, want red", r>>8, g>>8, bl>>8)
	}
	_, err = ShrinkImage(pt.HugePNG(50000, 50000), api.MediaLimits[api.MediaImage].MaxBytes)
	var ie *api.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.ZH(), "50000×50000") || !strings.Contains(ie.EN(), "50000×50000") {
		t.Fatalf("bomb: %v", err)
	}
}
