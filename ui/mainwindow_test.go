package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// newTestWindow opens a workspace in a temp folder and builds the main window on a
// test app with the bundled font, in the given language.
func newTestWindow(t testing.TB, language string) (*MainWindow, *workspace.Workspace) {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(test.Theme()))
	ws, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if err := ws.DB.SetSetting(context.Background(), workspace.SettingLanguage, language); err != nil {
		t.Fatal(err)
	}
	ownUIThread(t) // before the window: its first background reads report back through fyne.Do
	m := NewMainWindow(a, ws)
	m.inboxWatch.paused = true // inbox tests start it (watchInbox)
	m.Window().Resize(fyne.NewSize(1100, 720))
	t.Cleanup(func() { // unless the test closed it
		if slices.Contains(fyne.CurrentApp().Driver().AllWindows(), m.Window()) {
			m.Window().Close()
		}
	})
	t.Cleanup(func() { // no background work of this test may outlive it and touch the next one's widgets
		m.stop()
		waitIdle(t, m)
	})
	waitIdle(t, m) // the account list is read in the background
	return m, ws
}

// anotherWindow builds a second window on the test's workspace. Its background work
// (the account list is read at once) ends with the test: a callback that outlived it
// would run on the next test's app, before that one owns its UI thread.
func anotherWindow(t *testing.T, ws *workspace.Workspace) *MainWindow {
	t.Helper()
	m := NewMainWindow(fyne.CurrentApp(), ws)
	m.inboxWatch.paused = true
	t.Cleanup(func() {
		m.stop()
		waitIdle(t, m)
	})
	return m
}

// objects lists every visible object in the window, overlays (dialogs) included.
func objects(c fyne.Canvas) []fyne.CanvasObject {
	var all []fyne.CanvasObject
	roots := []fyne.CanvasObject{c.Content()}
	roots = append(roots, c.Overlays().List()...)
	for _, r := range roots {
		walkVisible(r, func(o fyne.CanvasObject) { all = append(all, o) })
	}
	return all
}

// walkVisible visits o and what it contains, skipping hidden objects with all their
// children (a visible button inside a hidden box is not on screen).
func walkVisible(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walkVisible(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walkVisible(c, fn)
		}
	}
}

// shownText is all text on screen, one piece per line.
func shownText(c fyne.Canvas) string {
	var b strings.Builder
	for _, o := range objects(c) {
		if x, ok := o.(*canvas.Text); ok {
			b.WriteString(x.Text + "\n")
		} else if text, ok := labelText(o); ok { // the whole text of a wrapped label too
			b.WriteString(text + "\n")
		}
	}
	return b.String()
}

func findButton(t *testing.T, c fyne.Canvas, text string) *widget.Button {
	t.Helper()
	for _, o := range objects(c) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no button %q on screen:\n%s", text, shownText(c))
	return nil
}

func assertShows(t *testing.T, c fyne.Canvas, want ...string) {
	t.Helper()
	got := shownText(c)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("screen lacks %q; it shows:\n%s", w, got)
		}
	}
}

// eventually checks cond on the UI thread (the test goroutine), letting the results
// of background work in between, until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	currentUI.waitFor(t, what, cond)
}

// waitIdle lets background work finish and reach the widgets.
func waitIdle(t testing.TB, m *MainWindow) {
	t.Helper()
	eventually(t, "background work", func() bool { return m.pending.Load() == 0 })
}

func TestFirstRunOffersDemoAccount(t *testing.T) {
	m, ws := newTestWindow(t, "zh")
	c := m.Window().Canvas()
	assertShows(t, c, "欢迎使用 KF Desk 客服工作台", "使用演示账号")

	test.Tap(findButton(t, c, "使用演示账号"))
	waitIdle(t, m)

	if !m.account.Demo || m.accountSelect.Selected != workspace.DemoName {
		t.Fatalf("demo account not selected: %+v", m.account)
	}
	assertShows(t, c, "演示数据：不会真的发送到微信", "预览：客户看到的样子")
	accs, _ := ws.DB.Accounts(context.Background())
	if len(accs) != 1 || !accs[0].Demo {
		t.Fatalf("accounts = %+v", accs)
	}
}

func TestNavigationShowsEachPage(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	if _, err := ws.EnsureDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount(workspace.DemoName)
	waitIdle(t, m)
	c := m.Window().Canvas()
	pages := []struct{ button, shows string }{
		{"KF accounts", "Add KF account"},
		{"Chat records", "Sync…"},
		{"Settings", "Test connection"},
		{"Composer", "Preview: what the customer sees"},
	}
	for _, p := range pages {
		b := findButton(t, c, p.button)
		test.Tap(b)
		waitIdle(t, m)
		assertShows(t, c, p.shows)
		if b.Importance != widget.HighImportance {
			t.Errorf("%s: the current page is not highlighted", p.button)
		}
	}
}

func openAddForm(t *testing.T, m *MainWindow) *accountForm {
	t.Helper()
	c := m.Window().Canvas()
	test.Tap(findButton(t, c, T("Settings")))
	test.Tap(findButton(t, c, T("Add account")))
	if m.settings.form == nil {
		t.Fatal("no form")
	}
	return m.settings.form
}

func TestAddAccountFormValidatesAtTheFieldAndKeepsInput(t *testing.T) {
	m, ws := newTestWindow(t, "zh")
	f := openAddForm(t, m)
	test.Type(f.name, "茶叶小铺")
	test.Type(f.appID, "not-an-appid")
	test.Type(f.secret, "secret-typed-by-operator")
	test.Tap(f.save)
	waitIdle(t, m)

	if !f.errs["appid"].Visible() || f.errs["appid"].Text == "" {
		t.Fatalf("no error at the AppID field; errors: %v", errTexts(f))
	}
	if f.name.Text != "茶叶小铺" || f.secret.Text != "secret-typed-by-operator" {
		t.Fatal("the form lost what was typed")
	}
	if accs, _ := ws.DB.Accounts(context.Background()); len(accs) != 0 {
		t.Fatalf("an invalid account was saved: %+v", accs)
	}

	f.appID.SetText("")
	test.Type(f.appID, "wx0123456789abcdef")
	test.Tap(f.save)
	waitIdle(t, m)
	if txt := errTexts(f); txt != "" {
		t.Fatalf("unexpected errors: %s", txt)
	}
	a, err := ws.DB.Account(context.Background(), "茶叶小铺")
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != storage.KindOA || a.TokenMode != storage.TokenStable {
		t.Fatalf("saved %+v", a)
	}
	if s, err := ws.Secrets.Get("account-" + strconv.FormatInt(a.ID, 10)); err != nil || s != "secret-typed-by-operator" {
		t.Fatalf("secret not in the secret store: %v", err)
	}
	if m.account.Name != "茶叶小铺" {
		t.Fatalf("new account not current: %q", m.account.Name)
	}
	if strings.Contains(shownText(m.Window().Canvas()), "secret-typed-by-operator") {
		t.Fatal("the secret is shown on screen")
	}
}

func TestAddAccountRejectsDuplicateName(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	if _, err := ws.EnsureDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount(workspace.DemoName)
	waitIdle(t, m)
	f := openAddForm(t, m)
	test.Type(f.name, workspace.DemoName)
	test.Type(f.appID, "wx0123456789abcdef")
	test.Type(f.secret, "x-secret")
	test.Tap(f.save)
	waitIdle(t, m)
	if !strings.Contains(errTexts(f), "already exists") {
		t.Fatalf("errors: %q", errTexts(f))
	}
}

func errTexts(f *accountForm) string {
	var s []string
	for k, l := range f.errs {
		if l.Visible() {
			s = append(s, k+": "+l.Text)
		}
	}
	if f.formErr.Visible() {
		s = append(s, "form: "+f.formErr.Text)
	}
	return strings.Join(s, "; ")
}

// addAccountFor adds an account that talks to srv, through the form.
func addAccountFor(t *testing.T, m *MainWindow, srv *wechattest.Server, secret string) {
	t.Helper()
	f := openAddForm(t, m)
	test.Type(f.name, "shop")
	test.Type(f.appID, "wx0123456789abcdef")
	test.Type(f.secret, secret)
	test.Type(f.apiBase, srv.URL)
	test.Tap(f.save)
	waitIdle(t, m)
	if txt := errTexts(f); txt != "" {
		t.Fatal(txt)
	}
}

func TestTestConnectionShowsSuccessAndExplainedError(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "right-secret"})
	defer srv.Close()

	m, _ := newTestWindow(t, "zh")
	addAccountFor(t, m, srv, "right-secret")
	c := m.Window().Canvas()
	test.Tap(findButton(t, c, "测试连接"))
	waitIdle(t, m)
	if got := m.settings.testResult.Text; got != T("Connected: the AppID and AppSecret work and WeChat answered.") {
		t.Fatalf("result = %q", got)
	}

	m2, _ := newTestWindow(t, "zh")
	addAccountFor(t, m2, srv, "wrong-secret")
	test.Tap(findButton(t, m2.Window().Canvas(), "测试连接"))
	waitIdle(t, m2)
	got := m2.settings.testResult.Text
	if !strings.HasPrefix(got, "×") || !strings.Contains(got, "微信错误") || strings.Contains(got, "wrong-secret") {
		t.Fatalf("result = %q", got)
	}
}

func TestRemoveAccountAsksFirst(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	if _, err := ws.EnsureDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount(workspace.DemoName)
	waitIdle(t, m)
	c := m.Window().Canvas()
	test.Tap(findButton(t, c, "Settings"))
	test.Tap(findButton(t, c, "Remove"))
	assertShows(t, c, "Remove the account")
	if accs, _ := ws.DB.Accounts(context.Background()); len(accs) != 1 {
		t.Fatal("removed before confirmation")
	}
	// The dialog's own Remove button is the last one on screen.
	var confirm *widget.Button
	for _, o := range objects(c) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Remove" {
			confirm = b
		}
	}
	test.Tap(confirm)
	waitIdle(t, m)
	if accs, _ := ws.DB.Accounts(context.Background()); len(accs) != 0 {
		t.Fatalf("not removed: %+v", accs)
	}
	test.Tap(findButton(t, c, "Composer"))
	assertShows(t, c, "Welcome to KF Desk")
}

func TestLanguageSwitch(t *testing.T) {
	m, _ := newTestWindow(t, "en")
	c := m.Window().Canvas()
	test.Tap(findButton(t, c, "Settings"))
	m.settings.language.SetSelectedIndex(1) // 中文
	waitIdle(t, m)
	assertShows(t, c, "语言", "添加账号")
	findButton(t, c, "发送消息")
	m.settings.language.SetSelectedIndex(2) // English
	waitIdle(t, m)
	findButton(t, c, "Composer")
	code, _, _ := m.ws.DB.Setting(context.Background(), workspace.SettingLanguage)
	if code != "en" {
		t.Fatalf("language setting = %q", code)
	}
}

func TestEveryTextHasAChineseTranslation(t *testing.T) {
	SetLanguage("zh")
	defer SetLanguage("en")
	for _, key := range usedTexts(t) {
		if _, ok := zhText[key]; !ok {
			t.Errorf("no Chinese for %q", key)
		}
	}
}

// findDialogButton finds a button in the topmost dialog only (the page may have its own
// button with the same text, e.g. an upload's Cancel).
func findDialogButton(t *testing.T, c fyne.Canvas, text string) *widget.Button {
	t.Helper()
	top := c.Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open; looking for %q", text)
	}
	var found *widget.Button
	walkVisible(top, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q in the dialog", text)
	}
	return found
}
