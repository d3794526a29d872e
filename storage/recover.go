package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"kfdesk/api"
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
			return "", api.Describe(err, "无法把损坏的数据库改名保留（没有改动任何文件）："+path, "Could not set the damaged database aside (no file was changed): "+path)
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
		return "", api.Describe(nil, "这个备份就是数据库本身，请选择另一个备份文件。", "That backup is the database itself: choose another backup file.")
	}
	tmp := path + ".restoring"
	if err := copyFile(backup, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", api.Describe(err, "无法读取备份文件（数据库没有被改动）："+backup, "Could not read the backup file (the database was not changed): "+backup)
	}
	defer os.Remove(tmp) // gone once renamed
	if err := quickCheck(ctx, tmp); err != nil {
		return "", api.Describe(err, "备份文件没有通过检查，可能已损坏（数据库没有被改动）："+backup, "The backup file failed its check and may be damaged (the database was not changed): "+backup)
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
