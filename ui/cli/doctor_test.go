package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kfdesk/storage"
)

func TestDoctorReportsAHealthyDatabaseAndItsBackups(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "backup", h.ws.Dir); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "doctor"); err != nil {
		t.Fatal(err, h.stdout.String())
	}
	for _, want := range []string{"数据库 Database: " + filepath.Join(h.ws.Dir, storage.DBFileName), "Integrity (integrity_check): ok",
		"Schema:", "WAL:", "备份 Backups found: 1", "kfdesk-backup-", "正常 / healthy"} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("doctor lacks %q:\n%s", want, h.stdout.String())
		}
	}
	if err := h.run("", "--json", "doctor"); err != nil {
		t.Fatal(err)
	}
	var j doctorJSON
	if err := json.Unmarshal(h.stdout.Bytes(), &j); err != nil || j.Integrity != "ok" || j.Schema == 0 || j.Schema != j.KnownSchema ||
		len(j.Backups) != 1 || !j.Backups[0].OK || j.Problem != "" {
		t.Fatalf("%v %+v", err, j)
	}
}

// doctor runs without opening the workspace (main: WithoutWorkspace), on a damaged
// database, says so and fails; nothing is changed.
func TestDoctorOnADamagedDatabase(t *testing.T) {
	h := newHarness(t)
	dir := h.ws.Dir
	if err := h.ws.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, storage.DBFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-4096], 0o600); err != nil {
		t.Fatal(err)
	}
	if !WithoutWorkspace([]string{"doctor"}) || WithoutWorkspace([]string{"backup"}) {
		t.Fatal("WithoutWorkspace")
	}
	h.ws = nil
	err = h.run("", "--data-dir", dir, "doctor")
	var oe *storage.OpenError
	if !errors.As(err, &oe) || oe.Problem != storage.ProblemDamaged {
		t.Fatalf("err = %v", err)
	}
	if out := h.stdout.String(); !strings.Contains(out, "已损坏") || !strings.Contains(out, "damaged") ||
		!strings.Contains(out, "Readable chat records: ") {
		t.Fatalf("doctor said:\n%s", out)
	}
	if after, _ := os.ReadFile(path); len(after) != len(b)-4096 {
		t.Fatal("doctor changed the file")
	}
}

// A sync (as cron runs it) also takes the day's automatic backup, once.
func TestRecordsSyncTakesTheAutomaticBackup(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.stderr.String(), "automatic backup / 自动备份: "+filepath.Join(h.ws.Dir, storage.AutoBackupDirName, "kfdesk-auto-")) {
		t.Fatalf("stderr %q", h.stderr.String())
	}
	if err := h.run("", "records", "sync"); err != nil || strings.Contains(h.stderr.String(), "automatic backup") {
		t.Fatalf("second sync the same day: %v %q", err, h.stderr.String())
	}
	if bs, _ := storage.AutoBackups(filepath.Join(h.ws.Dir, storage.AutoBackupDirName)); len(bs) != 1 {
		t.Fatalf("%d automatic backups", len(bs))
	}
}
