//go:build !server

package desktop

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kfdesk/ui/workspace"
)

// TestMain lets a test run this binary as the window's start: with KFDESK_TEST_CRASH
// set it starts the trace in that folder, then crashes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("KFDESK_TEST_CRASH"); dir != "" {
		StartTrace(dir)
		panic("the window crashed") // nobody recovers it
	}
	os.Exit(m.Run())
}

// The window leaves a trace in the data folder: its log says it started, and a crash
// (a panic no one recovers) writes the runtime's report to kfdesk-crash.log.
func TestACrashLeavesItsReportInTheDataFolder(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "KFDESK_TEST_CRASH="+dir)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("the crashing run ended with %v:\n%s", err, out)
	}
	report, err := os.ReadFile(filepath.Join(dir, workspace.CrashFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"panic: the window crashed", "TestMain("} {
		if !strings.Contains(string(report), want) {
			t.Errorf("crash report lacks %q:\n%s", want, report)
		}
	}
	logText, err := os.ReadFile(workspace.LogPath(dir))
	if err != nil || !strings.Contains(string(logText), `msg="KF Desk started" version=`) {
		t.Errorf("log %q, %v", logText, err)
	}
}
