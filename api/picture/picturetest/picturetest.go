// Package picturetest makes the pictures the tests of api/picture, api/kfavatar and
// ui/workspace need: a JPEG carrying an EXIF orientation, four-colour quadrants whose
// position shows how a picture was turned, and a PNG header claiming huge dimensions.
package picturetest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
)

// Colours of the quadrants, far apart so JPEG's loss cannot confuse them.
var (
	Red    = color.RGBA{0xff, 0, 0, 0xff}
	Green  = color.RGBA{0, 0xff, 0, 0xff}
	Blue   = color.RGBA{0, 0, 0xff, 0xff}
	Yellow = color.RGBA{0xff, 0xff, 0, 0xff}
	White  = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// Quadrants is a w×h picture whose four quarters are tl, tr, bl, br.
func Quadrants(w, h int, tl, tr, bl, br color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := [2][2]color.RGBA{{tl, tr}, {bl, br}}[y*2/h][x*2/w]
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// WithOrientation inserts an EXIF APP1 segment carrying orientation o after a JPEG's SOI.
func WithOrientation(jpg []byte, o uint16, order binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if order == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	for _, v := range []any{uint16(42), uint32(8), // magic, offset of the first IFD
		uint16(1),                                          // one entry
		uint16(0x0112), uint16(3), uint32(1), o, uint16(0), // Orientation, SHORT, count 1, value
		uint32(0)} { // no next IFD
		_ = binary.Write(&tiff, order, v)
	}
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// HugePNG is a valid 1×1 grey PNG whose header (with a correct checksum) claims w×h:
// a few dozen bytes on disk that a decoder would expand to w×h bytes.
func HugePNG(w, h uint32) []byte {
	var in bytes.Buffer
	if err := png.Encode(&in, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		panic(err)
	}
	b := in.Bytes()
	// 8-byte signature, then IHDR: length (4), "IHDR" (4), width, height, 5 more bytes, CRC.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}
