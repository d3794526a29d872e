package storage

import (
	"fmt"
	"os"
	"path/filepath"

	"kfdesk/api"

	"github.com/gofrs/flock"
)

// LockFileName is the lock the window holds in the data folder while it is open.
const LockFileName = "kfdesk.lock"

// ErrAlreadyOpen: another KF Desk window has the data folder.
var ErrAlreadyOpen error = api.Describe(nil, "KF Desk 已经打开了。", "KF Desk is already open.")

// Lock is an exclusive, process-wide lock on a data folder. The operating system
// drops it when the process ends, also when it crashes, so a stale lock file never
// keeps KF Desk from starting.
type Lock struct{ f *flock.Flock }

// LockDataDir takes the window's lock on dir without waiting. It returns
// ErrAlreadyOpen when another process holds it. Only the window takes it: one window
// per data folder keeps two copies of the same screens from fighting over drafts and
// settings, while command-line runs (a scheduled sync) share the database safely
// through SQLite's own locking.
func LockDataDir(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f := flock.New(filepath.Join(dir, LockFileName))
	ok, err := f.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", f.Path(), err)
	}
	if !ok {
		return nil, ErrAlreadyOpen
	}
	return &Lock{f}, nil
}

// Release gives the lock back.
func (l *Lock) Release() error { return l.f.Unlock() }
