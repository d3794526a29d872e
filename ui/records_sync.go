package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// SettingRecordsAutoSync: "1" makes the window sync chat records (incrementally)
// in the background whenever an account is loaded.
const SettingRecordsAutoSync = "records_autosync"

// recordSyncer runs the window's chat-record sync, one at a time, off the UI
// thread: started from the Sync dialog or automatically. The dialog and the
// window's status bar watch it; its state changes on the UI thread only.
type recordSyncer struct {
	m        *MainWindow
	run      int // rises with every start: late progress of an older run is dropped
	running  bool
	account  storage.Account
	progress storage.SyncProgress
	err      error // how the last run ended
	ended    bool  // a run has ended since the window opened
	cancel   context.CancelFunc
	watchers map[int]func()
	nextID   int

	bar    *fyne.Container // the status-bar line: text and Cancel
	text   *widget.Label
	stop   *widget.Button
	autoed map[int64]bool // accounts synced automatically in this session
}

func newRecordSyncer(m *MainWindow) *recordSyncer {
	y := &recordSyncer{m: m, watchers: map[int]func(){}, autoed: map[int64]bool{}}
	return y
}

// statusBar is the small line at the bottom of the window (rebuilt with the window).
func (y *recordSyncer) statusBar() fyne.CanvasObject {
	y.text = widget.NewLabel("")
	y.stop = widget.NewButtonWithIcon(T("Cancel"), theme.CancelIcon(), y.stopRun)
	y.bar = container.NewHBox(y.text, y.stop)
	y.showStatus()
	return y.bar
}

func (y *recordSyncer) showStatus() {
	if y.bar == nil {
		return
	}
	switch {
	case y.running:
		y.text.SetText(T("Syncing chat records of %s: %s", y.account.Name, progressText(y.progress)))
		y.stop.Show()
		y.bar.Show()
	case y.ended:
		y.text.SetText(T("Chat records of %s: %s", y.account.Name, endText(y.progress, y.err)))
		y.stop.Hide()
		y.bar.Show()
	default:
		y.bar.Hide()
	}
}

// watch calls f (on the UI thread) whenever the sync's state changes, until stop.
func (y *recordSyncer) watch(f func()) (stop func()) {
	id := y.nextID
	y.nextID++
	y.watchers[id] = f
	return func() { delete(y.watchers, id) }
}

func (y *recordSyncer) changed() {
	y.showStatus()
	for _, f := range y.watchers {
		f()
	}
}

// start syncs a's records: the days from..to, or with incremental every day
// WeChat still keeps that is not complete. It reports false if a sync is running.
func (y *recordSyncer) start(a storage.Account, from, to time.Time, incremental bool) bool {
	if y.running {
		return false
	}
	ctx, cancel := context.WithCancel(y.m.ctx)
	y.run++
	run := y.run
	y.running, y.ended, y.account, y.progress, y.err, y.cancel = true, false, a, storage.SyncProgress{}, nil, cancel
	y.changed()
	var p storage.SyncProgress
	var err error
	req := workspace.SyncRequest{From: from, To: to, Progress: func(sp storage.SyncProgress) {
		fyne.Do(func() {
			if run == y.run && y.running {
				y.progress = sp
				y.changed()
			}
		})
	}}
	if incremental {
		req.From, req.To = time.Time{}, time.Time{}
	}
	y.m.goBackground(func() { p, err = y.m.ws.SyncRecords(ctx, a, req) }, func() {
		cancel()
		y.running, y.ended, y.progress, y.err, y.cancel = false, true, p, err, nil
		y.changed()
		if r := y.m.records; r != nil && y.m.page == PageRecords && r.account.ID == a.ID {
			r.syncFinished()
		}
	})
	return true
}

func (y *recordSyncer) stopRun() {
	if y.cancel != nil {
		y.cancel()
	}
}

// autoSyncAccount starts the background sync for an account just loaded, when the
// operator asked for it (once per account and session).
func (m *MainWindow) autoSyncAccount(a storage.Account) {
	if a.ID == 0 || m.syncer.autoed[a.ID] {
		return
	}
	var on bool
	m.goBackground(func() {
		v, _, err := m.ws.DB.Setting(m.ctx, SettingRecordsAutoSync)
		on = err == nil && v == "1"
	}, func() {
		if on {
			m.autoStart(a)
		}
	})
}

// autoSyncFirstTime fills the demo account's empty archive when its records are
// first opened, so the browser has something to show out of the box. Real
// accounts wait for the operator to press Sync.
func (m *MainWindow) autoSyncFirstTime(a storage.Account) {
	if !a.Demo || m.syncer.running || m.syncer.autoed[a.ID] {
		return
	}
	var never bool
	m.goBackground(func() {
		_, synced, err := m.ws.DB.LastRecordSync(m.ctx, a.ID)
		never = err == nil && !synced
	}, func() {
		if never {
			m.autoStart(a)
		}
	})
}

// autoStart starts an automatic sync of a, once per account and session.
func (m *MainWindow) autoStart(a storage.Account) {
	if m.syncer.autoed[a.ID] || m.syncer.running {
		return
	}
	m.syncer.autoed[a.ID] = true
	m.syncer.start(a, time.Time{}, time.Time{}, true)
}

// progressText: "day 3 of 30 (2026-11-03) · 12 pages · 3,456 records, 3,400 new".
func progressText(p storage.SyncProgress) string {
	if p.Days == 0 && p.Pages == 0 {
		return T("starting…")
	}
	if p.Phase == storage.PhaseIndexing {
		// A first sync stores every page, then builds the search index in one pass.
		return T("building the search index: %s of %s records", groupDigits(p.Indexed), groupDigits(p.ToIndex))
	}
	if p.Phase == storage.PhaseSuggesting {
		// Then the suggested-reply exchanges of the customers with new messages (storage/suggest.go).
		return T("preparing suggested replies: %s of %s customers", groupDigits(p.Suggested), groupDigits(p.ToSuggest))
	}
	day := ""
	if !p.Day.IsZero() {
		day = " (" + workspace.FormatTime(p.Day, "2006-01-02") + ")"
	}
	return T("day %d of %d%s · %d pages · %s records, %s new", min(p.DaysDone+1, max(p.Days, 1)), p.Days, day,
		p.Pages, groupDigits(p.Records), groupDigits(p.Added))
}

// endText says how a run ended: done, cancelled, or stopped by an error (explained).
func endText(p storage.SyncProgress, err error) string {
	switch {
	case err == nil:
		t := T("done: %d days synced, %s records, %s new.", p.DaysDone, groupDigits(p.Records), groupDigits(p.Added))
		if p.Skipped > 0 {
			t += " " + T("%d days were already complete.", p.Skipped)
		}
		return t
	case p.Phase == storage.PhaseSuggesting && errors.Is(err, context.Canceled):
		// Every record is stored by then: only the suggestions are left for the next sync.
		return T("cancelled while preparing suggested replies. Every record is stored (%s new); the suggested replies of the other %s customers are prepared by the next sync.",
			groupDigits(p.Added), groupDigits(p.ToSuggest-p.Suggested))
	case errors.Is(err, context.Canceled):
		return T("cancelled. The %s new records stored are kept; the next sync continues where this one stopped.", groupDigits(p.Added))
	case p.Phase == storage.PhaseSuggesting:
		return errorText(err) + " " + T("Every record is stored (%s new); sync again to prepare the suggested replies.", groupDigits(p.Added))
	}
	if p.Day.IsZero() { // before the first day: nothing was fetched
		return errorText(err) + " " + T("Nothing was stored; sync again when the problem is solved.")
	}
	return errorText(err) + " " + T("Stopped at %s with %s new records stored; sync again to continue from there.", workspace.FormatTime(p.Day, "2006-01-02"), groupDigits(p.Added))
}

// syncDialog lets the operator choose the days to sync and follow the sync.
type syncDialog struct {
	m       *MainWindow
	account storage.Account

	from, to      *widget.DateEntry
	auto          *widget.Check
	last          *widget.Label
	note          *wrapLabel
	bar           *widget.ProgressBar
	status        *wrapLabel
	errLine, done *wrapLabel
	start, cancel *widget.Button
	d             *dialog.CustomDialog
	unwatch       func()
}

func newSyncDialog(m *MainWindow, a storage.Account) *syncDialog {
	return &syncDialog{m: m, account: a}
}

func (d *syncDialog) show() {
	d.from, d.to = widget.NewDateEntry(), widget.NewDateEntry()
	d.auto = widget.NewCheck(T("Sync automatically when KF Desk starts"), nil)
	d.last = widget.NewLabel(T("Loading…"))
	d.note = newWrapLabel(T("WeChat keeps chat records for 30 days: older days can no longer be downloaded. Days already complete are skipped."))
	d.bar = widget.NewProgressBar()
	d.status = newWrapLabel("")
	d.errLine = newErrorLabel()
	d.done = newWrapLabel("")
	d.done.Importance = widget.SuccessImportance
	d.done.Hide()
	d.start = widget.NewButtonWithIcon(T("Start sync"), theme.DownloadIcon(), d.onStart)
	d.start.Importance = widget.HighImportance
	d.cancel = widget.NewButtonWithIcon(T("Cancel sync"), theme.CancelIcon(), d.m.syncer.stopRun)
	closeBtn := widget.NewButton(T("Close"), func() { d.d.Hide() })

	form := widget.NewForm(widget.NewFormItem(T("From date"), d.from), widget.NewFormItem(T("To date"), d.to))
	body := container.NewVBox(d.last, form, d.note, d.auto, d.bar, d.status, d.errLine, d.done,
		container.NewHBox(d.start, d.cancel, closeBtn))
	d.d = dialog.NewCustomWithoutButtons(T("Sync chat records of %s", d.account.Name), body, d.m.win)
	d.d.SetOnClosed(func() { d.unwatch() }) // the sync goes on; the status bar keeps showing it
	d.unwatch = d.m.syncer.watch(d.refresh)
	d.refresh()
	d.start.Disable() // until the dates are read
	d.d.Resize(fyne.NewSize(560, 460))
	d.d.Show()
	d.load()
}

// load reads the default range, the auto-sync choice and the last sync off the UI thread.
func (d *syncDialog) load() {
	var from, to time.Time
	var auto bool
	var last string
	var err error
	d.m.goBackground(func() {
		from, to, err = d.m.ws.DefaultSyncRange(d.m.ctx, d.account)
		v, _, _ := d.m.ws.DB.Setting(d.m.ctx, SettingRecordsAutoSync)
		auto = v == "1"
		last = lastSyncText(d.m.ctx, d.m.ws.DB, d.account.ID)
	}, func() {
		if err != nil {
			showError(d.errLine, errorText(err))
		}
		from, to = calendarDay(from), calendarDay(to)
		d.from.SetDate(&from)
		d.to.SetDate(&to)
		d.auto.SetChecked(auto)
		d.auto.OnChanged = d.onAuto
		d.last.SetText(last)
		d.refresh()
	})
}

// onAuto remembers the automatic-sync choice.
func (d *syncDialog) onAuto(on bool) {
	val := "0"
	if on {
		val = "1"
	}
	d.m.saveSetting(SettingRecordsAutoSync, val)
}

// showLast reads the last-sync line off the UI thread.
func (d *syncDialog) showLast() {
	var last string
	d.m.goBackground(func() { last = lastSyncText(d.m.ctx, d.m.ws.DB, d.account.ID) }, func() { d.last.SetText(last) })
}

// calendarDay is a Beijing day as the date picker holds dates (UTC midnight).
func calendarDay(t time.Time) time.Time {
	t = t.In(storage.Beijing)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (d *syncDialog) onStart() {
	showError(d.errLine, "")
	if d.from.Date == nil || d.to.Date == nil {
		showError(d.errLine, T("Choose the first and the last day to sync."))
		return
	}
	from, to := beijingDate(d.from.Date), beijingDate(d.to.Date)
	if from.After(to) {
		showError(d.errLine, T("The start date is after the end date."))
		return
	}
	if !d.m.syncer.start(d.account, from, to, false) {
		showError(d.errLine, T("A sync is already running; wait for it or cancel it."))
	}
}

// refresh shows the syncer's state.
func (d *syncDialog) refresh() {
	y := d.m.syncer
	mine := y.account.ID == d.account.ID
	if y.running {
		d.start.Disable()
		d.cancel.Show()
		d.from.Disable()
		d.to.Disable()
	} else {
		d.start.Enable()
		d.cancel.Hide()
		d.from.Enable()
		d.to.Enable()
	}
	switch {
	case y.running && !mine:
		d.status.SetText(T("Syncing %s: %s", y.account.Name, progressText(y.progress)))
	case y.running:
		p := y.progress
		if p.Phase == storage.PhaseIndexing && p.ToIndex > 0 {
			d.bar.SetValue(float64(p.Indexed) / float64(p.ToIndex))
		} else if p.Phase == storage.PhaseSuggesting && p.ToSuggest > 0 {
			d.bar.SetValue(float64(p.Suggested) / float64(p.ToSuggest))
		} else if p.Days > 0 {
			d.bar.SetValue(float64(p.DaysDone) / float64(p.Days))
		} else {
			d.bar.SetValue(0)
		}
		d.status.SetText(progressText(p))
		d.done.Hide()
	case y.ended && mine:
		d.status.SetText("")
		d.showLast()
		if y.err != nil && !errors.Is(y.err, context.Canceled) {
			showError(d.errLine, endText(y.progress, y.err))
			d.done.Hide()
			return
		}
		if y.err == nil {
			d.bar.SetValue(1)
		}
		d.done.SetText(endText(y.progress, y.err))
		d.done.Show()
	}
}
