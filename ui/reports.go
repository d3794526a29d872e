package ui

import (
	"fmt"
	"image/png"
	"io"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() { pageNames[PageReports] = "reports" } // the 统计 page's stored name (windowstate.go)

// reportsScreen shows how the account's customer service is going over a period:
// charts and tables computed from the chat-record archive (storage.Report) in the
// background, each chart exportable as PNG and each table as CSV.
type reportsScreen struct {
	m       *MainWindow
	account storage.Account

	period     *widget.Select
	from, to   *widget.DateEntry
	custom     *fyne.Container
	after      *widget.Select
	busy       *widget.ProgressBarInfinite
	summary    *widget.Label
	errLabel   *wrapLabel
	exportLine *widget.Label
	body       *fyne.Container

	rep        *storage.Report
	compute    latestRun  // a new computation cancels the one before, whose result is dropped
	workerSort int        // column of the worker table it is sorted by
	workerAsc  bool       // ascending (else descending)
	workerRows [][]string // the worker table's rows as shown
}

func newReportsScreen(m *MainWindow) *reportsScreen {
	return &reportsScreen{m: m, account: m.account, workerSort: 1} // most conversations first
}

// reportPeriods are the period choices, in the order shown.
var reportPeriods = []workspace.ReportPeriod{workspace.PeriodToday, workspace.Period7Days, workspace.Period30Days, workspace.PeriodEverything, workspace.PeriodCustom}

// unansweredAfter are the choices of "left without an answer for at least".
var unansweredAfter = []time.Duration{10 * time.Minute, storage.ConversationGap, time.Hour, 4 * time.Hour, 24 * time.Hour}

// unansweredShown: the page lists this many; the CSV has them all.
const unansweredShown = 50

func (s *reportsScreen) buildUI() fyne.CanvasObject {
	s.period = widget.NewSelect([]string{T("Today"), T("Last 7 days"), T("Last 30 days"), T("Everything archived"), T("Custom…")},
		func(string) { s.onPeriod() })
	s.from, s.to = widget.NewDateEntry(), widget.NewDateEntry()
	s.from.SetPlaceHolder(T("From date"))
	s.to.SetPlaceHolder(T("To date"))
	s.from.OnChanged = func(*time.Time) { s.onCompute() }
	s.to.OnChanged = func(*time.Time) { s.onCompute() }
	s.custom = container.NewGridWithColumns(2, s.from, s.to)
	s.custom.Hide()
	var afterNames []string
	for _, d := range unansweredAfter {
		afterNames = append(afterNames, T("unanswered after %s", secondsText(int64(d/time.Second))))
	}
	s.after = widget.NewSelect(afterNames, func(string) { s.onCompute() })
	s.busy = widget.NewProgressBarInfinite()
	s.busy.Hide()
	s.summary = widget.NewLabel("")
	s.summary.Wrapping = fyne.TextWrapWord
	s.errLabel = newErrorLabel()
	s.exportLine = widget.NewLabel("")
	s.exportLine.Hide()
	s.body = container.NewVBox()

	defs := newWrapLabel(T("A conversation is a customer's messages with no gap over %s; it counts on the day it began. First response: from a conversation's first customer message to the next KF message to that customer. Times in Beijing time.",
		secondsText(int64(storage.ConversationGap/time.Second))))
	top := container.NewVBox(
		container.NewBorder(nil, nil, heading(T("Reports")), nil,
			container.NewHBox(s.period, s.custom, container.NewGridWrap(fyne.NewSize(200, s.after.MinSize().Height), s.after))),
		s.busy, s.summary, s.errLabel, s.exportLine, defs, widget.NewSeparator())
	s.after.SetSelectedIndex(1)
	s.period.SetSelectedIndex(2) // computes
	return container.NewBorder(top, nil, nil, nil, container.NewVScroll(s.body))
}

// onPeriod shows the date fields for a custom period and computes again.
func (s *reportsScreen) onPeriod() {
	if s.periodChoice() == workspace.PeriodCustom {
		s.custom.Show()
	} else {
		s.custom.Hide()
	}
	s.onCompute()
}

func (s *reportsScreen) periodChoice() workspace.ReportPeriod {
	if i := s.period.SelectedIndex(); i >= 0 {
		return reportPeriods[i]
	}
	return workspace.Period30Days
}

// onCompute computes the report in the background; a newer computation drops this one.
func (s *reportsScreen) onCompute() {
	if s.after == nil || s.after.SelectedIndex() < 0 || s.period.SelectedIndex() < 0 {
		return // still building
	}
	from, to := workspace.PeriodDays(s.periodChoice(), clock.Now())
	if s.periodChoice() == workspace.PeriodCustom {
		from, to = beijingDate(s.from.Date), beijingDate(s.to.Date)
		if !from.IsZero() && !to.IsZero() && from.After(to) {
			showError(s.errLabel, T("The start date is after the end date."))
			return
		}
	}
	showError(s.errLabel, "")
	ctx, gen := s.compute.start(s.m.ctx)
	s.busy.Show()
	s.busy.Start()
	s.summary.SetText(T("Computing…"))
	after := unansweredAfter[s.after.SelectedIndex()]
	var rep *storage.Report
	var err error
	s.m.goBackground(func() { rep, err = s.m.ws.Report(ctx, s.account, from, to, after) }, func() {
		if !s.compute.newest(gen) {
			return
		}
		s.compute.end()
		s.busy.Stop()
		s.busy.Hide()
		if err != nil {
			s.summary.SetText("")
			showError(s.errLabel, errorText(err))
			return
		}
		s.show(rep)
	})
}

// show puts a computed report on the page.
func (s *reportsScreen) show(rep *storage.Report) {
	s.rep = rep
	s.summary.SetText(T("%s to %s: %d customer messages, %d KF replies, %d conversations (%d answered). First response: median %s, 90%% within %s.",
		rep.From, rep.To, rep.CustomerMessages, rep.Replies, rep.Conversations, rep.Answered, secondsText(rep.MedianFirst), secondsText(rep.P90First)))
	s.body.Objects = []fyne.CanvasObject{
		s.section("", s.chart("messages"), "messages", "days"), // a chart has its title (also in its PNG)
		s.section("", s.chart("conversations"), "conversations", "days"),
		s.section("", s.chart("first"), "first", "days"),
		s.section(T("KF workers"), s.workerTable(), "", "workers"),
		s.section("", s.chart("heat"), "heat", "heat"),
		s.section(T("Customers left without an answer"), s.unansweredList(), "", "unanswered"),
		s.section(T("Frequent words in customer messages"), s.wordButtons(), "", "words"),
		s.section(T("Menu answers"), s.menuList(), "", "menus"),
	}
	s.body.Refresh()
}

// section is a heading with its export buttons over its content.
func (s *reportsScreen) section(title string, content fyne.CanvasObject, chart, table string) fyne.CanvasObject {
	buttons := container.NewHBox()
	if chart != "" {
		buttons.Add(widget.NewButtonWithIcon(T("PNG…"), theme.FileImageIcon(), func() { s.onExportPNG(chart) }))
	}
	if table != "" {
		buttons.Add(widget.NewButtonWithIcon(T("CSV…"), theme.DocumentSaveIcon(), func() { s.onExportCSV(table) }))
	}
	var left fyne.CanvasObject
	if title != "" {
		left = heading(title)
	}
	return container.NewVBox(container.NewBorder(nil, nil, left, buttons), content, widget.NewSeparator())
}

// chart builds a fresh chart of the report (one for the page, one for each PNG).
func (s *reportsScreen) chart(name string) fyne.CanvasObject {
	rep := s.rep
	labels := make([]string, len(rep.Days))
	series := func(name string, color fyne.ThemeColorName, v func(storage.DayFigures) float64) chartSeries {
		out := chartSeries{name: name, color: color, values: make([]float64, len(rep.Days))}
		for i, d := range rep.Days {
			out.values[i] = v(d)
		}
		return out
	}
	for i, d := range rep.Days {
		labels[i] = d.Day[5:] // MM-DD
	}
	count := func(v float64) string { return fmt.Sprint(int(v)) }
	switch name {
	case "messages":
		return newBarChart(T("Messages per day"), labels, count,
			series(T("Customer messages"), theme.ColorNamePrimary, func(d storage.DayFigures) float64 { return float64(d.CustomerMessages) }),
			series(T("KF replies"), theme.ColorNameSuccess, func(d storage.DayFigures) float64 { return float64(d.Replies) }))
	case "conversations":
		return newBarChart(T("New conversations per day"), labels, count,
			series(T("New conversations"), theme.ColorNamePrimary, func(d storage.DayFigures) float64 { return float64(d.Conversations) }))
	case "first":
		return newBarChart(T("First response per day"), labels, func(v float64) string { return secondsText(int64(v)) },
			series(T("Median"), theme.ColorNamePrimary, func(d storage.DayFigures) float64 { return float64(d.MedianFirst) }),
			series(T("90th percentile"), theme.ColorNameWarning, func(d storage.DayFigures) float64 { return float64(d.P90First) }))
	}
	rows := make([]string, 7)
	for i := range rows {
		rows[i] = storage.Weekday(i, Chinese())
	}
	return newHeatMap(T("Customer messages by weekday and hour"), rows, rep.Heat)
}

// workerTable is the per-worker table; tapping a column header sorts by it.
func (s *reportsScreen) workerTable() fyne.CanvasObject {
	_, rows := s.rep.Table("workers", Chinese())
	// Shorter than the CSV's column names: six columns must fit beside the navigation.
	header := []string{T("KF worker"), T("Conversations"), T("Messages sent"), T("First responses"), T("Median"), T("90th percentile")}
	if len(rows) == 0 {
		return widget.NewLabel(T("No KF replies in this period"))
	}
	numeric := func(v string) int64 {
		var n int64
		fmt.Sscan(v, &n)
		return n
	}
	col := s.workerSort
	slices.SortStableFunc(rows, func(a, b []string) int {
		c := strings.Compare(a[col], b[col])
		if col > 0 {
			c = int(numeric(a[col]) - numeric(b[col]))
			if c > 0 {
				c = 1
			} else if c < 0 {
				c = -1
			}
		}
		if !s.workerAsc {
			c = -c
		}
		return c
	})
	s.workerRows = rows
	grid := container.NewGridWithColumns(len(header))
	for i, h := range header {
		var mark fyne.Resource // an icon: the bundled fonts have no ▲ ▼ (ui/glyphs_test.go)
		if i == col {
			mark = map[bool]fyne.Resource{true: theme.MenuDropUpIcon(), false: theme.MenuDropDownIcon()}[s.workerAsc]
		}
		b := widget.NewButtonWithIcon(h, mark, func() { s.onSortWorkers(i) })
		b.Importance = widget.LowImportance
		grid.Add(b)
	}
	for _, r := range rows {
		for i, v := range r {
			if i >= 4 { // the median and p90 columns: seconds
				v = secondsText(numeric(v))
			}
			l := widget.NewLabel(v)
			l.Truncation = fyne.TextTruncateEllipsis // equal columns: a long worker name must not widen them all
			grid.Add(l)
		}
	}
	return grid
}

// onSortWorkers sorts the worker table by column i (again: the other way round).
func (s *reportsScreen) onSortWorkers(i int) {
	if s.workerSort == i {
		s.workerAsc = !s.workerAsc
	} else {
		s.workerSort, s.workerAsc = i, i == 0
	}
	s.show(s.rep)
}

// unansweredList: each customer's last message, a button opens the conversation.
func (s *reportsScreen) unansweredList() fyne.CanvasObject {
	list := s.rep.Unanswered
	if len(list) == 0 {
		return widget.NewLabel(T("Everyone got an answer"))
	}
	box := container.NewVBox()
	for _, u := range list[:min(len(list), unansweredShown)] {
		text := []rune(strings.Join(strings.Fields(u.Last.Text), " "))
		if len(text) > 40 {
			text = append(text[:40], '…')
		}
		line := widget.NewLabel(T("%s  waiting %s: %s", workspace.FormatTime(u.Last.Time, "01-02 15:04"), secondsText(u.Waiting), string(text)))
		line.Truncation = fyne.TextTruncateEllipsis
		b := widget.NewButtonWithIcon(T("Open conversation"), theme.NavigateNextIcon(), func() { s.onOpenConversation(u) })
		box.Add(container.NewBorder(nil, nil, nil, b, line))
	}
	if n := len(list) - unansweredShown; n > 0 {
		box.Add(widget.NewLabel(T("… and %d more (all of them in the CSV)", n)))
	}
	return box
}

// wordButtons: each frequent word opens the chat records searching for it.
func (s *reportsScreen) wordButtons() fyne.CanvasObject {
	if len(s.rep.Words) == 0 {
		return widget.NewLabel(T("No data in this period"))
	}
	box := container.NewGridWrap(fyne.NewSize(150, 36))
	for _, w := range s.rep.Words {
		box.Add(widget.NewButton(fmt.Sprintf("%s (%d)", w.Word, w.Messages), func() { s.onWord(w.Word) }))
	}
	return box
}

// menuList: per menu sent, the answers to each option and the satisfaction rate.
func (s *reportsScreen) menuList() fyne.CanvasObject {
	if len(s.rep.Menus) == 0 {
		return widget.NewLabel(T("No menu messages were sent in this period"))
	}
	box := container.NewVBox()
	for _, m := range s.rep.Menus {
		line := T("%s — sent %d, answered %d", m.Head, m.Sent, m.Answered)
		if m.HasSatisfaction {
			line += "  " + T("satisfied %.0f%%", 100*m.Satisfied)
		}
		box.Add(widget.NewLabelWithStyle(line, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		var opts []string
		for _, o := range m.Options {
			opts = append(opts, fmt.Sprintf("%s: %d", o.Text, o.Answers))
		}
		box.Add(widget.NewLabel(strings.Join(opts, "    ")))
	}
	return box
}

// onOpenConversation shows the chat records with the customer's conversation open.
func (s *reportsScreen) onOpenConversation(u storage.UnansweredChat) {
	s.m.onNavigate(PageRecords)
	if r := s.m.records; r != nil {
		r.customer.SetText(u.OpenID)
		r.conv = newConversationView(r, u.Last)
		r.side.Objects = []fyne.CanvasObject{r.conv.buildUI()}
		r.side.Refresh()
	}
}

// onWord shows the chat records searching for a frequent word.
func (s *reportsScreen) onWord(word string) {
	s.m.onNavigate(PageRecords)
	if r := s.m.records; r != nil {
		r.query.SetText(word)
	}
}

func (s *reportsScreen) fileName(name, ext string) string {
	return T("report") + "-" + name + "-" + s.rep.From + "_" + s.rep.To + ext
}

// saveDialog asks for a file to write with the extension ext, then calls write with its path.
func (s *reportsScreen) saveDialog(name, ext string, write func(path string)) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			s.exported("", err)
			return
		}
		if w == nil {
			return // cancelled
		}
		path := w.URI().Path()
		_ = w.Close() // the export writes a temp file and renames it over this one
		write(path)
	}, s.m.win)
	d.SetFileName(s.fileName(name, ext))
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{ext}))
	d.Resize(fyne.NewSize(820, 560))
	d.Show()
}

func (s *reportsScreen) onExportPNG(chart string) {
	s.saveDialog(chart, ".png", func(path string) { s.exportPNGTo(chart, path) })
}

func (s *reportsScreen) onExportCSV(table string) {
	s.saveDialog(table, ".csv", func(path string) { s.exportCSVTo(table, path) })
}

// chartPNGSize is the size a chart is exported at (a slide's width).
var chartPNGSize = fyne.NewSize(960, 360)

// exportPNGTo draws the chart here (widgets belong to the UI thread) and encodes and writes it in the background.
func (s *reportsScreen) exportPNGTo(chart, path string) {
	img := chartImage(s.chart(chart), chartPNGSize)
	var err error
	s.m.goBackground(func() {
		err = s.m.ws.SaveFile(path, func(w io.Writer) error { return png.Encode(w, img) })
	}, func() { s.exported(path, err) })
}

func (s *reportsScreen) exportCSVTo(table, path string) {
	rep, zh := s.rep, Chinese()
	var err error
	s.m.goBackground(func() { err = s.m.ws.ExportReportTable(rep, path, table, zh) }, func() { s.exported(path, err) })
}

func (s *reportsScreen) exported(path string, err error) {
	s.exportLine.Show()
	if err != nil {
		s.exportLine.Importance = widget.DangerImportance
		s.exportLine.SetText(T("Export failed: %s", errorText(err)))
		return
	}
	s.exportLine.Importance = widget.SuccessImportance
	s.exportLine.SetText(T("Saved %s", path))
}

// secondsText writes seconds readably: 45 秒, 3 分 20 秒, 2 小时 5 分.
func secondsText(sec int64) string {
	switch {
	case sec < 60:
		return T("%d s", sec)
	case sec < 3600:
		if sec%60 == 0 {
			return T("%d min", sec/60)
		}
		return T("%d min %d s", sec/60, sec%60)
	case sec%3600 == 0:
		return T("%d h", sec/3600)
	}
	return T("%d h %d min", sec/3600, sec%3600/60)
}
