package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/mattn/go-sqlite3"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Settings show the automatic backup: on, where, the last one and its size; the
// window's backup runs off the UI thread and says what it did; the switch turns it off.
func TestSettingsShowAndSwitchTheAutomaticBackup(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	m.showPage(PageSettings)
	waitIdle(t, m)
	c := m.Window().Canvas()
	folder := filepath.Join(ws.Dir, storage.AutoBackupDirName)
	assertShows(t, c, "Automatic backup", "Backups are kept in: "+folder, "No automatic backup yet")

	m.autoBackupNow()
	waitIdle(t, m)
	assertShows(t, c, "Automatic backup: kfdesk-auto-")
	m.showPage(PageSettings)
	waitIdle(t, m)
	assertShows(t, c, "Last backup: ")

	var check *widget.Check
	for _, o := range objects(c) {
		if x, ok := o.(*widget.Check); ok && x.Text == T("Back up the database every day (7 daily and 4 weekly copies)") {
			check = x
		}
	}
	if check == nil || !check.Checked || check.Disabled() {
		t.Fatalf("switch %+v", check)
	}
	test.Tap(check)
	waitIdle(t, m)
	if st, err := ws.AutoBackupState(context.Background()); err != nil || st.On {
		t.Fatalf("still on: %+v %v", st, err)
	}
}

// Damage the daily backup finds (deep in the records, where opening never read) is
// said in a dialog with what to do, not only in the status line; another failure is not.
func TestTheWindowSaysWhenTheBackupFindsDamage(t *testing.T) {
	m, _ := newTestWindow(t, "en")
	c := m.Window().Canvas()
	old := autoBackupIfDue
	t.Cleanup(func() { autoBackupIfDue = old })
	fail := func(err error) {
		autoBackupIfDue = func(*workspace.Workspace, context.Context) (storage.BackupFile, bool, error) {
			return storage.BackupFile{}, false, err
		}
		m.autoBackupNow()
		waitIdle(t, m)
	}
	fail(errors.New("disk I/O error"))
	assertShows(t, c, "The automatic backup failed")
	if strings.Contains(shownText(c), "The database is damaged") {
		t.Fatal("an I/O error is said to be damage")
	}
	fail(fmt.Errorf("back up: %w", sqlite3.Error{Code: sqlite3.ErrCorrupt}))
	assertShows(t, c, "The database is damaged", "kfdesk doctor", "kfdesk restore", "Open data folder")
}
