package ui

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// archiveWithRecords makes a data folder with an account, n chat records and the
// language, a manual backup (kfdesk backup) of it in the folder, and closes it.
func archiveWithRecords(t *testing.T, n int, language string) (dir string) {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	dir = t.TempDir()
	ws, err := workspace.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := ws.DB.AddAccount(ctx, storage.Account{Name: "茶叶小铺", Kind: storage.KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.SetLanguage(ctx, language); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := ws.DB.Writer().Exec(`INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
			VALUES (?, ?, ?, 'oUser', 2002, 'kf1', ?, ?, 0)`, int64(i+1), a.ID, 1764000000+int64(i),
			strings.Repeat(fmt.Sprintf("第%d条 记录 record ", i), 10), []byte(fmt.Sprintf("%016d", i))); err != nil {
			t.Fatal(err)
		}
	}
	backup := filepath.Join(dir, storage.BackupFileName(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC)))
	if err := ws.Backup(ctx, backup, nil); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recovered is what the last recovery window opened with said it did (openRecovery).
var recovered string

// openRecovery opens dir as main does and, as it fails, builds the window that says
// why; it returns the screen and where the workspace it opens after a fix will land.
func openRecovery(t *testing.T, dir string) (*recoveryScreen, **workspace.Workspace) {
	t.Helper()
	_, err := workspace.Open(dir)
	if err == nil {
		t.Fatal("the data folder opened")
	}
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(test.Theme()))
	ownUIThread(t)
	opened := new(*workspace.Workspace)
	s := newRecoveryScreen(fyne.CurrentApp(), dir, err, func(ws *workspace.Workspace, did string) { *opened = ws; recovered = did })
	t.Cleanup(func() {
		s.stop()
		eventually(t, "the recovery window's work", func() bool { return s.pending.Load() == 0 })
		if *opened != nil {
			_ = (*opened).Close()
		}
	})
	eventually(t, "the recovery window's work", func() bool { return s.pending.Load() == 0 })
	return s, opened
}

func buttonTexts(c fyne.Canvas) []string {
	var out []string
	for _, o := range objects(c) {
		if b, ok := o.(*widget.Button); ok {
			out = append(out, b.Text)
		}
	}
	return out
}

func countRecords(t *testing.T, ws *workspace.Workspace) int {
	t.Helper()
	var n int
	if err := ws.DB.Reader().QueryRow("SELECT count(*) FROM records").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// damagedKept finds the set-aside file in dir and checks it is byte for byte want.
func damagedKept(t *testing.T, dir string, want []byte) {
	t.Helper()
	kept, _ := filepath.Glob(filepath.Join(dir, "kfdesk-damaged-*.db"))
	if len(kept) != 1 || !bytes.Equal(mustRead(t, kept[0]), want) {
		t.Fatalf("damaged file kept as %v, not byte for byte", kept)
	}
}

// A database cut short: the window says so in Chinese, offers the backups it found
// (checked), starting empty and the data folder; restoring brings the records back.
func TestRecoveryWindowRestoresABackupOfATruncatedDatabase(t *testing.T) {
	dir := archiveWithRecords(t, 2000, "zh")
	path := filepath.Join(dir, storage.DBFileName)
	// A damaged backup is not offered.
	if err := os.WriteFile(filepath.Join(dir, storage.BackupFileName(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))), []byte("SQLite format 3\x00garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := mustRead(t, path)
	if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := mustRead(t, path)
	SetLanguage(workspace.StartLanguage(dir)) // as desktop.RunFailed: read from what is left of the file
	t.Cleanup(func() { SetLanguage("en") })
	if !Chinese() {
		t.Fatal("the language setting was not read from the damaged file")
	}
	s, opened := openRecovery(t, dir)
	c := s.win.Canvas()
	assertShows(t, c, "数据库已损坏", "损坏的文件中仍可读取：账号（1）、设置", "聊天记录（", "天的部分记录无法读取", "没有任何文件被改动或删除", path, "恢复备份", "每个备份都已检查过", "从空数据库开始", "以今天的日期改名")
	buttons := strings.Join(buttonTexts(c), "|")
	if strings.Count(buttons, "恢复这个备份") != 1 || !strings.Contains(buttons, "从空数据库开始") || !strings.Contains(buttons, "打开数据文件夹") {
		t.Fatalf("buttons %s", buttons)
	}
	if !bytes.Equal(mustRead(t, path), damaged) {
		t.Fatal("showing the window changed the damaged file")
	}

	test.Tap(findButton(t, c, "恢复这个备份"))
	eventually(t, "the restore", func() bool { return *opened != nil })
	if n := countRecords(t, *opened); n != 2000 {
		t.Fatalf("%d records after the restore, want 2000", n)
	}
	damagedKept(t, dir, damaged)
	assertShows(t, c, "已恢复", "损坏的文件已保存为 kfdesk-damaged-")
}

// A page overwritten with garbage: what is still readable is said; starting empty
// opens an empty archive and keeps the damaged file (and its WAL) byte for byte.
func TestRecoveryWindowStartsEmptyAfterAGarbagePage(t *testing.T) {
	dir := archiveWithRecords(t, 2000, "en")
	path := filepath.Join(dir, storage.DBFileName)
	for _, f := range []string{storage.BackupFileName(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC))} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil { // no backup at all this time
			t.Fatal(err)
		}
	}
	// The page of schema_migrations, which Open reads.
	c0, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var root int64
	if err := c0.Reader().QueryRow("SELECT rootpage FROM sqlite_schema WHERE name='schema_migrations'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	c0.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 1024), (root-1)*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	damaged := mustRead(t, path)
	SetLanguage("en")
	s, opened := openRecovery(t, dir)
	c := s.win.Canvas()
	assertShows(t, c, "The database is damaged", "Still readable in the damaged file: accounts (1), settings", "No good backup was found")
	var got *url.URL
	s.openURL = func(u *url.URL) error { got = u; return nil }
	test.Tap(findButton(t, c, "Open the data folder"))
	if got == nil || got.Scheme != "file" || !strings.HasSuffix(got.Path, filepath.Base(dir)) {
		t.Fatalf("opened %v", got)
	}

	test.Tap(findButton(t, c, "Start with an empty archive"))
	eventually(t, "the empty archive", func() bool { return *opened != nil })
	if n := countRecords(t, *opened); n != 0 {
		t.Fatalf("%d records in the new archive", n)
	}
	// The account and the settings came along (its AppSecret is in the secret store under the same id).
	if a, err := (*opened).DB.Account(context.Background(), "茶叶小铺"); err != nil || a.AppID != "wx0123456789abcdef" {
		t.Fatalf("account %+v, %v", a, err)
	}
	if l, _ := (*opened).Language(context.Background()); l != "en" {
		t.Fatalf("language %q", l)
	}
	damagedKept(t, dir, damaged)
	assertShows(t, c, "Started an empty archive. Carried over from the damaged file: accounts (1), settings (", "The damaged file was kept as kfdesk-damaged-")

	// This window closes as the main one opens: the main window says what was done.
	if recovered != s.status.Text || !strings.Contains(recovered, "The damaged file was kept as kfdesk-damaged-") {
		t.Fatalf("handed on %q, shown %q", recovered, s.status.Text)
	}
	m, _ := newTestWindow(t, "en")
	m.ShowRecoveryResult(recovered)
	assertShows(t, m.Window().Canvas(), "The archive is open again", "Started an empty archive. Carried over from the damaged file")
}

// A newer schema: which version wrote it, what to install; no action that changes the file.
func TestRecoveryWindowForANewerSchema(t *testing.T) {
	dir := archiveWithRecords(t, 10, "en")
	path := filepath.Join(dir, storage.DBFileName)
	db, err := storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().Exec(`INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 'x');
		INSERT INTO settings(key, value) VALUES ('schema_written_by', '3.1.0')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := mustRead(t, path)
	SetLanguage("en")
	s, opened := openRecovery(t, dir)
	c := s.win.Canvas()
	assertShows(t, c, "This archive is from a newer KF Desk", "KF Desk 3.1.0 (database version 99)", "Install KF Desk 3.1.0 or newer", "Nothing has been changed")
	if got := strings.Join(buttonTexts(c), "|"); got != "Open the data folder|Close" {
		t.Fatalf("buttons %s", got)
	}
	closed := false
	s.win.SetOnClosed(func() { closed = true })
	test.Tap(findButton(t, c, "Close"))
	if !closed || *opened != nil || !bytes.Equal(mustRead(t, path), before) {
		t.Fatalf("closed %v, opened %v, file unchanged %v", closed, *opened != nil, bytes.Equal(mustRead(t, path), before))
	}
}

// A data folder that cannot be created: where, what to change, and Try again opens it once it can.
func TestRecoveryWindowForAnUnwritableDataFolder(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "file")
	blocker := filepath.Join(t.TempDir(), "Documents")
	if err := os.WriteFile(blocker, []byte("a file where a folder should be"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(blocker, "kfdesk")
	SetLanguage("zh")
	t.Cleanup(func() { SetLanguage("en") })
	s, opened := openRecovery(t, dir)
	c := s.win.Canvas()
	assertShows(t, c, "数据文件夹无法写入", "是否为只读", "kfdesk --data-dir", dir)
	test.Tap(findButton(t, c, "重试"))
	eventually(t, "the retry", func() bool { return s.pending.Load() == 0 })
	assertShows(t, c, "数据文件夹仍然无法打开", "数据文件夹无法写入")
	if *opened != nil {
		t.Fatal("opened")
	}
	if err := os.Remove(blocker); err != nil { // the operator fixed it
		t.Fatal(err)
	}
	test.Tap(findButton(t, c, "重试"))
	eventually(t, "the retry", func() bool { return *opened != nil })
}

// A full disk: where, what to free, and Try again.
func TestRecoveryWindowForAFullDisk(t *testing.T) {
	dir := t.TempDir()
	SetLanguage("en")
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(test.Theme()))
	ownUIThread(t)
	full := &storage.OpenError{Problem: storage.ProblemDiskFull, Path: dir, Err: syscall.ENOSPC}
	s := newRecoveryScreen(fyne.CurrentApp(), dir, full, func(*workspace.Workspace, string) {})
	t.Cleanup(s.stop)
	c := s.win.Canvas()
	assertShows(t, c, "The disk is full", "empty the recycle bin", "Where: "+dir)
	if got := strings.Join(buttonTexts(c), "|"); got != "Try again|Open the data folder|Close" {
		t.Fatalf("buttons %s", got)
	}
}

// Starting empty after a garbage page in the chat records: the records that can still
// be read are carried over (their count and days said), and the day of the damaged
// page is named as one the next sync fetches again from WeChat.
// syncedDamagedArchive makes a data folder whose account synced n records from a
// fake WeChat over the last three days (recordServer), then overwrites the page Open
// reads and the page of record 1501 (a leaf of the records table). It returns the
// folder and the fake WeChat.
func syncedDamagedArchive(t *testing.T, n int, language string) (dir string, srv *wechattest.Server) {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	srv = recordServer(t, n)
	dir = t.TempDir()
	ws, err := workspace.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := ws.AddAccount(ctx, storage.Account{Name: "shop", Kind: storage.KindOA,
		AppID: kfAppID, TokenMode: storage.TokenStable, APIBase: srv.URL}, kfSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.SetLanguage(ctx, language); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.SyncRecords(ctx, a, workspace.SyncRequest{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, storage.DBFileName)
	var root int64
	if err := ws.DB.Reader().QueryRow("SELECT rootpage FROM sqlite_schema WHERE name='schema_migrations'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(mustRead(t, path), []byte("Hello, how can I help? #1501"))
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, page := range []int64{root, int64(at)/4096 + 1} {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5, 0x5A, 0xFF, 0x00}, 1024), (page-1)*4096); err != nil {
			t.Fatal(err)
		}
	}
	return dir, srv
}

func TestRecoveryWindowStartEmptyCarriesTheReadableChatRecords(t *testing.T) {
	dir, srv := syncedDamagedArchive(t, 3000, "zh")
	path := filepath.Join(dir, storage.DBFileName)
	damaged := mustRead(t, path)
	SetLanguage("zh")
	t.Cleanup(func() { SetLanguage("en") })
	s, opened := openRecovery(t, dir)
	c := s.win.Canvas()
	readable := s.readable.Text
	test.Tap(findButton(t, c, T("Start with an empty archive")))
	eventually(t, "the new archive", func() bool { return *opened != nil })
	n := countRecords(t, *opened)
	if n == 0 || n >= 3001 {
		t.Fatalf("%d of 3001 records carried over", n)
	}
	// The days named are those of the records that were not carried over (the
	// damaged page may hold the end of one day and the start of the next).
	carried := map[string]bool{}
	rows, err := (*opened).DB.Reader().Query("SELECT time, text FROM records")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var at int64
		var text string
		if err := rows.Scan(&at, &text); err != nil {
			t.Fatal(err)
		}
		carried[fmt.Sprint(at, text)] = true
	}
	rows.Close()
	var days []string
	for _, r := range srv.Records() {
		if d := dayText(storage.BeijingDay(time.Unix(r.Time, 0))); !carried[fmt.Sprint(r.Time, r.Text)] && !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	if len(days) == 0 {
		t.Fatal("every record was carried over")
	}
	// What the window said could still be read is what was carried over.
	if want := "损坏的文件中仍可读取：账号（1）、设置（"; !strings.Contains(readable, want) ||
		!strings.Contains(readable, fmt.Sprintf("聊天记录（%s 条；有 %d 天的部分记录无法读取）", groupDigits(n), len(days))) {
		t.Fatalf("readable: %s", readable)
	}
	assertShows(t, c, "已从空数据库开始。", fmt.Sprintf("已找回 %s 条聊天记录（", groupDigits(n)),
		fmt.Sprintf("有 %d 天（%s）的部分记录无法读取，下次同步会从微信重新获取。", len(days), strings.Join(days, "、")), "损坏的文件已保存为 kfdesk-damaged-")
	if s.stopCopy.Visible() {
		t.Fatal("the stop button stays after the records were carried over")
	}
	damagedKept(t, dir, damaged)
}

// Stopping while the chat records are carried over: the archive opens with the
// accounts and what was carried so far, and the window says it was stopped.
func TestRecoveryWindowStartEmptyCanBeStopped(t *testing.T) {
	dir, _ := syncedDamagedArchive(t, 3000, "en")
	SetLanguage("en")
	s, opened := openRecovery(t, dir)
	c := s.win.Canvas()
	if s.stopCopy.Visible() {
		t.Fatal("Stop is shown before anything runs")
	}
	test.Tap(findButton(t, c, "Start with an empty archive"))
	if !s.stopCopy.Visible() || s.stopCopy.Disabled() {
		t.Fatal("no Stop while the records are carried over")
	}
	test.Tap(s.stopCopy) // at once: the copy of 3,000 records has barely begun
	eventually(t, "the new archive", func() bool { return *opened != nil })
	if n := countRecords(t, *opened); n >= 3001 {
		t.Fatalf("%d records: the copy was not stopped", n)
	}
	if a, err := (*opened).DB.Account(context.Background(), "shop"); err != nil || a.AppID != kfAppID {
		t.Fatalf("account %+v, %v", a, err)
	}
	assertShows(t, c, "Started an empty archive.", "Carrying the chat records over was stopped", "still in the damaged file")
}
