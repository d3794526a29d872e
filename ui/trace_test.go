package ui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/ui/workspace"
)

// The window's log (what main starts for the window) holds what went wrong, never a
// secret or a customer's words: drive the flows that carry the AppSecret, the access
// token and message text with the log on, make the dropped-error paths write to it,
// then read the file.
func TestTheLogHoldsNoSecretAndNoMessageText(t *testing.T) {
	const (
		appSecret    = "AppSecret-4f9c2e7a1b8d"
		reply        = "您好，订单 KF-20261201-77 已发货"
		customerSaid = "我的手机号是 13800138000，请退款"
	)
	m, ws := newTestWindow(t, "en")
	stop, err := workspace.StartLog(ws.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: appSecret, WeChatID: "teashop"})
	t.Cleanup(srv.Close)
	srv.AddRecords(wechattest.Record{OpenID: customer, OperCode: 2003, Text: customerSaid,
		Time: clock.Now().Add(-time.Hour).Unix(), Worker: "kf1@teashop"})
	srv.UserMessage(customer, time.Time{})
	c := m.Window().Canvas()
	ctx := context.Background()

	addAccountFor(t, m, srv, appSecret) // the AppSecret typed into the form
	test.Tap(findButton(t, c, "Test connection"))
	waitIdle(t, m)
	if got := m.settings.testResult.Text; got != T("Connected: the AppID and AppSecret work and WeChat answered.") {
		t.Fatalf("test connection: %q", got)
	}

	test.Tap(findButton(t, c, "Composer"))
	waitIdle(t, m)
	s := m.composer
	test.Type(s.to, customer)
	test.Type(s.entries["text.content"], reply)
	tapSend(t, m, s)
	assertShows(t, c, "Sent to "+customer)

	test.Tap(findButton(t, c, "Chat records"))
	waitIdle(t, m)
	test.Tap(findButton(t, c, "Sync…"))
	waitIdle(t, m) // the dialog reads its dates
	test.Tap(m.records.syncDlg.start)
	waitIdle(t, m)
	if m.records.total == 0 {
		t.Fatal("no chat records synced")
	}
	tok, err := ws.DB.LoadToken(ctx, "wx0123456789abcdef:stable")
	if err != nil || tok.Value == "" {
		t.Fatalf("no access token cached: %v", err)
	}

	// Every write now fails: the window's dropped errors go to the log.
	if _, err := ws.DB.Writer().Exec("PRAGMA query_only = ON"); err != nil {
		t.Fatal(err)
	}
	test.Tap(m.records.syncDlg.auto)
	m.records.syncDlg.d.Hide()
	test.Tap(findButton(t, c, "Settings"))
	test.Tap(findButton(t, c, "Composer"))
	waitIdle(t, m) // the background writes have failed
	m.saveOnExit()
	if _, err := ws.DB.Writer().Exec("PRAGMA query_only = OFF"); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(workspace.LogPath(ws.Dir))
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{`msg="could not save a setting" key=records_autosync`,
		`msg="could not save a setting" key=last_page`, `msg="could not save the window size"`, "readonly database"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for what, s := range map[string]string{"the AppSecret": appSecret, "the access token": tok.Value,
		"the reply": reply, "what the customer said": customerSaid, "the phone number": "13800138000"} {
		if strings.Contains(log, s) {
			t.Errorf("the log holds %s:\n%s", what, log)
		}
	}
}
