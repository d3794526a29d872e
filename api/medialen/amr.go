package medialen

import (
	"bufio"
	"errors"
	"io"
	"time"
)

// AMR storage format, RFC 4867 §5 (https://www.rfc-editor.org/rfc/rfc4867#section-5):
// the magic, then frames of one header octet (P, FT: 4 bits, Q, P P) and the
// frame's speech bits packed into octets. Every frame, NO_DATA included, is 20 ms.
var (
	amrNBMagic = []byte("#!AMR\n")
	amrWBMagic = []byte("#!AMR-WB\n")
)

const amrFrame = 20 * time.Millisecond

// amrSizes are the octets after the header octet for each frame type; -1 is a type
// the format leaves for future use (a file with one is damaged).
type amrSizes [16]int

// amrNB: 3GPP TS 26.101 Table 1a (modes 4.75–12.2 kbit/s: 95–244 bits, SID: 39
// bits, rounded up to octets as RFC 4867 §5.3 stores them); 9–14 future use; 15 NO_DATA.
var amrNB = amrSizes{12, 13, 15, 17, 19, 20, 26, 31, 5, -1, -1, -1, -1, -1, -1, 0}

// amrWB: 3GPP TS 26.201 Table 1a (modes 6.60–23.85 kbit/s: 132–477 bits, SID: 40
// bits); 10–13 future use; 14 speech lost, 15 NO_DATA.
var amrWB = amrSizes{17, 23, 32, 36, 40, 46, 50, 58, 60, 5, -1, -1, -1, -1, 0, 0}

// amrDuration counts the frames after the magic (at offset start).
func amrDuration(r io.ReadSeeker, start int64, sizes *amrSizes) (time.Duration, error) {
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(r, 32<<10)
	var frames int64
	for {
		h, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return time.Duration(frames) * amrFrame, nil
		}
		if err != nil {
			return 0, err
		}
		n := sizes[h>>3&0x0f]
		if n < 0 {
			return 0, damaged("AMR frame %d has reserved type %d", frames+1, h>>3&0x0f)
		}
		if d, err := br.Discard(n); err != nil {
			if d < n && errors.Is(err, io.EOF) {
				return 0, damaged("AMR frame %d cut short", frames+1)
			}
			return 0, err
		}
		frames++
	}
}
