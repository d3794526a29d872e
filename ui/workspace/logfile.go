package workspace

import (
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// The window's trace in the data folder: its log, and the Go runtime's report when it
// crashes (main hands CrashFile to runtime/debug.SetCrashOutput). Neither ever holds a
// secret or a customer's message text: log errors and what the app did, never values.
const (
	LogFileName   = "kfdesk.log"
	CrashFileName = "kfdesk-crash.log"

	logMaxBytes   = 1 << 20 // then kfdesk.log becomes kfdesk.1.log
	logKeep       = 3       // old files kept: kfdesk.1.log … kfdesk.3.log
	crashMaxBytes = 1 << 20 // then kfdesk-crash.log becomes kfdesk-crash.1.log
)

// LogPath is the window's log in the data folder dir.
func LogPath(dir string) string { return filepath.Join(dir, LogFileName) }

// StartLog makes the data folder's log slog's default logger until stop is called.
// The standard log package (where Fyne writes its errors) then goes there too.
func StartLog(dir string) (stop func(), err error) {
	f, err := openLogFile(LogPath(dir), logMaxBytes, logKeep)
	if err != nil {
		return nil, err
	}
	old, oldOut, oldFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewTextHandler(f, nil)))
	return func() {
		slog.SetDefault(old) // does not give the log package its output back:
		log.SetOutput(oldOut)
		log.SetFlags(oldFlags)
		_ = f.Close() // every write went straight to the file
	}, nil
}

// CrashFile opens the data folder's crash report file for appending (the previous
// reports move to kfdesk-crash.1.log once they pass 1 MB).
func CrashFile(dir string) (*os.File, error) {
	path := filepath.Join(dir, CrashFileName)
	if fi, err := os.Stat(path); err == nil && fi.Size() > crashMaxBytes {
		_ = os.Rename(path, numbered(path, 1)) // else the file goes on growing: no report is lost
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// logFile is an append-only file that, before it would pass max bytes, moves to
// NAME.1.log (NAME.1.log to NAME.2.log, …, dropping the oldest) and starts again, so
// the trace stays small and the last keep files are kept. A few lines by hand rather
// than a library: one writer (the window; a single instance per data folder), no
// compression, no background goroutine.
type logFile struct {
	mu     sync.Mutex
	path   string
	max    int64
	keep   int
	f      *os.File
	size   int64
	closed bool
}

func openLogFile(path string, max int64, keep int) (*logFile, error) {
	l := &logFile{path: path, max: max, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logFile) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // opened for nothing
		return err
	}
	l.f, l.size = f, fi.Size()
	return nil
}

func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, os.ErrClosed
	}
	if l.f != nil && l.size > 0 && l.size+int64(len(p)) > l.max {
		// A rename that fails (a program holding an old file open on Windows) leaves
		// this file to grow on rather than lose the line.
		l.rotate()
	}
	if l.f == nil { // the last reopen failed: try again
		if err := l.open(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate closes the file, shifts the numbered files up and opens a new one.
func (l *logFile) rotate() {
	_ = l.f.Close() // every Write went straight to the file: nothing is lost
	l.f = nil
	for i := l.keep - 1; i >= 0; i-- {
		from := l.path
		if i > 0 {
			from = numbered(l.path, i)
		}
		_ = os.Rename(from, numbered(l.path, i+1)) // replaces the oldest; a gap (no .2 yet) is fine
	}
	_ = l.open() // on failure Write tries again
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// numbered is path with n before its extension: kfdesk.log → kfdesk.2.log.
func numbered(path string, n int) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s.%d%s", strings.TrimSuffix(path, ext), n, ext)
}
