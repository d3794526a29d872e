package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// restore puts a backup back over a damaged database, keeps the damaged file byte
// for byte, and is refused while the window holds the data folder.
func TestRestoreABackupOverADamagedDatabase(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	dir := h.ws.Dir
	a, err := h.ws.CurrentAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want, err := h.ws.DB.CountRecords(ctx, a.ID, storage.RecordFilter{})
	if err != nil || want == 0 {
		t.Fatal(want, err)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if err := h.run("", "backup", backup); err != nil {
		t.Fatal(err)
	}
	if err := h.ws.Close(); err != nil {
		t.Fatal(err)
	}
	h.ws = nil
	path := filepath.Join(dir, storage.DBFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := b[:len(b)/2]
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}

	lock, err := storage.LockDataDir(dir) // the window is open
	if err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "--data-dir", dir, "restore", backup); err == nil || !strings.Contains(err.Error(), "close the KF Desk window") {
		t.Fatalf("restore with the window open: %v", err)
	}
	if got, _ := os.ReadFile(path); len(got) != len(damaged) {
		t.Fatal("a refused restore changed the database")
	}
	_ = lock.Release()

	// A backup that is not there, or not a database, is said in both languages; nothing changes.
	notDB := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(notDB, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{filepath.Join(dir, "missing.db"): "无法读取备份文件", notDB: "备份文件没有通过检查"} {
		err := h.run("", "--data-dir", dir, "restore", file)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "the database was not changed") {
			t.Fatalf("restore %s: %v", file, err)
		}
		if got, _ := os.ReadFile(path); len(got) != len(damaged) {
			t.Fatal("a failed restore changed the database")
		}
	}

	h.stdout.Reset()
	if err := h.run("", "--data-dir", dir, "restore", backup); err != nil {
		t.Fatal(err)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "kfdesk-damaged-*.db"))
	if len(kept) != 1 || !strings.Contains(h.stdout.String(), filepath.Base(kept[0])) {
		t.Fatalf("damaged file kept as %v; restore said %q", kept, h.stdout.String())
	}
	if got, _ := os.ReadFile(kept[0]); string(got) != string(damaged) {
		t.Fatal("the damaged file was not kept byte for byte")
	}
	ws, err := workspace.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if got, err := ws.DB.CountRecords(ctx, a.ID, storage.RecordFilter{}); err != nil || got != want {
		t.Fatalf("after the restore %d records (%v), want %d", got, err, want)
	}
}
