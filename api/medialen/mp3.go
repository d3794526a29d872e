package medialen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// MP3: MPEG-1/2/2.5 audio frames (ISO/IEC 11172-3 §2.4.1.3, 13818-3), after any
// ID3v2 tags (https://id3.org/id3v2.4.0-structure §3.1). The length is the frame
// count of a Xing/Info or VBRI header in the first frame when there is one, else
// the frames counted one by one (a constant bit rate file has no such header).

// mp3Frame is one frame header, decoded.
type mp3Frame struct {
	size    int // octets, header included
	samples int // per channel
	rate    int // samples a second
	side    int // octets of side information (where a Xing header starts after the header)
}

var (
	mp3Rates = [4][3]int{ // [version bits][rate index]: 00 MPEG-2.5, 10 MPEG-2, 11 MPEG-1
		{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000}}
	// kbit/s by bit-rate index 1–14: MPEG-1 layers I, II, III; MPEG-2/2.5 layer I, layers II and III.
	mp3Bitrates = [5][15]int{
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	}
)

// mp3Header decodes a frame header, or nil when h (4 octets) is not one: no sync,
// a reserved version, layer or rate, or a free-format bit rate (no frame size).
func mp3Header(h []byte) *mp3Frame {
	if h[0] != 0xFF || h[1]&0xE0 != 0xE0 {
		return nil
	}
	version, layer := h[1]>>3&3, 4-int(h[1]>>1&3) // layer bits 11 = I, 10 = II, 01 = III
	bi, ri, pad := int(h[2]>>4), int(h[2]>>2&3), int(h[2]>>1&1)
	if version == 1 || layer == 4 || bi == 0 || bi == 15 || ri == 3 {
		return nil
	}
	mpeg1 := version == 3
	table := layer - 1
	if !mpeg1 {
		table = min(layer+2, 4)
	}
	f := &mp3Frame{rate: mp3Rates[version][ri]}
	bitrate := mp3Bitrates[table][bi] * 1000
	switch {
	case layer == 1:
		f.samples, f.size = 384, (12*bitrate/f.rate+pad)*4
	case layer == 3 && !mpeg1:
		f.samples, f.size = 576, 72*bitrate/f.rate+pad
	default:
		f.samples, f.size = 1152, 144*bitrate/f.rate+pad
	}
	switch mono := h[3]>>6 == 3; {
	case mpeg1 && !mono:
		f.side = 32
	case mpeg1 || !mono:
		f.side = 17
	default:
		f.side = 9
	}
	return f
}

// mp3Search is how far past the tags the first frame may start (some encoders pad).
const mp3Search = 64 << 10

func mp3Duration(r io.ReadSeeker, size int64) (time.Duration, error) {
	if err := skipID3(r, size); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(r, 32<<10)
	// The first frame: a header whose next frame (if the file goes on) is one too.
	var first *mp3Frame
	for skipped := 0; ; skipped++ {
		h, err := br.Peek(4)
		if err != nil || skipped > mp3Search {
			return 0, damaged("no MP3 frame")
		}
		if f := mp3Header(h); f != nil {
			if next, err := br.Peek(f.size + 4); err != nil || mp3Header(next[f.size:]) != nil {
				first = f
				break
			}
		}
		_, _ = br.Discard(1)
	}
	// A Xing/Info or VBRI header in it says how many frames there are.
	if b, err := br.Peek(min(first.size, 4+first.side+12)); err == nil {
		if frames, tagged, counted := xingFrames(b, first); counted {
			return ticks(uint64(frames)*uint64(first.samples), uint64(first.rate))
		} else if tagged {
			_, _ = br.Discard(first.size) // a tag without the count: its frame is no audio
		}
	}
	if b, err := br.Peek(min(first.size, 4+32+18)); err == nil && len(b) == 54 && string(b[36:40]) == "VBRI" {
		return ticks(uint64(binary.BigEndian.Uint32(b[50:54]))*uint64(first.samples), uint64(first.rate))
	}
	var samples uint64
	for {
		h, err := br.Peek(4)
		if err != nil {
			break // the end, or a few octets of trailing junk
		}
		f := mp3Header(h)
		if f == nil || f.rate != first.rate {
			break // an ID3v1 or APE tag at the end, or junk: the audio stops here
		}
		if n, err := br.Discard(f.size); err != nil {
			if errors.Is(err, io.EOF) && n > 0 {
				break // the last frame cut short: what was counted stands
			}
			return 0, err
		}
		samples += uint64(f.samples)
	}
	if samples == 0 {
		return 0, damaged("no whole MP3 frame")
	}
	return ticks(samples, uint64(first.rate))
}

// xingFrames reads a Xing or Info header (LAME), which starts after the first
// frame's side information: tagged when there is one, counted when it says how
// many frames there are.
func xingFrames(b []byte, f *mp3Frame) (frames uint32, tagged, counted bool) {
	at := 4 + f.side
	if len(b) < at+12 {
		return 0, false, false
	}
	if tag := string(b[at : at+4]); tag != "Xing" && tag != "Info" {
		return 0, false, false
	}
	if binary.BigEndian.Uint32(b[at+4:])&1 == 0 {
		return 0, true, false
	}
	return binary.BigEndian.Uint32(b[at+8:]), true, true
}

// skipID3 seeks past the ID3v2 tags at the start, to where the audio begins.
func skipID3(r io.ReadSeeker, size int64) error {
	var pos int64
	for {
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return err
		}
		var h [10]byte
		if _, err := io.ReadFull(r, h[:]); err != nil || string(h[:3]) != "ID3" {
			break
		}
		if (h[6]|h[7]|h[8]|h[9])&0x80 != 0 {
			return damaged("ID3 tag size not syncsafe")
		}
		pos += 10 + (int64(h[6])<<21 | int64(h[7])<<14 | int64(h[8])<<7 | int64(h[9]))
		if h[5]&0x10 != 0 { // a footer follows the tag
			pos += 10
		}
		if pos > size {
			return damaged("ID3 tag runs past the end")
		}
	}
	_, err := r.Seek(pos, io.SeekStart)
	return err
}
