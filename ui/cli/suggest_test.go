package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSuggestFromTheDemoArchive(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	// The demo shop answered 退款到账了吗 many times; asked in other words:
	if err := h.run("", "suggest", "退款到账了没？"); err != nil {
		t.Fatal(err)
	}
	if out := h.stdout.String(); !strings.HasPrefix(out, "1. 已经原路退回了") || !strings.Contains(out, "used ") || !strings.Contains(out, "← ") {
		t.Errorf("suggest printed %q", out)
	}
	h.env["LANG"] = "zh_CN.UTF-8"
	if err := h.run("", "--json", "suggest", "退款到账了吗"); err != nil {
		t.Fatal(err)
	}
	var s suggestionJSON
	first, _, _ := strings.Cut(h.stdout.String(), "\n")
	if err := json.Unmarshal([]byte(first), &s); err != nil || !strings.HasPrefix(s.Text, "已经原路退回了") || s.Count < 2 ||
		s.LastUsed == "" || len(s.Sources) < 2 || s.Sources[0].OpenID == "" || !strings.Contains(s.Sources[0].Question, "退款") {
		t.Errorf("JSON %q: %+v %v", first, s, err)
	}
	// Never asked: nothing on stdout, a word why on stderr.
	if err := h.run("", "suggest", "你们卖汽车轮胎吗"); err != nil || h.stdout.Len() != 0 || !strings.Contains(h.stderr.String(), "没有建议") {
		t.Errorf("never asked: %v %q %q", err, h.stdout.String(), h.stderr.String())
	}
	if err := h.run("", "suggest"); !errors.Is(err, ErrUsage) {
		t.Errorf("no text: %v, want a usage error", err)
	}
}
