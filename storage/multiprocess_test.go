package storage

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// The tests here start copies of the test binary as separate processes (the window
// and a scheduled `kfdesk records sync`, say), because locks and SQLite's file locking
// only show what they are worth across processes.

const helperEnv = "KFDESK_STORAGE_HELPER"

// TestHelperProcess is not a test: it is the other process. KFDESK_STORAGE_HELPER
// says what to do: "write" (rows into the database at KFDESK_TEST_PATH) or "lock"
// (take the data folder's lock, say so, then wait to be killed).
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("KFDESK_TEST_PATH")
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("helper process for the multi-process tests")
	case "write":
		err := writeRows(path, os.Getenv("KFDESK_TEST_ID"), writesPerProcess)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "lock":
		if _, err := LockDataDir(path); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		select {}
	}
	os.Exit(0)
}

const writesPerProcess = 150

// writeRows opens the database (running the migrations if nobody has yet) and writes
// n rows one transaction each, plus one transaction of n rows, interleaving with the
// other writers.
func writeRows(path, id string, n int) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	for i := range n {
		if err := db.SetSetting(ctx, fmt.Sprintf("w-%s-%d", id, i), id); err != nil {
			return err
		}
	}
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			if _, err := tx.ExecContext(ctx, "INSERT INTO settings(key, value) VALUES (?, ?)", fmt.Sprintf("b-%s-%d", id, i), id); err != nil {
				return err
			}
		}
		return nil
	})
}

func helper(t *testing.T, mode, path, id string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "KFDESK_TEST_PATH="+path, "KFDESK_TEST_ID="+id)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestConcurrentProcessesDoNotCorruptDatabase(t *testing.T) {
	// A fresh path: the processes also race to create the schema.
	path := filepath.Join(t.TempDir(), DBFileName)
	const procs = 3
	var cmds []*exec.Cmd
	for i := range procs {
		c := helper(t, "write", path, strconv.Itoa(i))
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	// This process writes at the same time, like the window next to a scheduled sync.
	if err := writeRows(path, "main", writesPerProcess); err != nil {
		t.Error(err)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.Reader().QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var n, migrationsApplied int
	if err := db.Reader().QueryRow("SELECT count(*) FROM settings WHERE key LIKE 'w-%' OR key LIKE 'b-%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := (procs + 1) * 2 * writesPerProcess; n != want {
		t.Fatalf("%d rows written, want %d", n, want)
	}
	_ = db.Reader().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&migrationsApplied)
	if ms, _ := migrations(migrationFS); migrationsApplied != len(ms) {
		t.Fatalf("%d migrations recorded, want %d", migrationsApplied, len(ms))
	}
}

func TestSecondProcessCannotTakeTheWindowLock(t *testing.T) {
	dir := t.TempDir()
	other := helper(t, "lock", dir, "")
	out, err := other.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}

	if _, err := LockDataDir(dir); !errors.Is(err, ErrAlreadyOpen) {
		t.Fatalf("second lock: err = %v, want ErrAlreadyOpen", err)
	}

	// The first window crashes: the OS drops its lock and the lock file left behind
	// does not keep KF Desk from starting.
	if err := other.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = other.Wait()
	if _, err := os.Stat(filepath.Join(dir, LockFileName)); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	l, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	l.Release()
}

func TestLockDataDirWithinOneProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new") // created on demand
	l, err := LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockDataDir(dir); !errors.Is(err, ErrAlreadyOpen) {
		t.Fatalf("second lock: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}
