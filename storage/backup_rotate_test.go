package storage

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// integrity runs PRAGMA integrity_check (every page) on a database file.
func integrity(t *testing.T, path string) {
	t.Helper()
	c, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var res string
	if err := c.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("%s: integrity_check %q, %v", path, res, err)
	}
	// The full-text index agrees with the records it indexes.
	if _, err := c.Exec("INSERT INTO records_fts(records_fts) VALUES ('integrity-check')"); err != nil {
		t.Fatalf("%s: records_fts integrity-check: %v", path, err)
	}
}

// A backup taken while a sync writes page after page is one consistent snapshot.
func TestABackupDuringASyncIsConsistent(t *testing.T) {
	e := newSyncEnv(t)
	e.fill(3, 25000)
	e.fill(2, 15000)
	dir := filepath.Join(t.TempDir(), "backups")
	lockDir := filepath.Dir(e.db.Path())
	s := e.syncer()
	var taken []string
	var backupErr error
	s.Progress = func(p SyncProgress) {
		// Mid-sync: some pages stored, more to come. Each backup gets a day of its own.
		if p.Phase == PhaseFetching && p.Added > 0 && len(taken) < 3 && backupErr == nil {
			b, made, err := e.db.AutoBackup(context.Background(), lockDir, dir, time.Date(2026, 11, 1+len(taken), 0, 0, 0, 0, time.UTC))
			if err == nil && !made {
				err = errors.New("no backup made")
			}
			backupErr = err
			taken = append(taken, b.Path)
		}
	}
	p, err := s.Incremental(context.Background())
	if err != nil || backupErr != nil {
		t.Fatal(err, backupErr)
	}
	if len(taken) < 2 {
		t.Fatalf("only %d backups during the sync", len(taken))
	}
	for _, path := range taken {
		integrity(t, path)
		c, err := openRaw(path)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := c.QueryRow("SELECT count(*) FROM records").Scan(&n); err != nil || n == 0 || n >= p.Added {
			t.Errorf("%s: %d records of %d (mid-sync), %v", path, n, p.Added, err)
		}
		c.Close()
	}
}

// Only one process takes the automatic backup at a time: the other is told so and writes nothing.
func TestOnlyOneAutomaticBackupAtATime(t *testing.T) {
	db := openTemp(t)
	lockDir := filepath.Dir(db.Path())
	other := flock.New(filepath.Join(lockDir, BackupLockFileName))
	if ok, err := other.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	dir := filepath.Join(lockDir, AutoBackupDirName)
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := db.AutoBackup(context.Background(), lockDir, dir, day); !errors.Is(err, ErrBackupBusy) {
		t.Fatalf("err = %v, want ErrBackupBusy", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the second backup wrote something")
	}
	other.Unlock()
	if _, made, err := db.AutoBackup(context.Background(), lockDir, dir, day); err != nil || !made {
		t.Fatal(made, err)
	}
}

// openRaw opens a database file without KF Desk's migrations (a backup to look into).
func openRaw(path string) (*sql.DB, error) {
	return sql.Open("sqlite3", fileURI(path, "_busy_timeout=5000"))
}
