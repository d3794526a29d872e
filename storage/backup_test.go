package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

func fillSettings(t *testing.T, db *DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if err := db.SetSetting(ctx, fmt.Sprintf("k%04d", i), fmt.Sprintf("值 value %d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBackupIsACompleteCheckedCopy(t *testing.T) {
	db := openTemp(t)
	fillSettings(t, db, 500)
	dest := filepath.Join(t.TempDir(), BackupFileName(time.Date(2026, 11, 23, 8, 5, 0, 0, time.Local)))
	if filepath.Base(dest) != "kfdesk-backup-20261123-080500.db" {
		t.Fatalf("name %s", dest)
	}
	// The save dialog has already created (an empty) dest: it is replaced.
	if err := os.WriteFile(dest, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "ACCESS-TOKEN-must-not-leave-this-computer"
	if err := db.SaveToken(context.Background(), "wx:stable", api.Token{Value: token, ExpiresAt: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var lastDone, lastTotal int64
	err := db.Backup(context.Background(), dest, func(done, total int64) { lastDone, lastTotal = done, total })
	if err != nil {
		t.Fatal(err)
	}
	if lastTotal <= 0 || lastDone != lastTotal {
		t.Fatalf("last progress %d/%d", lastDone, lastTotal)
	}

	copyDB, err := Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	v, ok, err := copyDB.Setting(context.Background(), "k0499")
	if err != nil || !ok || v != "值 value 499" {
		t.Fatalf("backup lacks data: %q %v %v", v, ok, err)
	}
	if left, _ := filepath.Glob(dest + ".partial-*"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	// The access token is neither in the copy's tables nor anywhere in its bytes.
	if tok, err := copyDB.LoadToken(context.Background(), "wx:stable"); err != nil || tok.Value != "" {
		t.Fatalf("backup holds the token %q (%v)", tok.Value, err)
	}
	raw, err := os.ReadFile(dest)
	if err != nil || bytes.Contains(raw, []byte(token)) {
		t.Fatalf("the backup file contains the access token (%v)", err)
	}
	if v, ok, _ := db.Setting(context.Background(), "k0001"); !ok || v == "" {
		t.Fatal("original lost data")
	}
	if tok, err := db.LoadToken(context.Background(), "wx:stable"); err != nil || tok.Value != token {
		t.Fatalf("the original lost its token: %v", err)
	}
}

func TestBackupCancelledLeavesDestinationAlone(t *testing.T) {
	db := openTemp(t)
	fillSettings(t, db, 50)
	dest := filepath.Join(t.TempDir(), "old-backup.db")
	if err := os.WriteFile(dest, []byte("previous backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Backup(ctx, dest, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "previous backup" {
		t.Fatalf("destination changed: %q", b)
	}
	if left, _ := filepath.Glob(dest + ".partial-*"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestBackupRefusesToOverwriteTheDatabase(t *testing.T) {
	db := openTemp(t)
	fillSettings(t, db, 3)
	if err := db.Backup(context.Background(), db.Path(), nil); err == nil {
		t.Fatal("backup onto the database itself succeeded")
	}
	if v, ok, _ := db.Setting(context.Background(), "k0002"); !ok || v == "" {
		t.Fatal("database damaged")
	}
}
