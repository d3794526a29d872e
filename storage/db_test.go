package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Guard: nothing in these tests may reach the real OS keyring. Tests of the
	// fallback unset this and inject a fake probe.
	os.Setenv("KFDESK_SECRETS", "file")
	os.Exit(m.Run())
}

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "sub", DBFileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestOpenCreatesPrivateDirAndWAL(t *testing.T) {
	// Space, '#', '%' and Chinese: a DSN that is not escaped would cut the path at '#'.
	dir := filepath.Join(t.TempDir(), "客服 data#1%", "kfdesk")
	path := filepath.Join(dir, DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Path() != path {
		t.Fatalf("Path() = %q", db.Path())
	}
	if err := db.SetSetting(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("dir mode %v %v", fi.Mode(), err)
		}
	}
	for _, pool := range []*sql.DB{db.Writer(), db.Reader()} {
		var mode string
		if err := pool.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode %q %v", mode, err)
		}
	}
}

func TestFTS5TrigramUsable(t *testing.T) {
	db := openTemp(t)
	if err := requireFTS5(context.Background(), db.Reader()); err != nil {
		t.Fatal(err)
	}
	w := db.Writer()
	if _, err := w.Exec("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram')"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("INSERT INTO t(body) VALUES ('请问退款多久到账'), ('发货了吗'), ('refund please')"); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{`"退款多"`: 1, `"und"`: 1, `"到账了"`: 0} {
		var n int
		if err := db.Reader().QueryRow(`SELECT count(*) FROM t WHERE t MATCH ?`, q).Scan(&n); err != nil || n != want {
			t.Fatalf("MATCH %s: %d %v, want %d", q, n, err, want)
		}
	}
}

func TestReaderSeesCommittedStateDuringWrite(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.SetSetting(ctx, "k", "before"); err != nil {
		t.Fatal(err)
	}
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec("UPDATE settings SET value='during' WHERE key='k'"); err != nil {
			return err
		}
		v, _, err := db.Setting(ctx, "k") // reader pool, while the write is open
		if err == nil && v != "before" {
			err = fmt.Errorf("reader saw %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := db.Setting(ctx, "k"); v != "during" {
		t.Fatalf("after commit: %q", v)
	}
}

func TestReaderIsQueryOnly(t *testing.T) {
	db := openTemp(t)
	if _, err := db.Reader().Exec("INSERT INTO settings(key, value) VALUES ('k', 'v')"); err == nil {
		t.Fatal("a write through Reader() succeeded")
	}
}

func TestWriteTxRollsBack(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec("INSERT INTO settings(key, value) VALUES ('a', '1')"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = db.WriteTx(ctx, func(tx *sql.Tx) error {
			_, _ = tx.Exec("INSERT INTO settings(key, value) VALUES ('b', '1')")
			panic("bug in a caller")
		})
	}()
	// The only writer connection must be free again, and nothing kept.
	ctx2, cancel := context.WithTimeout(ctx, 5e9)
	defer cancel()
	if err := db.SetSetting(ctx2, "c", "1"); err != nil {
		t.Fatalf("writer stuck after a panic: %v", err)
	}
	for _, k := range []string{"a", "b"} {
		if _, ok, _ := db.Setting(ctx, k); ok {
			t.Fatalf("%s was committed", k)
		}
	}
}

// Read-then-write transactions from many goroutines: with several write connections and
// deferred BEGIN this fails at once with "database is locked" (a lock upgrade the busy
// timeout cannot help), and updates get lost.
func TestConcurrentWritersDoNotLock(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.SetSetting(ctx, "counter", "0"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				errs <- db.WriteTx(ctx, func(tx *sql.Tx) error {
					var v string
					if err := tx.QueryRow("SELECT value FROM settings WHERE key='counter'").Scan(&v); err != nil {
						return err
					}
					n, _ := strconv.Atoi(v)
					_, err := tx.Exec("UPDATE settings SET value=? WHERE key='counter'", strconv.Itoa(n+1))
					return err
				})
				_, _, err := db.Setting(ctx, "counter")
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v, _, _ := db.Setting(ctx, "counter"); v != "200" {
		t.Fatalf("counter = %s, want 200", v)
	}
}

// Switching a file to WAL while another connection writes to it answers SQLITE_BUSY at
// once, without waiting for busy_timeout; Open must wait that out.
func TestOpenWaitsWhileAnotherConnectionWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	other, err := sql.Open("sqlite3", "file:"+path) // a fresh file, still in rollback-journal mode
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("CREATE TABLE other(x)"); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(300 * time.Millisecond); _ = tx.Commit() }()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// The window and the CLI may open a fresh data folder at the same moment.
func TestConcurrentOpenOfFreshDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			db, err := Open(path)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, _ := migrations(migrationFS)
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("%d migrations recorded, want %d (%v)", n, len(ms), err)
	}
}
