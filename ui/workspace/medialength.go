package workspace

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"kfdesk/api/medialen"
)

// mediaLength is how long a downloaded voice or video file plays (0 when it cannot
// be told: a format api/medialen does not read, such as speex, or a damaged file).
// It reads the file's headers, so it runs where the workspace assembles messages,
// off the UI thread; a file once read is remembered while its size and time stay.
func mediaLength(path string) time.Duration {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	key := mediaLengthKey{path, st.Size(), st.ModTime()}
	if d, ok := mediaLengths.Load(key); ok {
		return d.(time.Duration)
	}
	d, err := medialen.File(path)
	if err != nil {
		if !errors.Is(err, medialen.ErrUnknownFormat) {
			slog.Debug("inbox: cannot tell a media file's length", "file", path, "err", err)
		}
		d = 0
	}
	mediaLengths.Store(key, d)
	return d
}

type mediaLengthKey struct {
	path string
	size int64
	mod  time.Time
}

var mediaLengths sync.Map // mediaLengthKey → time.Duration
