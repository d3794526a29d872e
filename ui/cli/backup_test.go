package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kfdesk/storage"
)

func TestBackupToFolderAndFile(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := h.run("", "--json", "backup", dir); err != nil {
		t.Fatal(err)
	}
	var out struct {
		File  string
		Bytes int64
	}
	if err := json.Unmarshal(h.stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, h.stdout.String())
	}
	if filepath.Dir(out.File) != dir || !strings.HasPrefix(filepath.Base(out.File), "kfdesk-backup-") || out.Bytes == 0 {
		t.Fatalf("out = %+v", out)
	}
	db, err := storage.Open(out.File)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if accs, _ := db.Accounts(context.Background()); len(accs) != 1 || !accs[0].Demo {
		t.Fatalf("backup accounts = %+v", accs)
	}

	file := filepath.Join(dir, "mine.db")
	if err := h.run("", "backup", file); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 || !strings.Contains(h.stdout.String(), "backed up to") {
		t.Fatalf("%v %s", err, h.stdout.String())
	}
	if err := h.run("", "backup", "a", "b"); err == nil {
		t.Fatal("two destinations accepted")
	}
}
