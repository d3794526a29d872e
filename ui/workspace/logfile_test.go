package workspace

import (
	"bytes"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogFileRotatesAndKeepsTheLastFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LogFileName)
	l, err := openLogFile(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 { // 12 lines of 30 bytes: 3 per file
		if _, err := fmt.Fprintf(l, "line %02d %s\n", i, strings.Repeat("x", 21)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The newest lines; 00–02 went with the oldest file.
	want := []struct{ name, lines string }{
		{"kfdesk.log", "line 09 line 10 line 11"},
		{"kfdesk.1.log", "line 06 line 07 line 08"},
		{"kfdesk.2.log", "line 03 line 04 line 05"},
	}
	if entries, _ := os.ReadDir(dir); len(entries) != len(want) {
		t.Fatalf("files %v, want kfdesk.log and two old ones", entries)
	}
	for _, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, w.name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 100 {
			t.Errorf("%s has %d bytes, more than the cap", w.name, len(b))
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			got = append(got, line[:7])
		}
		if strings.Join(got, " ") != w.lines {
			t.Errorf("%s holds %q, want %q", w.name, got, w.lines)
		}
	}
	if _, err := l.Write([]byte("late\n")); err == nil {
		t.Error("a closed log file took a write")
	}
}

func TestLogFileAppendsToTheLastRunsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), LogFileName)
	for _, line := range []string{"first run\n", "second run\n"} {
		l, err := openLogFile(path, 1<<20, 3)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = l.Write([]byte(line))
		_ = l.Close()
	}
	if b, _ := os.ReadFile(path); string(b) != "first run\nsecond run\n" {
		t.Fatalf("log %q", b)
	}
}

// StartLog sends slog and the standard log (Fyne's errors) to the data folder's log,
// and its stop gives both their old output back.
func TestStartLogTakesSlogAndTheStandardLogUntilStopped(t *testing.T) {
	dir := t.TempDir()
	var before bytes.Buffer
	log.SetOutput(&before)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })

	stop, err := StartLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	slog.Warn("could not save the window size", "err", os.ErrPermission)
	log.Println("Fyne error:  something")
	stop()
	log.Println("after stop")

	b, err := os.ReadFile(LogPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`level=WARN msg="could not save the window size" err="permission denied"`, "Fyne error:  something"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "after stop") || !strings.Contains(before.String(), "after stop") {
		t.Errorf("after stop the standard log still writes to the file:\n%s", b)
	}
}
