package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kfdesk/storage"
)

func TestRecordsSyncSearchExport(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.stderr.String(), "synced 31 days") || strings.Contains(h.stderr.String(), " 0 new") {
		t.Fatalf("sync said %q", h.stderr.String())
	}
	// Not a terminal (a scheduled run's log): whole lines, one per day, no carriage returns.
	if log := h.stderr.String(); strings.Contains(log, "\r") || strings.Count(log, "\nday ") < 30 || strings.Count(log, "day 5/31") != 1 {
		t.Fatalf("progress in a log: %q", log)
	}
	// A first sync builds the search index at the end and says so.
	if !strings.Contains(h.stderr.String(), "building the search index") {
		t.Fatalf("first sync did not report indexing: %q", h.stderr.String())
	}
	// Then the suggested replies, the customers counted: a line as it starts and one as it ends.
	end := regexp.MustCompile(`\npreparing suggested replies (\d+)/(\d+) customers / 正在整理建议回复 (\d+)/(\d+) 位顾客\nsynced`).FindStringSubmatch(h.stderr.String())
	if strings.Count(h.stderr.String(), "\npreparing suggested replies 0/") != 1 || end == nil || end[1] != end[2] || end[1] == "0" {
		t.Fatalf("first sync did not report the suggested replies: %q", h.stderr.String())
	}
	// Again: complete days are skipped, today adds nothing new.
	if err := h.run("", "records", "sync"); err != nil || !strings.Contains(h.stderr.String(), "30 already complete") ||
		!strings.Contains(h.stderr.String(), " 0 new") {
		t.Fatalf("second sync: %v %q", err, h.stderr.String())
	}

	if err := h.run("", "--json", "records", "search", "满意", "--direction", "in", "--limit", "3"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 JSON lines, got %q", h.stdout.String())
	}
	for _, l := range lines {
		var r recordJSON
		if err := json.Unmarshal([]byte(l), &r); err != nil || !strings.Contains(r.Text, "满意") || r.OperCode != 2003 || r.OpenID == "" || r.Time == "" {
			t.Fatalf("%q: %+v %v", l, r, err)
		}
	}
	if err := h.run("", "records", "search", "--worker", "nobody@x"); err != nil || h.stdout.Len() != 0 {
		t.Fatalf("no match: %v %q", err, h.stdout.String())
	}

	out := filepath.Join(t.TempDir(), "out.csv")
	if err := h.run("", "records", "export", "--out", out, "退款"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "\uFEFF") || !strings.Contains(string(b), "退款") || strings.Count(string(b), "\r\n") < 3 {
		t.Fatalf("csv %v %q", err, b)
	}
	for _, bad := range [][]string{
		{"records", "sync", "--from", "2026-13-40"},
		{"records", "sync", "--from", "2026-11-20", "--to", "2026-11-10"},
		{"records", "search", "--direction", "sideways"},
		{"records", "export"},
	} {
		err := h.run("", bad...)
		var ve *storage.ValidationError
		if err == nil || !errors.Is(err, ErrUsage) && !errors.As(err, &ve) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	// Dates the wrong way round are a mistake in the command line, not "nothing found".
	reversed := filepath.Join(t.TempDir(), "reversed.csv")
	for _, bad := range [][]string{
		{"records", "search", "退款", "--from", "2026-11-20", "--to", "2026-11-10"},
		{"records", "export", "--out", reversed, "--from", "2026-11-20", "--to", "2026-11-10"},
	} {
		err := h.run("", bad...)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--from is after --to") || !strings.Contains(err.Error(), "开始日期晚于结束日期") {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
		if h.stdout.Len() != 0 {
			t.Errorf("%v printed %q", bad, h.stdout.String())
		}
	}
	if _, err := os.Stat(reversed); !os.IsNotExist(err) {
		t.Errorf("an export with reversed dates wrote a file: %v", err)
	}
}

// --customer matches the operator's notes, as the window's customer filter does.
func TestRecordsSearchByCustomerNote(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := h.ws.CurrentAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "--json", "records", "search", "--limit", "1", "--direction", "in"); err != nil {
		t.Fatal(err)
	}
	var r recordJSON
	if err := json.Unmarshal(h.stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if err := h.ws.SetNote(ctx, a, r.OpenID, "老顾客 王姐"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "--json", "records", "search", "--customer", "王姐", "--limit", "1000"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	for _, l := range lines {
		var got recordJSON
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.OpenID != r.OpenID {
			t.Fatalf("%q: %+v %v", l, got, err)
		}
	}
	if len(lines) < 2 {
		t.Fatalf("the customer's records: %q", lines)
	}
	// Times are Beijing times, with their offset.
	if !strings.HasSuffix(r.Time, "+08:00") {
		t.Fatalf("time %q is not in Beijing time", r.Time)
	}
	// A name no note contains is taken as an OpenID: nothing found, no error.
	if err := h.run("", "records", "search", "--customer", "李四"); err != nil || h.stdout.Len() != 0 {
		t.Fatalf("unknown customer: %v %q", err, h.stdout.String())
	}
	if err := h.run("", "records", "search", "--customer", "王姐", "--openid", r.OpenID); !errors.Is(err, ErrUsage) {
		t.Fatalf("--customer with --openid: %v", err)
	}
}

// TestRecordsSearchWords: several words, phrases and words left out, as the
// window searches (storage searchQuery), in search and export; -发票 as its own
// argument is a word to leave out, not an unknown flag.
func TestRecordsSearchWords(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "records", "sync"); err != nil {
		t.Fatal(err)
	}
	texts := func(args ...string) []string {
		t.Helper()
		if err := h.run("", append([]string{"--json", "records", "search", "--limit", "100000"}, args...)...); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(h.stdout.String()), "\n") {
			var r recordJSON
			if l == "" {
				continue
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			out = append(out, r.Text)
		}
		return out
	}
	each := func(what string, got []string, ok func(string) bool) {
		t.Helper()
		if len(got) == 0 {
			t.Fatalf("%s: nothing found", what)
		}
		for _, s := range got {
			if !ok(s) {
				t.Fatalf("%s: %q", what, s)
			}
		}
	}
	has := strings.Contains
	all := texts("原路退回")
	both := texts("退款", "原路退回")
	each("退款 原路退回", both, func(s string) bool { return has(s, "退款") && has(s, "原路退回") })
	for _, args := range [][]string{{"原路退回", "退款"}, {"原路退回 退款"}, {"原路退回　退款"}, {`"原路退回"`, "退款"}} {
		if got := texts(args...); !slices.Equal(got, both) {
			t.Errorf("%q: %d records, want the %d of 退款 原路退回", args, len(got), len(both))
		}
	}
	without := texts("原路退回", "-退款")
	each("原路退回 -退款", without, func(s string) bool { return has(s, "原路退回") && !has(s, "退款") })
	if len(both)+len(without) != len(all) {
		t.Errorf("with 退款 %d + without %d != %d with 原路退回", len(both), len(without), len(all))
	}
	for _, args := range [][]string{{"-退款", "原路退回"}, {"原路退回 -退款"}, {"原路退回", "--", "-退款"}, {"--direction", "out", "原路退回", "-退款"}} {
		if got := texts(args...); !slices.Equal(got, without) {
			t.Errorf("%q: %d records, want %d", args, len(got), len(without))
		}
	}
	each(`"好的 谢谢"`, texts(`"好的 谢谢"`), func(s string) bool { return has(s, "好的 谢谢") })
	each("refund excluded", texts("退款 -refund", "-款项"), func(s string) bool {
		return has(s, "退款") && !has(strings.ToLower(s), "refund") && !has(s, "款项")
	})

	// An English word to leave out, unquoted, reads as a flag: say how to write it.
	err := h.run("", "records", "search", "退款", "-refund")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "'退款 -refund'") || !strings.Contains(err.Error(), "引号") {
		t.Errorf("退款 -refund: %v", err)
	}

	out := filepath.Join(t.TempDir(), "without.csv")
	if err := h.run("", "records", "export", "--out", out, "原路退回", "-退款"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(without)+1 {
		t.Fatalf("%d CSV rows, want a header and %d records", len(rows), len(without))
	}
	for _, r := range rows[1:] {
		if line := strings.Join(r, ","); !has(line, "原路退回") || has(line, "退款") {
			t.Fatalf("exported %q", line)
		}
	}
}

// A sync that cannot start (the account's AppSecret is not stored) names no day: it
// said "stopped on 0001-01-01" before.
func TestRecordsSyncThatCannotStart(t *testing.T) {
	h := newHarness(t)
	if _, err := h.ws.DB.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA, AppID: "wx0000000000000001"}); err != nil {
		t.Fatal(err)
	}
	err := h.run("", "records", "sync")
	if err == nil || !strings.HasPrefix(err.Error(), "sync did not start; nothing was stored / 同步未能开始，没有保存任何记录: ") || strings.Contains(err.Error(), "0001") {
		t.Fatalf("%v", err)
	}
}
