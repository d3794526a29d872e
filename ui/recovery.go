package ui

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/clock"
	"kfdesk/assets"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	if Version != "dev" {
		storage.AppVersion = Version // a newer schema names the KF Desk to install (storage/doctor.go)
	}
}

// recoveryScreen is what KF Desk shows instead of the main window when the data
// folder did not open (damaged database, newer schema, a folder it cannot write, a
// full disk): a windowed program has no console, so without it KF Desk would simply
// not appear. It says what happened and offers what can be done; nothing it does
// deletes a file. Once the folder opens, opened gets the workspace (main window).
type recoveryScreen struct {
	win     fyne.Window
	dir     string
	problem *storage.OpenError
	opened  func(ws *workspace.Workspace, did string)
	openURL func(*url.URL) error // replaced in tests
	ctx     context.Context
	stop    context.CancelFunc

	status   *wrapLabel
	found    *fyne.Container // the backups offered, once checked
	readable *wrapLabel      // what the damaged file still holds
	buttons  []*widget.Button
	stopCopy *widget.Button // stops carrying the chat records over (shown meanwhile)
	pending  atomic.Int32   // background work not yet reported (tests wait on it)
}

// NewRecoveryWindow builds the window that says why dir did not open (openErr from
// workspace.Open). The UI language is set beforehand (workspace.StartLanguage).
// opened gets the workspace once it opens, and what was done to open it (what was
// carried over, where the damaged file went; "" when it simply opened on Try again):
// the main window says it (MainWindow.ShowRecoveryResult), as this one closes.
func NewRecoveryWindow(a fyne.App, dir string, openErr error, opened func(ws *workspace.Workspace, did string)) fyne.Window {
	return newRecoveryScreen(a, dir, openErr, opened).win
}

func newRecoveryScreen(a fyne.App, dir string, openErr error, opened func(ws *workspace.Workspace, did string)) *recoveryScreen {
	s := &recoveryScreen{win: a.NewWindow("KF Desk 客服工作台"), dir: dir, problem: workspace.StartProblem(openErr),
		opened: opened, openURL: a.OpenURL}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.win.SetOnClosed(s.stop)
	s.win.SetIcon(assets.Icon)
	s.win.SetContent(s.buildUI())
	s.win.Resize(fyne.NewSize(680, 560))
	s.win.CenterOnScreen()
	return s
}

func (s *recoveryScreen) buildUI() fyne.CanvasObject {
	s.status = newWrapLabel("")
	s.status.Importance = widget.HighImportance
	s.buttons = nil
	var title string
	var body []fyne.CanvasObject
	p := s.problem
	switch p.Problem {
	case storage.ProblemDamaged:
		title = T("The database is damaged")
		body = append(body, newWrapLabel(T("KF Desk's database file is damaged, perhaps by a disk fault or a sudden power cut. Nothing has been changed or deleted.")),
			s.where(p.Path))
		s.readable = newWrapLabel(T("Looking at what can still be read…"))
		s.found = container.NewVBox(newWrapLabel(T("Looking for backups…")))
		body = append(body, s.readable, widget.NewSeparator(), heading(T("Restore a backup")), s.found, widget.NewSeparator(),
			newWrapLabel(T("Or start with an empty archive: the accounts, settings and chat records that can still be read are carried over (a day of records that cannot be read whole is left for the next sync to fetch again from WeChat, which keeps the last 30 days); the damaged file stays in the data folder, renamed with today's date, so that nothing is lost.")),
			container.NewHBox(s.button(T("Start with an empty archive"), theme.DocumentCreateIcon(), s.onStartEmpty),
				s.button(T("Open the data folder"), theme.FolderOpenIcon(), s.onOpenFolder), s.stopButton()))
		s.goBackground(s.lookAround)
	case storage.ProblemNewer:
		title = T("This archive is from a newer KF Desk")
		text := T("The database was written by a newer KF Desk (database version %d); this KF Desk (%s) knows up to version %d. Install the newest KF Desk to open it. Nothing has been changed.",
			p.Version, version(), p.Known)
		if p.WrittenBy != "" {
			text = T("The database was written by KF Desk %s (database version %d); this KF Desk (%s) knows up to version %d. Install KF Desk %s or newer to open it. Nothing has been changed.",
				p.WrittenBy, p.Version, version(), p.Known, p.WrittenBy)
		}
		body = append(body, newWrapLabel(text), s.where(p.Path),
			container.NewHBox(s.button(T("Open the data folder"), theme.FolderOpenIcon(), s.onOpenFolder),
				s.button(T("Close"), theme.CancelIcon(), s.onClose)))
	case storage.ProblemFolder:
		title = T("The data folder cannot be written")
		body = append(body, newWrapLabel(T("KF Desk keeps its data in a folder it could not create or write to. Check that the disk is connected and not read-only, and that your user may write there; or start KF Desk with another folder: kfdesk --data-dir FOLDER.")),
			s.where(p.Path), s.tryOrClose())
	case storage.ProblemDiskFull:
		title = T("The disk is full")
		body = append(body, newWrapLabel(T("There is no space left on the disk that holds KF Desk's data folder. Free some space there (empty the recycle bin, move or delete large files you no longer need), then try again. Nothing has been lost.")),
			s.where(p.Path), s.tryOrClose())
	default:
		title = T("KF Desk could not start")
		body = append(body, newWrapLabel(errorText(p.Err)), s.where(p.Path), s.tryOrClose())
	}
	icon := widget.NewIcon(theme.WarningIcon())
	top := container.NewBorder(nil, nil, icon, nil, heading(title))
	return container.NewPadded(container.NewBorder(top, s.status, nil, nil, container.NewVScroll(container.NewVBox(body...))))
}

func (s *recoveryScreen) where(path string) fyne.CanvasObject {
	if path == "" {
		path = s.dir
	}
	return newWrapLabel(T("Where: %s", path))
}

func (s *recoveryScreen) tryOrClose() fyne.CanvasObject {
	try := s.button(T("Try again"), theme.ViewRefreshIcon(), s.onTryAgain)
	try.Importance = widget.HighImportance
	return container.NewHBox(try, s.button(T("Open the data folder"), theme.FolderOpenIcon(), s.onOpenFolder),
		s.button(T("Close"), theme.CancelIcon(), s.onClose))
}

// button makes a button the window disables while an action runs.
func (s *recoveryScreen) button(text string, icon fyne.Resource, tapped func()) *widget.Button {
	b := widget.NewButtonWithIcon(text, icon, tapped)
	s.buttons = append(s.buttons, b)
	return b
}

func (s *recoveryScreen) setBusy(busy bool) {
	for _, b := range s.buttons {
		if busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// goBackground runs work off the UI thread; work reports back itself through fyne.Do
// (done runs there), and the pending count lets tests wait for it.
func (s *recoveryScreen) goBackground(work func() (done func())) {
	s.pending.Add(1)
	go func() {
		done := work()
		fyne.Do(func() {
			defer s.pending.Add(-1)
			done()
		})
	}()
}

// lookAround finds the good backups (each quick_checked) and what the damaged file still holds.
func (s *recoveryScreen) lookAround() func() {
	backups := workspace.GoodBackups(s.ctx, s.dir, 3)
	readable := workspace.Recoverable(s.ctx, s.dir)
	return func() {
		s.readable.SetText(readableText(readable))
		s.found.RemoveAll()
		if len(backups) == 0 {
			s.found.Add(newWrapLabel(T("No good backup was found (automatic backups in %s, and kfdesk-backup-….db files in the data folder).",
				filepath.Join(s.dir, storage.AutoBackupDirName))))
		}
		for i, b := range backups {
			kind := T("made by hand")
			if b.Auto {
				kind = T("automatic")
			}
			text := fmt.Sprintf("%s · %s · %s", workspace.FormatTime(b.Time, "2006-01-02 15:04"), humanBytes(b.Size), kind)
			restore := s.button(T("Restore this backup"), theme.HistoryIcon(), func() { s.onRestore(b) })
			if i == 0 {
				restore.Importance = widget.HighImportance
			}
			label := widget.NewLabel(text)
			label.Truncation = fyne.TextTruncateEllipsis
			s.found.Add(container.NewBorder(nil, nil, nil, restore, label))
		}
		if len(backups) > 0 {
			s.found.Add(newWrapLabel(T("Each was checked and is readable. Changes made after a backup are not in it; the damaged file is kept.")))
		}
	}
}

// readableText says, table by table, what can still be read from the damaged file.
func readableText(rs []storage.Readable) string {
	names := map[string]string{"accounts": T("accounts"), "settings": T("settings"), "records": T("chat records")}
	var ok, lost []string
	for _, r := range rs {
		switch {
		case r.Err != nil:
			lost = append(lost, names[r.Table])
		case r.LostDays > 0: // the chat records, read around the damage
			ok = append(ok, T("%s (%s; on %d day(s) some cannot be read)", names[r.Table], groupDigits(int(r.Rows)), r.LostDays))
		default:
			ok = append(ok, T("%s (%d)", names[r.Table], r.Rows))
		}
	}
	sep := T(", ")
	var b []string
	if len(ok) > 0 {
		b = append(b, T("Still readable in the damaged file: %s.", strings.Join(ok, sep)))
	}
	if len(lost) > 0 {
		b = append(b, T("Not readable: %s.", strings.Join(lost, sep)))
	}
	if len(b) == 0 {
		return T("Nothing can be read from the damaged file.")
	}
	return sentences(b...)
}

// sentences joins whole sentences: with a space in English, none in Chinese.
func sentences(s ...string) string {
	if Chinese() {
		return strings.Join(s, "")
	}
	return strings.Join(s, " ")
}

// keptText says what StartEmpty carried over from the damaged file.
func keptText(kept []storage.Readable) string {
	names := map[string]string{"accounts": T("accounts"), "settings": T("settings")}
	var parts []string
	other := false
	for _, k := range kept {
		if k.Err != nil || k.Rows == 0 {
			continue
		}
		if n, ok := names[k.Table]; ok {
			parts = append(parts, T("%s (%d)", n, k.Rows))
		} else {
			other = true
		}
	}
	if other {
		parts = append(parts, T("notes, templates and auto-replies"))
	}
	if len(parts) == 0 {
		return ""
	}
	return T("Carried over from the damaged file: %s.", strings.Join(parts, T(", ")))
}

func (s *recoveryScreen) onRestore(b storage.BackupFile) {
	s.setBusy(true)
	s.status.SetText(T("Restoring the backup…"))
	s.goBackground(func() func() {
		aside, err := workspace.RestoreBackup(s.ctx, s.dir, b.Path)
		return s.reopen(err, T("Restored the backup of %s.", workspace.FormatTime(b.Time, "2006-01-02 15:04")), aside)
	})
}

// stopButton is the hidden button that stops carrying the chat records over (not
// one of s.buttons: it stays enabled while the window is busy).
func (s *recoveryScreen) stopButton() *widget.Button {
	s.stopCopy = widget.NewButtonWithIcon(T("Stop carrying records over"), theme.CancelIcon(), nil)
	s.stopCopy.Hide()
	return s.stopCopy
}

func (s *recoveryScreen) onStartEmpty() {
	s.setBusy(true)
	s.status.SetText(T("Setting the damaged file aside…"))
	ctx, stop := context.WithCancel(s.ctx)
	s.stopCopy.OnTapped = func() {
		stop()
		s.stopCopy.Disable()
		s.status.SetText(T("Stopping…"))
	}
	s.stopCopy.Enable()
	s.stopCopy.Show()
	// A million records take minutes: say how far it is, a few times a second.
	var shown time.Time
	progress := func(p storage.SalvageProgress) {
		if time.Since(shown) < 200*time.Millisecond || ctx.Err() != nil {
			return
		}
		shown = time.Now()
		fyne.Do(func() {
			if ctx.Err() == nil {
				s.status.SetText(salvageProgressText(p))
			}
		})
	}
	s.goBackground(func() func() {
		aside, kept, recs, err := workspace.StartEmpty(ctx, s.dir, progress)
		stop()
		did := T("Started an empty archive.")
		if text := keptText(kept); text != "" {
			did = sentences(did, text)
		}
		if text := recordsText(recs); text != "" {
			did = sentences(did, text)
		}
		done := s.reopen(err, did, aside)
		return func() {
			s.stopCopy.Hide()
			done()
		}
	})
}

// salvageProgressText says how far carrying the chat records over is.
func salvageProgressText(p storage.SalvageProgress) string {
	if p.Phase == storage.SalvageIndexing {
		return T("Building the search index of the chat records carried over: %s of %s…", groupDigits(p.Indexed), groupDigits(p.ToIndex))
	}
	return T("Carrying the chat records over: day %d of %d (%s), %s records so far…", p.DaysDone, p.Days,
		dayText(p.Day), groupDigits(int(p.Records)))
}

// dayText is a storage day (00:00 Beijing, the days WeChat counts records in) as
// YYYY-MM-DD (workspace.TimeZone is Beijing time).
func dayText(d time.Time) string { return workspace.FormatTime(d, "2006-01-02") }

// recordsText says which chat records were carried over, which days could not be
// read whole, and what the next sync can bring back of them: WeChat keeps chat
// records for 30 days (storage.Retention), older days cannot be fetched again.
func recordsText(r storage.RecordSalvage) string {
	var b []string
	if r.Records > 0 {
		b = append(b, T("Recovered %s chat records (%s to %s).", groupDigits(int(r.Records)),
			dayText(r.First), dayText(r.Last)))
	}
	if n := len(r.LostDays); n > 0 {
		oldest := storage.BeijingDay(clock.Now().Add(-storage.Retention))
		var days []string
		old := 0
		for _, d := range r.LostDays {
			if d.Before(oldest) {
				old++
			}
			if len(days) < 5 {
				days = append(days, dayText(d))
			}
		}
		list := strings.Join(days, T(", "))
		if n > len(days) {
			list += T(", …")
		}
		switch {
		case old == 0:
			b = append(b, T("On %d day(s) (%s) some records could not be read: the next sync fetches those days again from WeChat.", n, list))
		case old == n:
			b = append(b, T("On %d day(s) (%s) some records could not be read; they are older than the 30 days WeChat keeps chat records, so they cannot be fetched again (the damaged file is kept).", n, list))
		default:
			b = append(b, T("On %d day(s) (%s) some records could not be read: the next sync fetches the %d of them within the last 30 days again from WeChat; the other %d are older than WeChat keeps chat records and cannot be fetched again (the damaged file is kept).",
				n, list, n-old, old))
		}
	}
	if r.Stopped && r.Records == 0 {
		b = append(b, T("Carrying the chat records over was stopped before any was carried (they are still in the damaged file)."))
	} else if r.Stopped {
		b = append(b, T("Carrying the chat records over was stopped: the days after %s were not carried over (they are still in the damaged file).", dayText(r.Last)))
	} else if r.Problem != nil {
		b = append(b, T("Carrying the chat records over stopped early: %s", errorText(r.Problem)))
	}
	return sentences(b...)
}

func (s *recoveryScreen) onTryAgain() {
	s.setBusy(true)
	s.status.SetText(T("Opening the data folder…"))
	s.goBackground(func() func() { return s.reopen(nil, "", "") })
}

// reopen (off the UI thread) opens the data folder after an action, and returns what
// shows the outcome: the main window, or this window again with the new problem.
func (s *recoveryScreen) reopen(actionErr error, did, aside string) func() {
	if actionErr != nil {
		return func() {
			s.setBusy(false)
			s.status.SetText(T("That did not work; nothing was deleted.") + "\n" + errorText(actionErr))
		}
	}
	ws, err := workspace.Open(s.dir)
	return func() {
		if aside != "" {
			did = sentences(did, T("The damaged file was kept as %s.", filepath.Base(aside)))
		}
		if err != nil {
			s.problem = workspace.StartProblem(err)
			s.win.SetContent(s.buildUI())
			s.status.SetText(strings.TrimSpace(did + "\n" + T("The data folder still does not open.")))
			return
		}
		s.status.SetText(did)
		s.opened(ws, did)
	}
}

// ShowRecoveryResult says in the main window what the recovery window did to open
// the archive (what was carried over, which days the next sync fetches again): that
// window closes as this one opens.
func (m *MainWindow) ShowRecoveryResult(did string) {
	if did == "" {
		return
	}
	text := newWrapLabel(did)
	d := dialog.NewCustom(T("The archive is open again"), T("Close"), container.NewPadded(text), m.win)
	d.Resize(fyne.NewSize(560, 0))
	d.Show()
}

// onOpenFolder shows the data folder (or the folder holding it) in the file manager.
func (s *recoveryScreen) onOpenFolder() {
	u, err := url.Parse(fynestorage.NewFileURI(s.dir).String())
	if err == nil {
		err = s.openURL(u)
	}
	if err != nil {
		s.status.SetText(T("Could not open the data folder.") + " " + s.dir + ": " + err.Error())
	}
}

func (s *recoveryScreen) onClose() { s.win.Close() }
