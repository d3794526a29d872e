package wechattest

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Media files that play for a known time, for the demo's voice and video messages
// and for tests: real players open them and api/medialen reads their length.

// AMR is an AMR-NB voice file (RFC 4867 §5.3: "#!AMR\n", then 20 ms frames) of d
// (rounded down to 20 ms) of 12.2 kbit/s frames: a header octet (frame type 7,
// quality 1) and 31 octets of speech bits, zero here.
func AMR(d time.Duration) []byte {
	frame := append([]byte{7<<3 | 0x04}, make([]byte, 31)...)
	return append([]byte("#!AMR\n"), bytes.Repeat(frame, int(d/(20*time.Millisecond)))...)
}

// MP4 is a minimal MP4 file of d (ms precision): ftyp, then moov holding only the
// movie header (ISO/IEC 14496-12 §8.2.2, mvhd version 0, timescale 1000).
func MP4(d time.Duration) []byte {
	box := func(typ string, content []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte(nil), uint32(8+len(content))), append([]byte(typ), content...)...)
	}
	mvhd := make([]byte, 100) // version 0, flags, creation and modification 0
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], uint32(d.Milliseconds()))
	binary.BigEndian.PutUint32(mvhd[20:], 0x00010000) // rate 1.0
	binary.BigEndian.PutUint16(mvhd[24:], 0x0100)     // volume 1.0
	// The unity matrix.
	for i, v := range []uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		binary.BigEndian.PutUint32(mvhd[36+4*i:], v)
	}
	binary.BigEndian.PutUint32(mvhd[96:], 1) // next track ID
	return append(box("ftyp", []byte("isom\x00\x00\x02\x00isommp41")), box("moov", box("mvhd", mvhd))...)
}
