package storage

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// fullDisk mounts a 1 MB tmpfs (root only: the test is skipped otherwise) for a
// really full disk, as the data folder on a full USB stick or small partition.
func fullDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("a small tmpfs cannot be mounted here (%v): needs root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes until the disk has no space left.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func TestOpenOnAReallyFullDisk(t *testing.T) {
	disk := fullDisk(t)
	// An archive made while there was room, then the disk filled up.
	path := filepath.Join(disk, "kfdesk", DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddAccount(t.Context(), Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, disk)

	for _, p := range []string{path, filepath.Join(disk, "new", DBFileName)} {
		_, err := Open(p)
		var oe *OpenError
		if !errors.As(err, &oe) || oe.Problem != ProblemDiskFull || oe.Path != filepath.Dir(p) {
			t.Fatalf("open %s: %v (%+v)", p, err, oe)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the archive changed on a full disk (%v)", err)
	}
}
