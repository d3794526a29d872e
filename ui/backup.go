package ui

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// backupTask copies the database to a file the operator chooses, off the UI thread,
// with a progress bar and a Cancel button. The window stays usable meanwhile.
type backupTask struct {
	m      *MainWindow
	cancel context.CancelFunc

	bar     *widget.ProgressBar
	dlg     dialog.Dialog
	onEnded func(err error) // for tests; called on the UI thread after the result is shown
}

func newBackupTask(m *MainWindow) *backupTask { return &backupTask{m: m} }

// chooseFile asks where to save, suggesting a dated name in the home folder.
func (b *backupTask) chooseFile() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			dialog.ShowError(err, b.m.win)
			return
		}
		if w == nil {
			return // cancelled
		}
		path := w.URI().Path()
		_ = w.Close() // the dialog created the file; Backup replaces it when the copy is good
		b.start(path)
	}, b.m.win)
	d.SetFileName(workspace.BackupFileName())
	if home, err := os.UserHomeDir(); err == nil {
		if l, err := fynestorage.ListerForURI(fynestorage.NewFileURI(home)); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// start runs the backup to path in a goroutine and shows its progress.
func (b *backupTask) start(path string) {
	ctx, cancel := context.WithCancel(b.m.ctx)
	b.cancel = cancel
	b.bar = widget.NewProgressBar()
	where := widget.NewLabel(path)
	where.Wrapping = fyne.TextWrapBreak
	stop := widget.NewButton(T("Cancel"), b.onCancel)
	b.dlg = dialog.NewCustomWithoutButtons(T("Backing up the database…"),
		container.NewVBox(where, b.bar, container.NewCenter(stop)), b.m.win)
	b.dlg.Resize(fyne.NewSize(520, 0))
	b.dlg.Show()

	var err error
	b.m.goBackground(func() {
		err = b.m.ws.Backup(ctx, path, func(done, total int64) {
			if total > 0 {
				fyne.Do(func() { b.bar.SetValue(float64(done) / float64(total)) })
			}
		})
		cancel()
		if err != nil {
			removeIfEmpty(path) // the empty file the save dialog made
		}
	}, func() { b.finish(path, err) })
}

func (b *backupTask) onCancel() {
	if b.cancel != nil {
		b.cancel()
	}
}

func (b *backupTask) finish(path string, err error) {
	b.dlg.Hide()
	switch {
	case errors.Is(err, context.Canceled):
		b.m.setStatus(T("Backup cancelled."))
	case err != nil:
		dialog.ShowError(errors.New(T("The backup failed; the database itself is unchanged.")+"\n"+errorText(err)), b.m.win)
	default:
		msg := T("The database was copied to:\n%s (%s)\nTo restore it, close KF Desk and put this file in the data folder as %s.",
			path, fileSize(path), storage.DBFileName)
		tell(b.m.win, T("Backup finished"), msg)
		b.m.setStatus(T("Backed up to %s", filepath.Base(path)))
	}
	if b.onEnded != nil {
		b.onEnded(err)
	}
}

func removeIfEmpty(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		if err := os.Remove(path); err != nil {
			slog.Warn("could not remove the empty file of a failed backup", "err", err)
		}
	}
}
