package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets a test run this binary as the real kfdesk: with KFDESK_TEST_MAIN=1 the
// arguments are a command line, and every package's init has run as in a release build.
func TestMain(m *testing.M) {
	if os.Getenv("KFDESK_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runKfdesk runs a command line with the locale variables of locale ("" = none set) and
// returns its standard error.
func runKfdesk(t *testing.T, locale []string, args ...string) string {
	t.Helper()
	env := []string{"KFDESK_TEST_MAIN=1", "KFDESK_SECRETS=file"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "LANG" && k != "LANGUAGE" && !strings.HasPrefix(k, "LC_") && !strings.HasPrefix(k, "KFDESK_") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(env, locale...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = new(bytes.Buffer), &stderr
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return stderr.String()
}

// A cron job runs with LANG unset, C or C.UTF-8: the command line still prints only its
// own lines, the same as under a full locale (Fyne once added "Fyne error: Error parsing
// user locale C" to every run).
func TestCommandLinePrintsOnlyItsOwnLinesInTheCLocale(t *testing.T) {
	dir := t.TempDir()
	commands := [][]string{
		{"help"},
		{"--data-dir", dir, "account", "list"},
		{"--data-dir", dir, "no-such-command"},
	}
	for _, args := range commands {
		want := runKfdesk(t, []string{"LANG=en_US.UTF-8"}, args...)
		for _, locale := range [][]string{nil, {"LANG=C"}, {"LANG=C.UTF-8"}, {"LC_ALL=C.UTF-8"}, {"LANG=POSIX.UTF-8"}} {
			if got := runKfdesk(t, locale, args...); got != want {
				t.Errorf("kfdesk %s with %v: stderr\n%q\nwant (as with LANG=en_US.UTF-8)\n%q", strings.Join(args, " "), locale, got, want)
			}
		}
	}
}

func TestCommandLineWarningsAreItsOwnLines(t *testing.T) {
	var b bytes.Buffer
	l := slog.New(warningHandler{w: &b})
	l.Info("not for the command line")
	l.With("account", "shop").Warn("could not clear the current account", "err", errors.New("database is locked"))
	if want := "kfdesk: warning: could not clear the current account account=shop: database is locked\n"; b.String() != want {
		t.Fatalf("printed %q, want %q", b.String(), want)
	}
}
