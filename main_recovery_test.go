package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kfdeskStatus runs a command line as the real kfdesk and returns stdout, stderr and the exit status.
func kfdeskStatus(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KFDESK_TEST_MAIN=1", "KFDESK_SECRETS=file")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// On a damaged database a command prints one line in both languages and exits 1;
// doctor runs without opening (so without migrating) it and says the same.
func TestADamagedDatabaseIsOneLineOnTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := kfdeskStatus(t, "--data-dir", dir, "account", "list"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	path := filepath.Join(dir, "kfdesk.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := kfdeskStatus(t, "--data-dir", dir, "account", "list")
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "数据库文件已损坏") || !strings.Contains(stderr, "database file is damaged") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	stdout, stderr, code := kfdeskStatus(t, "--data-dir", dir, "doctor")
	if code != 1 || !strings.Contains(stdout, "备份 Backups found: 0") || !strings.Contains(stderr, "damaged") {
		t.Fatalf("doctor: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(path); len(after) != len(b)/2 {
		t.Fatal("the damaged file changed")
	}
}
