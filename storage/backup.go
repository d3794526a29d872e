package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"kfdesk/api"
)

// Backup writes a consistent copy of the database to dest, without the cached access
// tokens, replacing dest only once the copy is complete and checked. VACUUM INTO reads one snapshot, so the window and
// a running sync can keep writing meanwhile; the copy is also compacted. progress (may
// be nil) is called from another goroutine with the bytes written so far and the
// expected total. Cancelling ctx stops the copy and leaves dest untouched.
func (db *DB) Backup(ctx context.Context, dest string, progress func(done, total int64)) error {
	dest, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	if same(dest, db.path) {
		return api.Describe(nil, "备份文件不能覆盖数据库本身。", "The backup cannot replace the database itself.")
	}
	var pages, free, pageSize int64
	// Its own connection: the reader pool is query_only, which refuses VACUUM INTO, and
	// the writer must stay free for a sync running meanwhile.
	r, err := sql.Open("sqlite3", fileURI(db.path, "_busy_timeout=10000"))
	if err != nil {
		return err
	}
	defer r.Close()
	r.SetMaxOpenConns(1)
	if err := r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return err
	}
	_ = r.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free)
	if err := r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return err
	}
	total := (pages - free) * pageSize

	tmp := dest + ".partial-" + strconv.Itoa(os.Getpid())
	_ = os.Remove(tmp) // VACUUM INTO refuses an existing file
	defer os.Remove(tmp)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if progress == nil {
			return
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if fi, err := os.Stat(tmp); err == nil {
					progress(min(fi.Size(), total), total)
				}
			}
		}
	}()
	_, err = r.ExecContext(ctx, "VACUUM INTO ?", tmp)
	close(stop)
	<-done
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	if err := dropTokens(ctx, tmp); err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	if err := quickCheck(ctx, tmp); err != nil {
		return fmt.Errorf("the backup %s failed its check: %w", dest, err)
	}
	if progress != nil {
		progress(total, total)
	}
	return os.Rename(tmp, dest)
}

// dropTokens removes the cached access tokens from a copy: they are secrets, and a
// backup file may be handed to someone. secure_delete overwrites them on disk too.
// (They are fetched again on first use after a restore.)
func dropTokens(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite3", fileURI(path, "_journal_mode=DELETE&_secure_delete=on"))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	if _, err := c.ExecContext(ctx, "DELETE FROM tokens"); err != nil {
		return err
	}
	return c.Close()
}

// quickCheck opens a database file read-only and runs SQLite's quick_check on it.
func quickCheck(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite3", fileURI(path, "mode=ro"))
	if err != nil {
		return err
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("quick_check: %s", res)
	}
	return nil
}

// same reports whether two paths name the same existing file.
func same(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// BackupFileName is the suggested name of a backup made at t.
func BackupFileName(t time.Time) string {
	return "kfdesk-backup-" + t.Format("20060102-150405") + ".db"
}
