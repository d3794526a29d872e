package medialen

import (
	"encoding/binary"
	"io"
	"time"
)

// MP4 and QuickTime MOV: a sequence of boxes (ISO/IEC 14496-12 §4.2: 32-bit size,
// 4-character type; size 1 = a 64-bit size follows, 0 = to the end of the file).
// The length is the movie header's (mvhd, §8.2.2: version 0 with 32-bit times,
// version 1 with 64-bit) duration over its timescale. The moov box may come after
// the media data (mdat), so the walk seeks from box to box, reading only headers.

// mp4TopBoxes are the box types a file may start with.
var mp4TopBoxes = map[string]bool{"ftyp": true, "moov": true, "mdat": true, "free": true, "skip": true, "wide": true}

// mp4Boxes bounds the boxes walked, so a file of empty boxes cannot keep it busy.
const mp4Boxes = 10000

func mp4Duration(r io.ReadSeeker, size int64) (time.Duration, error) {
	moov, moovEnd, err := findBox(r, 0, size, "moov")
	if err != nil {
		return 0, err
	}
	mvhd, mvhdEnd, err := findBox(r, moov, moovEnd, "mvhd")
	if err != nil {
		return 0, err
	}
	if _, err := r.Seek(mvhd, io.SeekStart); err != nil {
		return 0, err
	}
	var b [32]byte // version 1: version+flags 4, times 8+8, timescale 4, duration 8
	n := min(int64(len(b)), mvhdEnd-mvhd)
	if _, err := io.ReadFull(r, b[:n]); err != nil {
		return 0, damaged("mvhd cut short")
	}
	var scale, dur uint64
	switch {
	case b[0] == 0 && n >= 20:
		scale, dur = uint64(binary.BigEndian.Uint32(b[12:])), uint64(binary.BigEndian.Uint32(b[16:]))
		if dur == 0xFFFFFFFF {
			return 0, damaged("mvhd duration unknown")
		}
	case b[0] == 1 && n >= 32:
		scale, dur = uint64(binary.BigEndian.Uint32(b[20:])), binary.BigEndian.Uint64(b[24:])
		if dur == 1<<64-1 {
			return 0, damaged("mvhd duration unknown")
		}
	default:
		return 0, damaged("mvhd version %d, %d octets", b[0], n)
	}
	return ticks(dur, scale)
}

// findBox finds the box of type typ among those from start to end and returns
// where its content begins and ends.
func findBox(r io.ReadSeeker, start, end int64, typ string) (from, to int64, err error) {
	pos := start
	for i := 0; i < mp4Boxes && pos+8 <= end; i++ {
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return 0, 0, err
		}
		var h [16]byte
		if _, err := io.ReadFull(r, h[:8]); err != nil {
			return 0, 0, damaged("box header cut short")
		}
		size, head := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch size {
		case 0:
			size = end - pos
		case 1:
			if _, err := io.ReadFull(r, h[8:]); err != nil {
				return 0, 0, damaged("box header cut short")
			}
			big := binary.BigEndian.Uint64(h[8:])
			if big > uint64(end-pos) {
				return 0, 0, damaged("box %q runs past its end", h[4:8])
			}
			size, head = int64(big), 16
		}
		if size < head {
			return 0, 0, damaged("box %q of %d octets", h[4:8], size)
		}
		if string(h[4:8]) == typ {
			return pos + head, min(pos+size, end), nil
		}
		pos += size
	}
	return 0, 0, damaged("no %s box", typ)
}
