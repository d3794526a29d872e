package medialen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kfdesk/api/medialen"
)

// amrFile is an AMR file (RFC 4867 §5.3) of the given frames, each a header octet
// of its type and that type's octets of (zero) speech bits.
func amrFile(magic string, sizes map[byte]int, types ...byte) []byte {
	b := []byte(magic)
	for _, ft := range types {
		b = append(b, ft<<3|0x04) // Q = 1
		b = append(b, make([]byte, sizes[ft])...)
	}
	return b
}

var (
	nbSizes = map[byte]int{0: 12, 7: 31, 8: 5, 15: 0}
	wbSizes = map[byte]int{0: 17, 8: 60, 9: 5, 14: 0, 15: 0}
)

func repeat(ft byte, n int) []byte { return bytes.Repeat([]byte{ft}, n) }

// mp3Frames is n MPEG-1 layer III frames of 128 kbit/s at 44.1 kHz (417 octets,
// 1152 samples each); xing > 0 puts a Xing header saying that many frames first.
func mp3Frames(n int, xing uint32) []byte {
	frame := func() []byte {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x00}) // sync, MPEG-1, layer III, no CRC; 128k, 44.1k; stereo
		return f
	}
	var b []byte
	if xing > 0 {
		f := frame()
		copy(f[4+32:], "Xing")
		binary.BigEndian.PutUint32(f[4+32+4:], 1) // frames field present
		binary.BigEndian.PutUint32(f[4+32+8:], xing)
		b = append(b, f...)
	}
	for range n {
		b = append(b, frame()...)
	}
	return b
}

// id3 is an ID3v2.4 tag of n octets of content that look like MP3 frames (a
// picture's bytes might): only skipping the tag keeps them out of the count.
func id3(n int) []byte {
	content := append(mp3Frames(n/417, 0), make([]byte, n%417)...)
	return append([]byte{'I', 'D', '3', 4, 0, 0, byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}, content...)
}

func box(typ string, content ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(bytes.Join(content, nil))))
	return append(append(b, typ...), bytes.Join(content, nil)...)
}

// mvhd is a movie header box of the version, timescale and duration.
func mvhd(version byte, scale uint32, dur uint64) []byte {
	b := []byte{version, 0, 0, 0}
	if version == 1 {
		b = append(b, make([]byte, 16)...)
		b = binary.BigEndian.AppendUint32(b, scale)
		b = binary.BigEndian.AppendUint64(b, dur)
	} else {
		b = append(b, make([]byte, 8)...)
		b = binary.BigEndian.AppendUint32(b, scale)
		b = binary.BigEndian.AppendUint32(b, uint32(dur))
	}
	return box("mvhd", append(b, make([]byte, 80)...)) // rate, volume, matrix, next track id…
}

var ftyp = box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41"))

// bigMdat is a media data box with a 64-bit size (size field 1).
func bigMdat(n int) []byte {
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = append(b, "mdat"...)
	b = binary.BigEndian.AppendUint64(b, uint64(16+n))
	return append(b, make([]byte, n)...)
}

func TestDurationOfEachFormat(t *testing.T) {
	trak := box("trak", box("tkhd", make([]byte, 84)))
	cases := []struct {
		name string
		data []byte
		want time.Duration
	}{
		{"AMR-NB 12.2k, 7 s", amrFile("#!AMR\n", nbSizes, repeat(7, 350)...), 7 * time.Second},
		{"AMR-NB with SID and NO_DATA frames", amrFile("#!AMR\n", nbSizes, append(append(repeat(7, 100), repeat(8, 1)...), repeat(15, 49)...)...), 3 * time.Second},
		{"AMR-NB 4.75k", amrFile("#!AMR\n", nbSizes, repeat(0, 65)...), 1300 * time.Millisecond},
		{"AMR-NB, no frames", []byte("#!AMR\n"), 0},
		{"AMR-WB 23.85k and SID, lost, NO_DATA", amrFile("#!AMR-WB\n", wbSizes, append(repeat(8, 200), 9, 14, 15, 0)...), 4080 * time.Millisecond},
		{"MP3 CBR", mp3Frames(270, 0), 270 * 1152 * time.Second / 44100},
		{"MP3 CBR after ID3v2, before ID3v1", append(append(id3(3000), mp3Frames(100, 0)...), append([]byte("TAG"), make([]byte, 125)...)...), 100 * 1152 * time.Second / 44100},
		{"MP3 VBR with a Xing header", mp3Frames(3, 2500), 2500 * 1152 * time.Second / 44100},
		{"MP4, mvhd version 0", append(ftyp, box("moov", mvhd(0, 1000, 83_456), trak)...), 83456 * time.Millisecond},
		{"MP4, mvhd version 1", append(ftyp, box("moov", mvhd(1, 90000, 90000*3725+45000))...), 3725*time.Second + 500*time.Millisecond},
		{"MP4, moov after a large mdat", bytes.Join([][]byte{ftyp, box("free"), bigMdat(1 << 20), box("moov", trak, mvhd(0, 600, 600*12))}, nil), 12 * time.Second},
		{"MOV, no ftyp", append(box("wide"), box("moov", mvhd(0, 600, 300))...), 500 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := medialen.Duration(bytes.NewReader(c.data))
			if err != nil || got != c.want {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "a.amr")
	if err := os.WriteFile(path, cases[0].data, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := medialen.File(path); err != nil || got != 7*time.Second {
		t.Fatalf("File: %v, %v", got, err)
	}
	if _, err := medialen.File(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
}

func TestDurationRefusesDamagedAndUnknownInput(t *testing.T) {
	amr := amrFile("#!AMR\n", nbSizes, repeat(7, 50)...)
	mp4 := append(ftyp, box("moov", mvhd(0, 1000, 5000))...)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, medialen.ErrUnknownFormat},
		{"text", []byte("hello, this is not a voice message"), medialen.ErrUnknownFormat},
		{"JPEG", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), medialen.ErrUnknownFormat},
		{"speex", []byte("#!SILK_V3\x00\x01"), medialen.ErrUnknownFormat},
		{"AMR cut inside a frame", amr[:len(amr)-10], medialen.ErrDamaged},
		{"AMR-NB reserved frame type", append(amrFile("#!AMR\n", nbSizes, 7), 12<<3|4), medialen.ErrDamaged},
		{"AMR-WB reserved frame type", append(amrFile("#!AMR-WB\n", wbSizes, 8), 11<<3|4), medialen.ErrDamaged},
		{"MP3 sync then junk", append([]byte{0xFF, 0xFB, 0x90, 0x00}, bytes.Repeat([]byte{0x11}, 200)...), medialen.ErrDamaged},
		{"MP3 free-format bit rate (no frame sizes)", append([]byte{0xFF, 0xFB, 0x00, 0x00}, make([]byte, 500)...), medialen.ErrUnknownFormat},
		{"ID3 tag and nothing after", id3(100), medialen.ErrDamaged},
		{"ID3 tag longer than the file", id3(100)[:50], medialen.ErrDamaged},
		{"MP4 without moov", append(ftyp, box("mdat", make([]byte, 100))...), medialen.ErrDamaged},
		{"MP4 cut inside mvhd", mp4[:len(mp4)-90], medialen.ErrDamaged},
		{"MP4 moov without mvhd", append(ftyp, box("moov", box("trak"))...), medialen.ErrDamaged},
		{"MP4 box of 4 octets", append(ftyp, 0, 0, 0, 4, 'f', 'r', 'e', 'e'), medialen.ErrDamaged},
		{"MP4 timescale 0", append(ftyp, box("moov", mvhd(0, 0, 5000))...), medialen.ErrDamaged},
		{"MP4 duration unknown", append(ftyp, box("moov", mvhd(0, 1000, 0xFFFFFFFF))...), medialen.ErrDamaged},
		{"MP4 mvhd version 2", append(ftyp, box("moov", mvhd(2, 1000, 5000))...), medialen.ErrDamaged},
		{"MP4 64-bit size past the end", append(ftyp, bigMdat(10)[:16]...), medialen.ErrDamaged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := medialen.Duration(bytes.NewReader(c.data)); !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// FuzzDuration: no input makes Duration panic, hang or say a negative length.
func FuzzDuration(f *testing.F) {
	for _, seed := range [][]byte{
		amrFile("#!AMR\n", nbSizes, 7, 8, 15, 0),
		amrFile("#!AMR-WB\n", wbSizes, 8, 9, 14),
		mp3Frames(3, 0),
		mp3Frames(1, 10),
		append(id3(20), mp3Frames(2, 0)...),
		append(ftyp, box("moov", mvhd(0, 1000, 5000))...),
		append(append(ftyp, bigMdat(40)...), box("moov", mvhd(1, 1000, 5000))...),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := medialen.Duration(bytes.NewReader(b))
		if err == nil && d < 0 {
			t.Fatalf("negative length %v", d)
		}
		if err != nil && d != 0 {
			t.Fatalf("length %v with error %v", d, err)
		}
		if err != nil && !errors.Is(err, medialen.ErrDamaged) && !errors.Is(err, medialen.ErrUnknownFormat) {
			t.Fatalf("error %v wraps neither ErrDamaged nor ErrUnknownFormat", err)
		}
	})
}

// countingReader counts the octets read through it.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (c *countingReader) Seek(off int64, whence int) (int64, error) { return c.r.Seek(off, whence) }

// An MP4 whose moov comes after 8 MB of media data is read by its box headers:
// a few hundred octets, not the file.
func TestMP4IsReadByItsHeadersOnly(t *testing.T) {
	file := bytes.Join([][]byte{ftyp, bigMdat(8 << 20), box("moov", box("trak", make([]byte, 4000)), mvhd(0, 1000, 61_000))}, nil)
	r := &countingReader{r: bytes.NewReader(file)}
	if d, err := medialen.Duration(r); err != nil || d != 61*time.Second {
		t.Fatalf("%v, %v", d, err)
	}
	if r.n > 512 {
		t.Fatalf("read %d octets of a %d-octet file", r.n, len(file))
	}
}
