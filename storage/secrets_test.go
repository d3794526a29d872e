package storage

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestFileSecrets(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "file")
	dir := filepath.Join(t.TempDir(), "kfdesk")
	s, note := openSecrets(dir, func() error { t.Error("KFDESK_SECRETS=file, yet the keyring was probed"); return nil }, time.Second)
	if note != "" || !strings.Contains(s.Where(), filepath.Join(dir, "secrets.json")) || !strings.Contains(s.Where(), "only by you") {
		t.Fatalf("store %s, note %q", s.Where(), note)
	}
	if _, err := s.Get("account-1"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := s.Set("account-1", "app-secret-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("account-2", "app-secret-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("account-2", "app-secret-2b"); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{filepath.Join(dir, "secrets.json"): 0o600, dir: 0o700} {
			fi, err := os.Stat(p)
			if err != nil || fi.Mode().Perm() != want {
				t.Fatalf("%s: mode %v %v, want %v", p, fi.Mode(), err, want)
			}
		}
	}
	s2, _ := OpenSecrets(dir) // reopened: still there
	if v, err := s2.Get("account-1"); err != nil || v != "app-secret-1" {
		t.Fatalf("reopen: %q %v", v, err)
	}
	if err := s2.Delete("account-1"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete("account-1"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if v, _ := s2.Get("account-2"); v != "app-secret-2b" {
		t.Fatal("other secret lost or not overwritten")
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(filepath.Join(dir, "secrets.json"))
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode after rewrite %v", fi.Mode())
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".secrets-*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestDamagedSecretsFileDoesNotEchoContent(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(`{"account-1":"very-secret-valu`), 0o600)
	s, _ := OpenSecrets(dir)
	_, err := s.Get("account-1")
	if err == nil || strings.Contains(err.Error(), "very-secret") {
		t.Fatalf("err = %v", err)
	}
	if err := s.Set("account-2", "another-secret"); err == nil || strings.Contains(err.Error(), "secret-") {
		t.Fatalf("set on a damaged file: %v", err) // and the damaged file is not overwritten
	}
}

func TestFallsBackToFileWhenKeyringFails(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "")
	dir := t.TempDir()
	s, note := openSecrets(dir, func() error { return errors.New("no D-Bus session") }, time.Second)
	if _, ok := s.(*fileSecrets); !ok {
		t.Fatalf("store %T", s)
	}
	for _, want := range []string{"no D-Bus session", "secrets.json", "unavailable", "不可用"} {
		if !strings.Contains(note, want) {
			t.Errorf("fallback reason %q lacks %q", note, want)
		}
	}
	if err := s.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
}

func TestKeyringProbeCannotHang(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "")
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	s, note := openSecrets(t.TempDir(), func() error { <-block; return nil }, 100*time.Millisecond)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	if _, ok := s.(*fileSecrets); !ok || !strings.Contains(note, "no answer") {
		t.Fatalf("store %T, note %q", s, note)
	}
}

func TestWorkingKeyringIsUsed(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "")
	s, note := openSecrets(t.TempDir(), func() error { return nil }, time.Second)
	if _, ok := s.(keyringSecrets); !ok || note != "" {
		t.Fatalf("store %T, note %q", s, note)
	}
	if w := s.Where(); w == "" || strings.Contains(w, "secrets.json") {
		t.Fatalf("Where() = %q", w)
	}
}
