package ui

import (
	"context"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
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
