package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"kfdesk/storage"
)

func TestReportCommand(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "--json", "report", "--period", "7d"); err != nil {
		t.Fatal(err)
	}
	var rep storage.Report
	if err := json.Unmarshal(h.stdout.Bytes(), &rep); err != nil || strings.Count(strings.TrimSpace(h.stdout.String()), "\n") != 0 {
		t.Fatalf("one JSON object: %v %q", err, h.stdout.String())
	}
	in, out := 0, 0
	for _, d := range rep.Days {
		in += d.CustomerMessages
		out += d.Replies
	}
	if len(rep.Days) != 7 || in != rep.CustomerMessages || out != rep.Replies || in == 0 || len(rep.Workers) == 0 || len(rep.Words) == 0 {
		t.Fatalf("report: %d days, %d/%d in, %d/%d out, %d workers, %d words", len(rep.Days), in, rep.CustomerMessages, out, rep.Replies, len(rep.Workers), len(rep.Words))
	}
	// The same period by dates, as text.
	if err := h.run("", "report", "--from", rep.From, "--to", rep.To); err != nil {
		t.Fatal(err)
	}
	if s := h.stdout.String(); !strings.Contains(s, rep.From+" – "+rep.To) || !strings.Contains(s, rep.Workers[0].Worker) || !strings.Contains(s, rep.Words[0].Word) {
		t.Fatalf("text report:\n%s", s)
	}
	for _, bad := range [][]string{{"report", "--period", "week"}, {"report", "--period", "7d", "--from", "2026-01-01"}, {"report", "x"}, {"report", "--unanswered-after", "0"}} {
		if err := h.run("", bad...); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if err := h.run("", "report", "--from", "2026-13-01"); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
		t.Errorf("bad date: %v", err)
	}
}
