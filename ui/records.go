package ui

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// recordsScreen browses the account's chat-record archive: a search bar that
// searches as the operator types, filters, a virtualised result list (pages read
// from SQLite as it scrolls), the selected record's whole conversation, CSV
// export and the Sync dialog.
type recordsScreen struct {
	m       *MainWindow
	account storage.Account

	query, customer   *widget.Entry
	worker, direction *widget.Select
	from, to          *widget.DateEntry
	list              *widget.List
	count, lastSync   *widget.Label
	listErr           *wrapLabel
	syncBtn, export   *widget.Button
	exportBar         *widget.ProgressBar
	exportStop        *widget.Button
	exportLine        *widget.Label
	exportBox         *fyne.Container
	side              *fyne.Container // the conversation, or a hint
	conv              *conversationView

	// The current query: a new search cancels the one before, whose results are dropped.
	search       latestRun
	filter       storage.RecordFilter
	pages        *recordPages
	total        int  // rows in the list
	counted      bool // total is the exact count, not the rows loaded so far
	debounce     *time.Timer
	workers      []string
	notes        map[string]string // openid → the operator's note (the composer keeps them)
	exportCancel context.CancelFunc
	syncDlg      *syncDialog // the last Sync dialog opened (tests look at it)
}

func newRecordsScreen(m *MainWindow) *recordsScreen {
	return &recordsScreen{m: m, account: m.account, pages: newRecordPages()}
}

// searchDelay is how long typing must pause before the search runs.
const searchDelay = 300 * time.Millisecond

// directions are the direction filter's choices, in the order shown.
var directions = []api.Direction{"", api.DirIn, api.DirOut, api.DirEvent}

func (s *recordsScreen) buildUI() fyne.CanvasObject {
	s.query = widget.NewEntry()
	s.query.SetPlaceHolder(T(`Search the chat records: words in any order, "exact phrase", -word to leave out`))
	s.query.ActionItem = widget.NewIcon(theme.SearchIcon())
	s.query.OnChanged = func(string) { s.onFilterChanged() }
	s.customer = widget.NewEntry()
	s.customer.SetPlaceHolder(T("Customer: OpenID or note"))
	s.customer.OnChanged = func(string) { s.onFilterChanged() }
	s.worker = widget.NewSelect([]string{T("All KF workers")}, func(string) { s.onFilterChanged() })
	s.worker.SetSelectedIndex(0)
	s.direction = widget.NewSelect([]string{T("All directions"), T("From customers"), T("From KF"), T("Session events")},
		func(string) { s.onFilterChanged() })
	s.direction.SetSelectedIndex(0)
	s.from, s.to = widget.NewDateEntry(), widget.NewDateEntry()
	s.from.SetPlaceHolder(T("From date"))
	s.to.SetPlaceHolder(T("To date"))
	s.from.OnChanged = func(*time.Time) { s.onFilterChanged() }
	s.to.OnChanged = func(*time.Time) { s.onFilterChanged() }
	clear := widget.NewButtonWithIcon("", theme.ContentClearIcon(), s.onClearFilters)

	s.list = widget.NewList(func() int { return s.total },
		func() fyne.CanvasObject { return newRecordRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) { s.showRow(i, o.(*recordRow)) })
	s.list.OnSelected = s.onSelect

	s.count = widget.NewLabel("")
	s.lastSync = widget.NewLabel("")
	s.listErr = newErrorLabel()
	s.syncBtn = widget.NewButtonWithIcon(T("Sync…"), theme.DownloadIcon(), s.onSync)
	s.syncBtn.Importance = widget.HighImportance
	s.export = widget.NewButtonWithIcon(T("Export CSV…"), theme.DocumentSaveIcon(), s.onExport)
	s.exportBar = widget.NewProgressBar()
	s.exportStop = widget.NewButton(T("Cancel"), func() {
		if s.exportCancel != nil {
			s.exportCancel()
		}
	})
	s.exportLine = widget.NewLabel("")
	s.exportLine.Truncation = fyne.TextTruncateEllipsis
	s.exportBox = container.NewBorder(nil, nil, nil, container.NewHBox(s.exportBar, s.exportStop), s.exportLine)
	s.exportBox.Hide()

	filters := container.NewGridWithColumns(5, s.customer, s.worker, s.direction, s.from, s.to)
	top := container.NewVBox(
		container.NewBorder(nil, nil, heading(T("Chat records")), container.NewHBox(s.syncBtn, s.export), s.lastSync),
		s.query,
		container.NewBorder(nil, nil, nil, clear, filters),
		container.NewBorder(nil, nil, nil, nil, s.count),
		s.listErr, s.exportBox)
	hint := newWrapLabel(T("Select a record to see the whole conversation."))
	s.side = container.NewStack(container.NewVBox(hint))
	split := container.NewHSplit(s.list, s.side)
	split.Offset = 0.56

	s.loadChoices()
	s.showLastSync()
	s.onSearch()
	s.m.autoSyncFirstTime(s.account)
	return container.NewBorder(top, nil, nil, nil, split)
}

// loadChoices fills the worker filter and the customer notes in the background.
func (s *recordsScreen) loadChoices() {
	var workers []string
	var notes map[string]string
	s.m.goBackground(func() {
		workers, _ = s.m.ws.DB.RecordWorkers(s.m.ctx, s.account.ID)
		notes, _ = s.m.ws.DB.Notes(s.m.ctx, s.account.ID)
	}, func() {
		s.workers, s.notes = workers, notes
		keep := s.worker.Selected
		s.worker.SetOptions(append([]string{T("All KF workers")}, workers...))
		s.worker.Selected = keep // SetSelected would search again
		if s.worker.SelectedIndex() < 0 {
			s.worker.Selected = T("All KF workers")
		}
		s.worker.Refresh()
		s.list.Refresh()
	})
}

// showLastSync says when the archive was last synced and up to which day it is complete.
func (s *recordsScreen) showLastSync() {
	var text string
	s.m.goBackground(func() { text = lastSyncText(s.m.ctx, s.m.ws.DB, s.account.ID) }, func() { s.lastSync.SetText(text) })
}

func lastSyncText(ctx context.Context, db *storage.DB, accountID int64) string {
	at, ok, err := db.LastRecordSync(ctx, accountID)
	if err != nil {
		return errorText(err)
	}
	if !ok {
		return T("Never synced: press Sync to download the chat records.")
	}
	text := T("Last synced %s", workspace.FormatTime(at, "2006-01-02 15:04"))
	if day, ok, _ := db.LastCompleteDay(ctx, accountID); ok {
		text += T(" · complete up to %s", workspace.FormatTime(day, "2006-01-02"))
	}
	return text
}

// currentFilter reads the search bar and the filters.
func (s *recordsScreen) currentFilter() storage.RecordFilter {
	f := storage.RecordFilter{Text: strings.TrimSpace(s.query.Text)}
	f = workspace.FilterCustomers(f, workspace.MatchCustomers(s.notes, s.customer.Text))
	if i := s.worker.SelectedIndex(); i > 0 {
		f.Worker = s.worker.Selected
	}
	if i := s.direction.SelectedIndex(); i > 0 {
		f.OperCodes = api.DirectionOperCodes(directions[i])
	}
	f.From, f.To = beijingDate(s.from.Date), beijingDate(s.to.Date)
	return f
}

// beijingDate takes the calendar's day (Y-M-D) as that Beijing day; nil is no limit.
func beijingDate(d *time.Time) time.Time {
	if d == nil {
		return time.Time{}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, storage.Beijing)
}

// onFilterChanged searches once typing pauses. The timer's callback comes back
// through fyne.Do; it counts as background work so tests can wait for it.
func (s *recordsScreen) onFilterChanged() {
	if s.list == nil {
		return // still building
	}
	if s.debounce != nil && s.debounce.Stop() {
		s.m.pending.Add(-1)
	}
	s.m.pending.Add(1)
	s.debounce = time.AfterFunc(searchDelay, func() {
		fyne.Do(func() {
			s.m.pending.Add(-1)
			s.onSearch()
		})
	})
}

func (s *recordsScreen) onClearFilters() {
	s.customer.SetText("")
	s.worker.SetSelectedIndex(0)
	s.direction.SetSelectedIndex(0)
	s.from.SetText("")
	s.to.SetText("")
}

// onSearch starts a new query: the first page shows as soon as it is read, the
// count follows. A newer search makes every result of this one stale.
func (s *recordsScreen) onSearch() {
	f := s.currentFilter()
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		showError(s.listErr, T("The start date is after the end date."))
		return
	}
	showError(s.listErr, "")
	ctx, gen := s.search.start(s.m.ctx)
	s.filter, s.pages, s.total, s.counted = f, newRecordPages(), 0, false
	s.list.UnselectAll()
	if gen > 1 { // the list has a scroller once it has been shown
		s.list.ScrollToTop()
	}
	s.list.Refresh()
	s.count.SetText(T("Searching…"))
	s.requestPage(0)

	var n int
	var err error
	s.m.goBackground(func() { n, err = s.m.ws.DB.CountRecords(ctx, s.account.ID, f) }, func() {
		if !s.search.newest(gen) || ctx.Err() != nil {
			return
		}
		if err != nil {
			showError(s.listErr, errorText(err))
			return
		}
		s.total, s.counted = n, true
		s.showCount()
		s.list.Refresh()
	})
}

func (s *recordsScreen) showCount() {
	switch {
	case s.total == 0 && s.counted:
		if isEmptyFilter(s.filter) {
			s.count.SetText(T("The archive is empty: sync to download the chat records."))
		} else {
			s.count.SetText(T("No records match."))
		}
	case s.counted:
		s.count.SetText(T("%s records", groupDigits(s.total)))
	default:
		s.count.SetText(T("%s+ records, counting…", groupDigits(s.total)))
	}
}

// requestPage reads page n in the background unless it is cached or on its way.
func (s *recordsScreen) requestPage(n int) {
	start, ok := s.pages.startLoad(n)
	if !ok {
		return
	}
	gen, f, pages := s.search.gen, s.filter, s.pages
	var page storage.RecordPage
	var err error
	s.m.goBackground(func() {
		page, err = loadRecordPage(s.m.ctx, s.m.ws.DB, s.account.ID, f, start)
	}, func() {
		if !s.search.newest(gen) {
			return
		}
		if err != nil {
			delete(pages.loading, n)
			showError(s.listErr, errorText(err))
			return
		}
		pages.put(n, page)
		if !s.counted { // grow the list as pages arrive until the count is known
			if rows := n*recordPageSize + len(page.Records); rows > s.total {
				s.total = rows
			}
			s.showCount()
		}
		s.list.Refresh()
	})
}

// showRow fills a list row from the page cache, asking for its page when missing.
func (s *recordsScreen) showRow(i int, r *recordRow) {
	rec, ok := s.pages.row(i)
	if !ok {
		r.showLoading()
		s.requestPage(i / recordPageSize)
		return
	}
	r.show(rec, s.customerName(rec.OpenID), s.filter.Text)
}

// customerName is the operator's note on a customer, else a short form of the OpenID.
func (s *recordsScreen) customerName(openid string) string {
	if n := s.notes[openid]; n != "" {
		return n
	}
	if r := []rune(openid); len(r) > 14 {
		return string(r[:5]) + "…" + string(r[len(r)-6:])
	}
	return openid
}

// onSelect opens the selected record's conversation beside the list.
func (s *recordsScreen) onSelect(i widget.ListItemID) {
	rec, ok := s.pages.row(i)
	if !ok {
		s.list.Unselect(i)
		return
	}
	if rec.OpenID == "" {
		return // a session event without a customer
	}
	s.conv = newConversationView(s, rec)
	s.side.Objects = []fyne.CanvasObject{s.conv.buildUI()}
	s.side.Refresh()
}

// onReply opens the composer for the conversation's customer.
func (s *recordsScreen) onReply(openid string) { s.m.OpenComposerFor(openid) }

// onSync opens the Sync dialog.
func (s *recordsScreen) onSync() {
	s.syncDlg = newSyncDialog(s.m, s.account)
	s.syncDlg.show()
}

// syncFinished: new records may have arrived; search again and refresh the choices.
func (s *recordsScreen) syncFinished() {
	s.showLastSync()
	s.loadChoices()
	s.onSearch()
}

// onExport asks where to save the current filter's records as CSV.
func (s *recordsScreen) onExport() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			s.finishExport(0, "", err)
			return
		}
		if w == nil {
			return // cancelled
		}
		path := w.URI().Path()
		_ = w.Close() // the export writes a temp file and renames it over this one
		s.exportTo(path, true)
	}, s.m.win)
	d.SetFileName(T("chat-records") + "-" + workspace.FormatTime(clock.Now(), "2006-01-02") + ".csv")
	d.SetFilter(fstorage.NewExtensionFileFilter([]string{".csv"}))
	d.Resize(fyne.NewSize(820, 560))
	d.Show()
}

// exportTo writes the current filter's records to path in the background, with
// progress and Cancel. created: the save dialog made an empty file there, to
// remove if the export does not complete.
func (s *recordsScreen) exportTo(path string, created bool) {
	ctx, cancel := context.WithCancel(s.m.ctx)
	s.exportCancel = cancel
	s.export.Disable()
	s.exportBar.SetValue(0)
	s.exportBar.Show()
	s.exportStop.Show()
	s.exportLine.Importance = widget.MediumImportance
	s.exportLine.SetText(T("Exporting to %s…", path))
	s.exportBox.Show()
	f, zh := s.filter, Chinese()
	var n int
	var err error
	s.m.goBackground(func() {
		n, err = s.m.ws.ExportRecords(ctx, s.account, path, f, zh, progressTo[int](s.exportBar))
		if err != nil && created {
			if st, serr := os.Stat(path); serr == nil && st.Size() == 0 {
				if err := os.Remove(path); err != nil {
					slog.Warn("could not remove the empty file of an unfinished export", "err", err)
				}
			}
		}
	}, func() {
		cancel()
		s.finishExport(n, path, err)
	})
}

func (s *recordsScreen) finishExport(n int, path string, err error) {
	s.exportCancel = nil
	s.export.Enable()
	s.exportBar.Hide()
	s.exportStop.Hide()
	s.exportBox.Show()
	switch {
	case err == context.Canceled:
		s.exportLine.Importance = widget.WarningImportance
		s.exportLine.SetText(T("Export cancelled; no file was written."))
	case err != nil:
		s.exportLine.Importance = widget.DangerImportance
		s.exportLine.SetText(T("Export failed: %s", errorText(err)))
	default:
		s.exportLine.Importance = widget.SuccessImportance
		s.exportLine.SetText(T("Exported %s records to %s", groupDigits(n), path))
	}
	s.exportLine.Refresh()
}

func isEmptyFilter(f storage.RecordFilter) bool {
	return f.Text == "" && f.OpenID == "" && len(f.OpenIDs) == 0 && f.Worker == "" && len(f.OperCodes) == 0 && f.From.IsZero() && f.To.IsZero()
}

// groupDigits writes 1234567 as 1,234,567.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
