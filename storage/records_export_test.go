package storage

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

// assertCRInQuotes checks the raw bytes the way Excel and WPS read them: a \r
// outside quotes ends the row, so every \r must be inside a quoted cell or be the
// \r of a row-ending \r\n. (encoding/csv tolerates a bare \r, so reading the file
// back with it cannot tell.)
func assertCRInQuotes(t testing.TB, b []byte) {
	t.Helper()
	quoted := false
	for i, c := range b {
		switch {
		case c == '"':
			quoted = !quoted // a doubled "" toggles twice
		case c == '\r' && !quoted && (i+1 >= len(b) || b[i+1] != '\n'):
			t.Fatalf("bare \\r outside quotes at byte %d: %q", i, b[max(0, i-20):min(len(b), i+20)])
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", b)
	}
}

// readCSV checks the BOM and CRLF framing and parses the rest with encoding/csv.
func readCSV(t testing.TB, b []byte) [][]string {
	t.Helper()
	assertCRInQuotes(t, b)
	if !bytes.HasPrefix(b, []byte("\uFEFF")) {
		t.Fatalf("no UTF-8 BOM: %q", b[:min(len(b), 10)])
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatal("rows must end with CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatalf("%v in %q", err, b)
	}
	return rows
}

func TestExportCSVRoundTrip(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()
	texts := []string{"你好，世界", `他说"满意"`, "第一行\n第二行", "=HYPERLINK(\"http://x\",\"点我\")", "+86 138", "-1", "@SUM(A1)",
		"\tTab", "\rCR", "a\rb", "行一\r\n行二", "a,b", "普通 text", "", "'already quoted"}
	for i, s := range texts {
		e.srv.AddRecords(wechattest.Record{OpenID: "o,=1", OperCode: 2003, Text: s, Time: e.at(1, int64(i)), Worker: "-kf@x"})
	}
	e.srv.AddRecords(wechattest.Record{OpenID: "o2", OperCode: 1004, Time: e.at(1, 100), Worker: "kf@x"})
	if _, err := e.syncer().Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var progress [][2]int
	n, err := e.db.ExportRecordsCSV(ctx, &buf, e.acct, RecordFilter{}, ExportOptions{ZH: true, Location: Beijing,
		Progress: func(d, t int) { progress = append(progress, [2]int{d, t}) }})
	if err != nil || n != len(texts)+1 {
		t.Fatalf("%d rows, %v", n, err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != [2]int{n, n} {
		t.Fatalf("progress %v", progress)
	}
	rows := readCSV(t, buf.Bytes())
	if strings.Join(rows[0], "|") != "时间|OpenID|客服|方向|操作码|内容" {
		t.Fatalf("header %q", rows[0])
	}
	for i, s := range texts {
		row := rows[i+1]
		want := strings.ReplaceAll(s, "\r\n", "\n") // as every CSV reader reads a CRLF inside a cell
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			want = "'" + want
		}
		if row[5] != want {
			t.Errorf("text %q came back as %q", s, row[5])
		}
		wantTime := time.Unix(e.at(1, int64(i)), 0).In(Beijing).Format("2006-01-02 15:04:05")
		if row[0] != wantTime || row[1] != "o,=1" || row[2] != "'-kf@x" || row[3] != "客户消息" || row[4] != "2003" {
			t.Errorf("row %q", row)
		}
	}
	if last := rows[len(rows)-1]; last[3] != "关闭会话" || last[4] != "1004" {
		t.Errorf("event row %q", last)
	}
	// Only the filter's rows, English header.
	buf.Reset()
	if n, err := e.db.ExportRecordsCSV(ctx, &buf, e.acct, RecordFilter{Text: "满意"}, ExportOptions{}); err != nil || n != 1 {
		t.Fatalf("filtered export %d %v", n, err)
	}
	if rows := readCSV(t, buf.Bytes()); rows[0][0] != "Time" || rows[1][3] != "from customer" {
		t.Fatalf("%q", rows)
	}
}

func TestExportFileCancelLeavesNothing(t *testing.T) {
	e, _ := searchEnv(t, 20000, 2)
	ctx, cancel := context.WithCancel(context.Background())
	path := filepath.Join(t.TempDir(), "记录.csv")
	_, err := e.db.ExportRecordsFile(ctx, path, e.acct, RecordFilter{}, ExportOptions{Progress: func(done, total int) {
		if done >= 8192 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled export: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Dir(path)); len(left) != 0 {
		t.Fatalf("a cancelled export left %v", left)
	}
	n, err := e.db.ExportRecordsFile(context.Background(), path, e.acct, RecordFilter{}, ExportOptions{})
	if err != nil || n != 20000 {
		t.Fatalf("%d %v", n, err)
	}
	b, _ := os.ReadFile(path)
	if rows := readCSV(t, b); len(rows) != 20001 {
		t.Fatalf("%d rows in the file", len(rows))
	}
}

// FuzzCSVWriter: whatever the cells, encoding/csv reads back exactly the
// neutralised cells (CRLF inside a cell reads back as LF, as in every CSV reader).
func FuzzCSVWriter(f *testing.F) {
	f.Add("满意", "a,b", `q"uote`)
	f.Add("=1+1", "line\nbreak", "\rx")
	f.Add("-", "@", "\t")
	f.Add("a\rb", "x\r", "\r\n")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var buf bytes.Buffer
		w := newCSVWriter(&buf)
		cells := []string{a, b, c}
		if err := w.Row(cells...); err != nil {
			t.Fatal(err)
		}
		if err := w.Row("x", "y", "z"); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		assertCRInQuotes(t, buf.Bytes())
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
		if err != nil {
			t.Fatalf("%v: %q", err, buf.Bytes())
		}
		if len(rows) != 2 || strings.Join(rows[1], "") != "xyz" {
			t.Fatalf("rows %q from %q", rows, buf.Bytes())
		}
		for i, s := range cells {
			if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
				s = "'" + s
			} else if s != "" && s[0] != '\'' && rows[0][i] != "" && strings.ContainsRune("=+-@\t\r", rune(rows[0][i][0])) {
				t.Fatalf("formula cell %q not neutralised", rows[0][i])
			}
			if want := strings.ReplaceAll(s, "\r\n", "\n"); rows[0][i] != want {
				t.Fatalf("cell %q read back as %q", want, rows[0][i])
			}
		}
	})
}
