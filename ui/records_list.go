package ui

import (
	"context"
	"image/color"
	"slices"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// The result list holds at most a few pages of records however long it is: rows
// come from a page cache; a row whose page is not loaded yet shows a placeholder
// and the page is read from SQLite off the UI thread.

const (
	recordPageSize  = 200 // rows per page read from SQLite
	recordPagesKept = 40  // pages kept (8,000 rows): a few screens either way plus jumps
)

// recordPages is the page cache of one result list (one query). UI thread only.
type recordPages struct {
	pages   map[int]*cachedPage
	loading map[int]bool
	tick    int // LRU clock
}

type cachedPage struct {
	recs []storage.Record
	next storage.RecordCursor // cursor after the page's last row: the next page loads by keyset
	used int
}

func newRecordPages() *recordPages {
	return &recordPages{pages: map[int]*cachedPage{}, loading: map[int]bool{}}
}

// row returns row i if its page is loaded.
func (c *recordPages) row(i int) (storage.Record, bool) {
	p, ok := c.pages[i/recordPageSize]
	if !ok || i%recordPageSize >= len(p.recs) {
		return storage.Record{}, false
	}
	c.tick++
	p.used = c.tick
	return p.recs[i%recordPageSize], true
}

// put stores a loaded page and forgets the least recently used ones beyond the limit.
func (c *recordPages) put(n int, page storage.RecordPage) {
	delete(c.loading, n)
	c.tick++
	c.pages[n] = &cachedPage{recs: page.Records, next: page.Next, used: c.tick}
	for len(c.pages) > recordPagesKept {
		oldest, min := -1, c.tick+1
		for k, p := range c.pages {
			if p.used < min {
				oldest, min = k, p.used
			}
		}
		delete(c.pages, oldest)
	}
}

// startLoad marks page n as being loaded; false if it is loaded or loading already.
// It returns where to start: the previous page's cursor when that page is cached.
func (c *recordPages) startLoad(n int) (start pageStart, ok bool) {
	if _, have := c.pages[n]; have || c.loading[n] {
		return start, false
	}
	c.loading[n] = true
	start.page = n
	if prev, have := c.pages[n-1]; have && n > 0 {
		start.cursor, start.keyset = prev.next, true
	}
	return start, true
}

// pageStart says how to read a page: by keyset cursor (cheap) or by row offset (a jump).
type pageStart struct {
	page   int
	cursor storage.RecordCursor
	keyset bool
}

// loadRecordPage reads one page of the newest-first result list.
func loadRecordPage(ctx context.Context, db *storage.DB, accountID int64, f storage.RecordFilter, s pageStart) (storage.RecordPage, error) {
	if s.keyset || s.page == 0 {
		return db.SearchRecords(ctx, accountID, f, s.cursor, recordPageSize)
	}
	return db.SearchRecordsAt(ctx, accountID, f, s.page*recordPageSize, recordPageSize)
}

// recordRow is one row of the result list, two lines of uniform height:
// time, direction, customer and worker above; the text with the match highlighted below.
type recordRow struct {
	widget.BaseWidget
	when, dir, customer, worker *canvas.Text
	text                        *widget.RichText
	shown                       rowKey // what the row shows now: refreshing it again costs nothing
}

// rowKey identifies what a row shows. Truncating rich text shapes it, the costly
// part of drawing a row, so a row is only rebuilt when this changes.
type rowKey struct {
	id              int64
	customer, q     string
	zh, placeholder bool
}

func newRecordRow() *recordRow {
	small := theme.CaptionTextSize()
	r := &recordRow{when: canvas.NewText("", color.Black), dir: canvas.NewText("", color.Black),
		customer: canvas.NewText("", color.Black), worker: canvas.NewText("", color.Black), text: widget.NewRichText()}
	for _, t := range []*canvas.Text{r.when, r.dir, r.customer, r.worker} {
		t.TextSize = small
	}
	r.dir.TextStyle.Bold = true
	r.text.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *recordRow) CreateRenderer() fyne.WidgetRenderer {
	return &recordRowRenderer{r: r, objs: []fyne.CanvasObject{r.when, r.dir, r.customer, r.worker, r.text}}
}

type recordRowRenderer struct {
	r    *recordRow
	objs []fyne.CanvasObject
}

// Column x positions of the first line; the text below takes the whole width.
const (
	rowDirX      = 140
	rowCustomerX = 205
	rowWorkerX   = 330
)

func (rr *recordRowRenderer) Layout(size fyne.Size) {
	pad := theme.InnerPadding()
	lineH := rr.r.when.MinSize().Height
	y := pad / 2
	place := func(t *canvas.Text, x, w float32) {
		t.Move(fyne.NewPos(pad+x, y))
		t.Resize(fyne.NewSize(max(w, 0), lineH))
	}
	place(rr.r.when, 0, rowDirX-4)
	place(rr.r.dir, rowDirX, rowCustomerX-rowDirX-4)
	place(rr.r.customer, rowCustomerX, rowWorkerX-rowCustomerX-8)
	place(rr.r.worker, rowWorkerX, size.Width-rowWorkerX-2*pad)
	rr.r.text.Move(fyne.NewPos(0, y+lineH-pad/2))
	rr.r.text.Resize(fyne.NewSize(size.Width, size.Height-(y+lineH-pad/2)))
}

func (rr *recordRowRenderer) MinSize() fyne.Size {
	lineH := rr.r.when.MinSize().Height
	textH := fyne.MeasureText("国", theme.TextSize(), fyne.TextStyle{}).Height + 2*theme.InnerPadding()
	return fyne.NewSize(rowWorkerX+100, lineH+textH)
}

func (rr *recordRowRenderer) Refresh() {
	for _, o := range rr.objs {
		o.Refresh()
	}
}
func (rr *recordRowRenderer) Objects() []fyne.CanvasObject { return rr.objs }
func (rr *recordRowRenderer) Destroy()                     {}

// show fills the row with a record; q is the search text to highlight.
func (r *recordRow) show(rec storage.Record, customer, q string) {
	key := rowKey{id: rec.ID, customer: customer, q: q, zh: Chinese()}
	if r.shown == key {
		return
	}
	r.shown = key
	fg := theme.Color(theme.ColorNameForeground)
	r.when.Color, r.customer.Color, r.worker.Color = fg, fg, theme.Color(theme.ColorNamePlaceHolder)
	r.when.Text = workspace.FormatTime(rec.Time, "2006-01-02 15:04:05")
	r.dir.Text, r.dir.Color = directionText(rec.OperCode)
	r.customer.Text = customer
	r.worker.Text = workerName(rec.Worker)
	text := oneLine(cutRunes(rec.Text, rowTextRunes))
	if text == "" {
		r.text.Segments = []widget.RichTextSegment{&widget.TextSegment{Text: api.OperCodeName(rec.OperCode, Chinese()),
			Style: widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePlaceHolder, TextStyle: fyne.TextStyle{Italic: true}}}}
	} else {
		r.text.Segments = highlightSegments(text, q)
	}
	r.Refresh()
}

// showLoading is the placeholder of a row whose page is still being read.
func (r *recordRow) showLoading() {
	if r.shown.placeholder {
		return
	}
	r.shown = rowKey{placeholder: true}
	r.when.Text, r.dir.Text, r.customer.Text, r.worker.Text = "…", "", "", ""
	r.text.Segments = []widget.RichTextSegment{&widget.TextSegment{Text: T("Loading…"),
		Style: widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePlaceHolder}}}
	r.Refresh()
}

// workerName drops the "@OA-WeChat-ID" every worker of the account shares.
func workerName(w string) string {
	if i := strings.LastIndexByte(w, '@'); i > 0 {
		return w[:i]
	}
	return w
}

// rowTextRunes is more than a row can show at any window width; the rest is not shaped at all.
const rowTextRunes = 300

// cutRunes keeps the first n runes of s.
func cutRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// directionText names who acted, in a colour per direction.
func directionText(code int) (string, color.Color) {
	switch api.OperCodeDirection(code) {
	case api.DirIn:
		return T("Customer »"), theme.Color(theme.ColorNamePrimary)
	case api.DirOut:
		return T("« KF"), theme.Color(theme.ColorNameSuccess)
	case api.DirEvent:
		return T("Session"), theme.Color(theme.ColorNamePlaceHolder)
	}
	return T("Other"), theme.Color(theme.ColorNamePlaceHolder)
}

// oneLine folds a message's line breaks and runs of spaces for a one-line row.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

var highlightStyle = widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePrimary, TextStyle: fyne.TextStyle{Bold: true}}

// highlightSegments splits text into plain and highlighted runs: every occurrence
// of each word the search q looks for (storage.SearchWords: phrases whole, excluded
// words not), ignoring case as the search does.
func highlightSegments(text, q string) []widget.RichTextSegment {
	var segs []widget.RichTextSegment
	add := func(s string, style widget.RichTextStyle) {
		if s != "" {
			segs = append(segs, &widget.TextSegment{Text: s, Style: style})
		}
	}
	rest := []rune(text)
	last := 0
	for _, m := range matchSpans(rest, storage.SearchWords(q)) {
		add(string(rest[last:m[0]]), widget.RichTextStyleInline)
		add(string(rest[m[0]:m[1]]), highlightStyle)
		last = m[1]
	}
	add(string(rest[last:]), widget.RichTextStyleInline)
	return segs
}

// matchSpans finds the non-overlapping case-insensitive occurrences of the words
// in text, as rune index ranges: from the left, the longest word where several start.
func matchSpans(text []rune, words []string) [][2]int {
	qs := make([][]rune, 0, len(words))
	for _, w := range words {
		qs = append(qs, []rune(w))
	}
	slices.SortStableFunc(qs, func(a, b []rune) int { return len(b) - len(a) })
	var out [][2]int
	for i := 0; i < len(text); {
		n := 0
		for _, q := range qs {
			if foldedAt(text, i, q) {
				n = len(q)
				break
			}
		}
		if n == 0 {
			i++
			continue
		}
		out = append(out, [2]int{i, i + n})
		i += n
	}
	return out
}

// foldedAt: q occurs in text at i, ignoring case.
func foldedAt(text []rune, i int, q []rune) bool {
	if len(q) == 0 || i+len(q) > len(text) {
		return false
	}
	for j, r := range q {
		if unicode.ToLower(text[i+j]) != unicode.ToLower(r) {
			return false
		}
	}
	return true
}
