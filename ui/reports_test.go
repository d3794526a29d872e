package ui

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// reportsWindow opens the Reports page of a synced account with n records over the last three days.
func reportsWindow(t *testing.T, language string, n int) (*MainWindow, *reportsScreen) {
	t.Helper()
	m, _ := recordsWindow(t, language, recordServer(t, n), true)
	test.Tap(findButton(t, m.Window().Canvas(), T("Reports")))
	waitIdle(t, m)
	if m.reports == nil || m.reports.rep == nil {
		t.Fatal("no report shown")
	}
	return m, m.reports
}

func TestReportsPageShowsTheFigures(t *testing.T) {
	m, s := reportsWindow(t, "zh", 200)
	c := m.Window().Canvas()
	want, err := m.ws.Report(context.Background(), s.account, storage.BeijingDay(clock.Now()).AddDate(0, 0, -29), time.Time{}, storage.ConversationGap)
	if err != nil {
		t.Fatal(err)
	}
	// 30 days by default; the figures are the workspace's.
	if len(s.rep.Days) != 30 || s.rep.CustomerMessages != want.CustomerMessages || s.rep.CustomerMessages == 0 {
		t.Fatalf("report %d days, %d customer messages; want %d", len(s.rep.Days), s.rep.CustomerMessages, want.CustomerMessages)
	}
	assertShows(t, c, "统计", "每日消息数", "客服人员", "客户消息高频词", "菜单回答", "会话：同一客户的消息，相邻两条间隔不超过 30 分钟；计入开始那天。")
	if !strings.Contains(s.summary.Text, "客户消息 "+strconv.Itoa(want.CustomerMessages)+" 条") || s.busy.Visible() {
		t.Fatalf("summary %q, busy %v", s.summary.Text, s.busy.Visible())
	}
	chart := s.chart("messages").(*barChart)
	chart.Resize(fyne.NewSize(900, 300))
	if chart.empty() || chart.caption() != "• 客户消息   • 客服回复" {
		t.Fatalf("chart caption %q", chart.caption())
	}
	// Pointing at the last day's bars shows its figures.
	last := s.rep.Days[len(s.rep.Days)-1]
	chart.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(895-chartPad, 150)}})
	if want := fmt.Sprintf("%s   客户消息 %d   客服回复 %d", last.Day[5:], last.CustomerMessages, last.Replies); chart.caption() != want {
		t.Errorf("hover: %q, want %q", chart.caption(), want)
	}
	chart.MouseOut()

	// Today only: one day; a day with nothing says so.
	s.period.SetSelectedIndex(0)
	if !s.busy.Visible() || s.summary.Text != "正在计算…" {
		t.Errorf("no busy indicator while computing: %v %q", s.busy.Visible(), s.summary.Text)
	}
	waitIdle(t, m)
	if len(s.rep.Days) != 1 || s.rep.From != workspace.FormatTime(clock.Now(), "2006-01-02") {
		t.Fatalf("today: %+v", s.rep.Days)
	}
	s.period.SetSelectedIndex(4) // custom
	d1, d2, d3 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.Local), time.Date(2020, 1, 2, 0, 0, 0, 0, time.Local), time.Date(2020, 1, 3, 0, 0, 0, 0, time.Local)
	s.from.SetDate(&d1)
	s.to.SetDate(&d2)
	waitIdle(t, m)
	if len(s.rep.Days) != 2 || s.rep.CustomerMessages != 0 || s.chart("messages").(*barChart).caption() != "该时段没有数据" {
		t.Fatalf("an empty period: %+v", s.rep)
	}
	assertShows(t, c, "每位客户都已获回复", "该时段没有发送菜单消息")
	s.from.SetDate(&d3)
	waitIdle(t, m)
	assertShows(t, c, "开始日期晚于结束日期。")
}

// variantTheme is a theme in one variant, light or dark, whatever the system's.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

func TestReportsExportPNGAndCSV(t *testing.T) {
	m, s := reportsWindow(t, "zh", 200)
	m.app.Settings().SetTheme(NewTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight}))
	dir := t.TempDir()
	pngPath, csvPath := filepath.Join(dir, "m.png"), filepath.Join(dir, "days.csv")
	s.exportPNGTo("messages", pngPath)
	waitIdle(t, m)
	s.exportCSVTo("days", csvPath)
	waitIdle(t, m)
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < int(chartPNGSize.Width) {
		t.Fatalf("PNG: %v %v", err, img.Bounds())
	}
	// In the dark theme the chart is drawn dark: the theme's background, light text.
	m.app.Settings().SetTheme(NewTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark}))
	darkPath := filepath.Join(dir, "dark.png")
	s.exportPNGTo("messages", darkPath)
	waitIdle(t, m)
	df, err := os.Open(darkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	dark, err := png.Decode(df)
	if err != nil {
		t.Fatal(err)
	}
	luma := func(c color.Color) uint32 { r, g, b, _ := c.RGBA(); return (r + g + b) / 3 >> 8 }
	if l, d := luma(img.At(img.Bounds().Max.X-2, 2)), luma(dark.At(dark.Bounds().Max.X-2, 2)); l < 200 || d > 60 {
		t.Errorf("background: light theme %d, dark theme %d", l, d)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\r\n")
	if !bytes.HasPrefix(b, []byte("\uFEFF日期,客户消息,客服回复,新会话")) || len(lines) != 30+2 {
		t.Fatalf("CSV: %q", b[:min(len(b), 200)])
	}
	if !strings.Contains(s.exportLine.Text, "已保存 "+darkPath) { // the last export
		t.Errorf("export line %q", s.exportLine.Text)
	}
	// A folder that does not exist: a clear message, no file.
	s.exportCSVTo("days", filepath.Join(dir, "missing", "x.csv"))
	waitIdle(t, m)
	if !strings.Contains(s.exportLine.Text, "导出失败") {
		t.Errorf("failed export says %q", s.exportLine.Text)
	}
}

func TestReportsOpenConversationAndSearch(t *testing.T) {
	m, s := reportsWindow(t, "en", 200)
	if len(s.rep.Unanswered) == 0 || len(s.rep.Words) == 0 {
		t.Fatalf("want unanswered customers and words: %+v %+v", s.rep.Unanswered, s.rep.Words)
	}
	u := s.rep.Unanswered[0]
	test.Tap(findButton(t, m.Window().Canvas(), "Open conversation"))
	waitIdle(t, m)
	if m.page != PageRecords || m.records == nil || m.records.customer.Text != u.OpenID || m.records.conv == nil {
		t.Fatalf("page %v, records %+v", m.page, m.records)
	}
	assertShows(t, m.Window().Canvas(), u.Last.Text)

	test.Tap(findButton(t, m.Window().Canvas(), "Reports"))
	waitIdle(t, m)
	w := m.reports.rep.Words[0]
	m.reports.onWord(w.Word)
	waitIdle(t, m)
	if m.page != PageRecords || m.records.query.Text != w.Word || m.records.filter.Text != w.Word {
		t.Fatalf("search for %q: page %v, query %q", w.Word, m.page, m.records.query.Text)
	}
}

func TestReportsSortWorkers(t *testing.T) {
	m, s := reportsWindow(t, "en", 200)
	col := func(i int) []string {
		var out []string
		for _, r := range s.workerRows {
			out = append(out, r[i])
		}
		return out
	}
	if len(s.workerRows) != 2 {
		t.Fatalf("workers %v", s.workerRows)
	}
	test.Tap(findButton(t, m.Window().Canvas(), "KF worker"))
	if got := col(0); !slices.IsSorted(got) {
		t.Errorf("by name: %v", got)
	}
	if b := findButton(t, m.Window().Canvas(), "KF worker"); b.Icon != theme.MenuDropUpIcon() {
		t.Errorf("the sorted column shows no ascending mark: %v", b.Icon)
	}
	test.Tap(findButton(t, m.Window().Canvas(), "KF worker"))
	if got := col(0); !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("by name, descending: %v", got)
	}
	test.Tap(findButton(t, m.Window().Canvas(), "Messages sent"))
	got := col(2)
	if a, b := atoi(got[0]), atoi(got[1]); a < b {
		t.Errorf("by messages sent, most first: %v", got)
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
