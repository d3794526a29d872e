package ui

import (
	"context"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// backupSettings is Settings' automatic backup: on or off, its folder (the data
// folder's backups, or one the operator picks, e.g. on a synced cloud drive), and the
// last backup with its size. The state is read off the UI thread (a folder listing).
type backupSettings struct {
	m      *MainWindow
	on     *widget.Check
	folder *wrapLabel
	last   *wrapLabel
	change *widget.Button
	reset  *widget.Button
}

// backupSection builds the section (settings.go places it).
func (s *settingsScreen) backupSection() fyne.CanvasObject {
	b := &backupSettings{m: s.m}
	b.on = widget.NewCheck(T("Back up the database every day (7 daily and 4 weekly copies)"), nil)
	b.on.Disable() // until the state is read
	b.folder = newWrapLabel("")
	b.last = newWrapLabel("")
	b.change = widget.NewButtonWithIcon(T("Choose folder…"), theme.FolderOpenIcon(), b.onChooseFolder)
	b.reset = widget.NewButton(T("Use the data folder"), func() { b.setFolder("") })
	b.load()
	return container.NewVBox(heading(T("Automatic backup")), b.on, b.folder, container.NewHBox(b.change, b.reset), b.last)
}

func (b *backupSettings) load() {
	var st workspace.AutoBackupState
	var err error
	b.m.goBackground(func() { st, err = b.m.ws.AutoBackupState(b.m.ctx) }, func() { b.show(st, err) })
}

func (b *backupSettings) show(st workspace.AutoBackupState, err error) {
	if err != nil {
		b.last.SetText(errorText(err))
	}
	b.on.OnChanged = nil
	b.on.SetChecked(st.On)
	b.on.OnChanged = b.onSwitch
	b.on.Enable()
	b.folder.SetText(T("Backups are kept in: %s", st.Folder))
	if st.Folder == filepath.Join(b.m.ws.Dir, storage.AutoBackupDirName) {
		b.reset.Hide()
	} else {
		b.reset.Show()
	}
	switch {
	case st.Last != nil:
		b.last.SetText(T("Last backup: %s (%s)", workspace.FormatTime(st.Last.Time, "2006-01-02 15:04"), humanBytes(st.Last.Size)))
	case err == nil:
		b.last.SetText(T("No automatic backup yet: the first is made a minute after KF Desk opens."))
	}
}

func (b *backupSettings) onSwitch(on bool) {
	b.m.save(func(ctx context.Context) error { return b.m.ws.SetAutoBackup(ctx, on) }, func(err error) {
		if err != nil {
			b.last.SetText(errorText(err))
		}
		b.load()
	})
}

func (b *backupSettings) onChooseFolder() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil {
			dialog.ShowError(err, b.m.win)
			return
		}
		if u != nil {
			b.setFolder(u.Path())
		}
	}, b.m.win)
	if l, err := fynestorage.ListerForURI(fynestorage.NewFileURI(b.m.ws.Dir)); err == nil {
		d.SetLocation(l)
	}
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// setFolder makes dir the backups' folder ("" = the data folder's); the workspace
// checks it can be written first (off the UI thread: a cloud drive may be slow).
func (b *backupSettings) setFolder(dir string) {
	b.m.save(func(ctx context.Context) error { return b.m.ws.SetBackupFolder(ctx, dir) }, func(err error) {
		if err != nil {
			b.last.SetText(errorText(err))
			return
		}
		b.load()
	})
}

// autoBackupDelay is when the window first looks whether a backup is due: after its
// busy start (accounts, the first sync), not during it.
var autoBackupDelay = time.Minute

// autoBackupIfDue is Workspace.AutoBackupIfDue; a test replaces it to hand the window
// an error that real damage produces (storage's TestTheAutomaticBackupFindsDeepDamage).
var autoBackupIfDue = (*workspace.Workspace).AutoBackupIfDue

// startAutoBackups takes the day's automatic backup while the window is open: a
// minute after it opens, then every hour (a new day may have begun). The copy runs
// off the UI thread; the window only shows the outcome in its status line.
func (m *MainWindow) startAutoBackups() {
	go func() {
		t := time.NewTimer(autoBackupDelay)
		defer t.Stop()
		for {
			select {
			case <-m.ctx.Done():
				return
			case <-t.C:
			}
			fyne.Do(m.autoBackupNow)
			t.Reset(workspace.AutoBackupEvery)
		}
	}()
}

// autoBackupNow takes the day's backup if it is due (on the UI thread: it starts the work).
func (m *MainWindow) autoBackupNow() {
	if m.ctx.Err() != nil {
		return
	}
	var b storage.BackupFile
	var made bool
	var err error
	m.goBackground(func() { b, made, err = autoBackupIfDue(m.ws, m.ctx) }, func() {
		switch {
		case err != nil && m.ctx.Err() == nil && storage.IsDamaged(err):
			logError("take the automatic backup", err)
			m.setStatus(T("The automatic backup failed: %s", errorText(err)))
			m.showDamageFound()
		case err != nil && m.ctx.Err() == nil:
			logError("take the automatic backup", err)
			m.setStatus(T("The automatic backup failed: %s", errorText(err)))
		case made:
			m.setStatus(T("Automatic backup: %s (%s)", filepath.Base(b.Path), humanBytes(b.Size)))
		}
	})
}

// showDamageFound says what the automatic backup found: damage deep in the database,
// which opening did not read (storage.IsDamaged). The window goes on working on what
// still reads; kfdesk doctor and restore (or the start-up window) do the rest.
func (m *MainWindow) showDamageFound() {
	text := newWrapLabel(T("The automatic backup found part of the database damaged (a disk fault or a power cut). " +
		"KF Desk keeps working, but some chat records may not read. Your earlier backups are kept. " +
		"Soon: close KF Desk, run kfdesk doctor to see what is damaged, then kfdesk restore with the newest good backup it lists."))
	open := widget.NewButtonWithIcon(T("Open data folder"), theme.FolderOpenIcon(), m.desktop.onOpenDataFolder)
	d := dialog.NewCustom(T("The database is damaged"), T("Close"), container.NewVBox(text, container.NewHBox(open)), m.win)
	d.Resize(fyne.NewSize(560, 0))
	d.Show()
}
