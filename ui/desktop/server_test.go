//go:build server

package desktop

import (
	"os"
	"strings"
	"testing"
)

// The server build has no window: with no command it says so in both languages, names
// `kfdesk serve`, and exits 2 (a usage mistake, which systemd does not restart).
func TestServerBuildSaysItHasNoWindow(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = f
	status := Run(nil, "")
	os.Stderr = saved
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if status != 2 {
		t.Errorf("exit status %d, want 2", status)
	}
	for _, want := range []string{"此版本没有窗口", "This build has no window", "kfdesk serve"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stderr %q lacks %q", out, want)
		}
	}
}
