package ui

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
)

func TestMoreMenuOffersAboutFolderAndBackup(t *testing.T) {
	m, _ := newTestWindow(t, "zh")
	c := m.Window().Canvas()
	test.Tap(findButton(t, c, "更多"))
	assertShows(t, c, "关于 KF Desk", "打开数据文件夹", "备份数据库…")
}

func TestAboutShowsVersionLogAndOpensDataFolder(t *testing.T) {
	old := Version
	Version = "1.2.3"
	t.Cleanup(func() { Version = old })
	m, ws := newTestWindow(t, "zh")
	var opened *url.URL
	m.desktop.openURL = func(u *url.URL) error { opened = u; return nil }

	m.desktop.onAbout()
	waitIdle(t, m) // the database's size is read in the background
	c := m.Window().Canvas()
	assertShows(t, c, "关于 KF Desk", "版本 1.2.3", "数据文件夹："+ws.Dir, "数据库："+ws.DB.Path()+"（",
		"日志（供排查问题；不含密钥和消息内容）："+filepath.Join(ws.Dir, "kfdesk.log"))
	if strings.Contains(shownText(c), ws.DB.Path()+"（…）") {
		t.Fatal("the database's size was never shown")
	}

	test.Tap(findButton(t, c, "打开数据文件夹"))
	if opened == nil || opened.Scheme != "file" {
		t.Fatalf("opened %v, want a file:// URL", opened)
	}
	if got, _ := url.PathUnescape(opened.Path); filepath.Clean(got) != filepath.Clean(ws.Dir) {
		t.Fatalf("opened %q, want the data folder %q", got, ws.Dir)
	}
}

func TestBackupFromTheWindow(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	ctx := context.Background()
	if _, err := ws.EnsureDemo(ctx); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(dest, nil, 0o600); err != nil { // as the save dialog leaves it
		t.Fatal(err)
	}
	if err := runBackup(t, m, dest); err != nil {
		t.Fatal(err)
	}
	assertShows(t, m.Window().Canvas(), "Backup finished", dest)

	copyDB, err := storage.Open(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	accs, err := copyDB.Accounts(ctx)
	if err != nil || len(accs) != 1 || !accs[0].Demo {
		t.Fatalf("backup accounts = %+v, %v", accs, err)
	}
}

func TestFailedBackupSaysSoAndRemovesTheEmptyFile(t *testing.T) {
	m, _ := newTestWindow(t, "en")
	dir := filepath.Join(t.TempDir(), "gone")
	dest := filepath.Join(dir, "copy.db") // its folder does not exist: VACUUM INTO fails
	if err := runBackup(t, m, dest); err == nil {
		t.Fatal("backup into a missing folder succeeded")
	}
	assertShows(t, m.Window().Canvas(), "The backup failed; the database itself is unchanged.")
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("left %s behind: %v", dest, err)
	}
}

func TestWindowRemembersSizeAndPage(t *testing.T) {
	_, ws := newTestWindow(t, "zh")
	first := anotherWindow(t, ws) // closed below, not by the helper's cleanup
	first.Window().Resize(fyne.NewSize(900, 650))
	test.Tap(findButton(t, first.Window().Canvas(), "设置"))
	waitIdle(t, first) // the page is saved in the background
	first.Window().Close()

	again := anotherWindow(t, ws)
	t.Cleanup(again.Window().Close)
	if got := again.Window().Canvas().Size(); got != fyne.NewSize(900, 650) {
		t.Fatalf("size %v, want 900x650", got)
	}
	if again.page != PageSettings {
		t.Fatalf("page %d, want settings", again.page)
	}
	waitIdle(t, again)
	assertShows(t, again.Window().Canvas(), "语言")
}

// Closing the window stops its background work (OnClosed), and quitting after that
// saves the size again (OnStopped): that save must still reach the database.
func TestWindowSizeIsSavedOnQuitAfterTheWindowClosed(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	m.stop()
	m.Window().Resize(fyne.NewSize(840, 610))
	m.saveOnExit()
	if v, _, err := ws.DB.Setting(context.Background(), settingWindowSize); v != "840x610" {
		t.Fatalf("saved size %q, %v", v, err)
	}
}

func TestNonsenseWindowSizeIsIgnored(t *testing.T) {
	_, ws := newTestWindow(t, "en")
	ctx := context.Background()
	_ = ws.DB.SetSetting(ctx, settingWindowSize, "12x3")
	_ = ws.DB.SetSetting(ctx, settingLastPage, "no-such-page")
	m := anotherWindow(t, ws)
	t.Cleanup(m.Window().Close)
	if got := m.Window().Canvas().Size(); got != defaultWindowSize {
		t.Fatalf("size %v, want the default", got)
	}
	if m.page != PageInbox {
		t.Fatalf("page %d", m.page)
	}
}

func TestAlreadyOpenWindowExplainsInBothLanguages(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(test.Theme()))
	w := NewAlreadyOpenWindow(a, "/data/kfdesk")
	closed := false
	w.SetOnClosed(func() { closed = true })
	w.Resize(fyne.NewSize(520, 300))
	text := shownText(w.Canvas())
	for _, want := range []string{"已经打开了", "already open", "/data/kfdesk"} {
		if !strings.Contains(text, want) {
			t.Fatalf("lacks %q:\n%s", want, text)
		}
	}
	var b *widget.Button
	for _, o := range objects(w.Canvas()) {
		if x, ok := o.(*widget.Button); ok && x.Text == "关闭 Close" {
			b = x
		}
	}
	if b == nil {
		t.Fatal("no Close button")
	}
	test.Tap(b)
	if !closed {
		t.Fatal("Close did not close the window")
	}
}

// runBackup starts a backup from the window and waits for it to end. The test
// goroutine is the UI thread (ownUIThread): start on it, then let the background
// copy's results in until it has ended.
func runBackup(t *testing.T, m *MainWindow, dest string) error {
	t.Helper()
	var endErr error
	finished := false
	b := newBackupTask(m)
	b.onEnded = func(err error) { endErr, finished = err, true }
	b.start(dest)
	eventually(t, "the backup to end", func() bool { return finished })
	return endErr
}
