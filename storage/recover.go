package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// SetAside renames a damaged database and its -wal and -shm files to
// kfdesk-damaged-YYYYMMDD-HHMMSS.db(-wal, -shm) in the same folder: never deleted, so
// nothing is lost that a specialist (or a later KF Desk) could still read. The WAL
// goes with its database: it holds committed changes, and next to a new file it would
// be applied to the wrong database. It returns the new name of the database file
// ("" when there was none).
func SetAside(path string, now time.Time) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	dir := filepath.Dir(path)
	base := "kfdesk-damaged-" + now.Format("20060102-150405")
	aside := filepath.Join(dir, base+".db")
	for i := 2; exists(aside) || exists(aside+"-wal"); i++ {
		aside = filepath.Join(dir, base+"-"+strconv.Itoa(i)+".db")
	}
	var moved []string
	undo := func() {
		for _, suffix := range moved {
			_ = os.Rename(aside+suffix, path+suffix)
		}
	}
	for _, suffix := range []string{"-wal", "-shm", ""} {
		if !exists(path + suffix) {
			continue
		}
		if err := os.Rename(path+suffix, aside+suffix); err != nil {
			undo()
			return "", fmt.Errorf("could not set the damaged database aside: %w", err)
		}
		moved = append(moved, suffix)
	}
	return aside, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// RestoreBackup puts a copy of backup in the place of the database at path. The
// backup is copied, not moved (it stays a backup), and checked with quick_check
// before anything changes; the database found at path (if any) is set aside
// (SetAside), never deleted. It returns where that one went.
func RestoreBackup(ctx context.Context, path, backup string, now time.Time) (aside string, err error) {
	if same(path, backup) {
		return "", errors.New("the backup is the database itself")
	}
	tmp := path + ".restoring"
	if err := copyFile(backup, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	defer os.Remove(tmp) // gone once renamed
	if err := quickCheck(ctx, tmp); err != nil {
		return "", fmt.Errorf("the backup %s failed its check: %w", backup, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} { // quick_check's read-only open may leave them; the backup has none
		_ = os.Remove(tmp + suffix)
	}
	if aside, err = SetAside(path, now); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return aside, err
	}
	return aside, nil
}

// copyFile copies src to dst (created or truncated) and syncs it to disk.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Sync(), out.Close())
}
