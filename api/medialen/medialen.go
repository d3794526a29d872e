// Package medialen tells how long a voice or video file plays, from its headers
// alone: AMR-NB and AMR-WB (WeChat voice), MP3 (voice) and MP4/MOV (video), the
// formats of WeChat's temporary media
// (https://developers.weixin.qq.com/doc/offiaccount/en/Asset_Management/New_temporary_materials.html).
// It reads what it needs and seeks over the rest; input it does not know or cannot
// make sense of is an error, never a panic. No Fyne, SQL or HTTP.
package medialen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// Errors. Every error Duration returns wraps one of these.
var (
	ErrUnknownFormat = errors.New("medialen: not an AMR, MP3 or MP4 file")
	ErrDamaged       = errors.New("medialen: damaged file")
)

// File is Duration of the file at path.
func File(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return Duration(f)
}

// Duration is how long the media in r plays, the format told by its first bytes.
func Duration(r io.ReadSeeker) (time.Duration, error) {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	head := make([]byte, 12)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, amrWBMagic):
		return amrDuration(r, int64(len(amrWBMagic)), &amrWB)
	case bytes.HasPrefix(head, amrNBMagic):
		return amrDuration(r, int64(len(amrNBMagic)), &amrNB)
	case bytes.HasPrefix(head, []byte("ID3")) || (len(head) >= 4 && mp3Header(head) != nil):
		return mp3Duration(r, size)
	case len(head) >= 8 && mp4TopBoxes[string(head[4:8])]:
		return mp4Duration(r, size)
	}
	return 0, ErrUnknownFormat
}

// damaged is an ErrDamaged saying what.
func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, args...))
}

// ticks is n units of 1/rate second, without overflowing.
func ticks(n, rate uint64) (time.Duration, error) {
	if rate == 0 {
		return 0, damaged("time scale 0")
	}
	secs, rem := n/rate, n%rate
	if secs > uint64(math.MaxInt64/int64(time.Second))-1 {
		return 0, damaged("length out of range")
	}
	// rem < rate < 2^33 (MP4 time scales are 32-bit), so rem*1e9 fits in 64 bits.
	return time.Duration(secs)*time.Second + time.Duration(rem*uint64(time.Second)/rate), nil
}
