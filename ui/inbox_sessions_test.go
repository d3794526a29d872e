package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

const (
	meiKF = "xiaomei@teashop" // sample: online, serving 4 customers
	jieKF = "ajie@teashop"    // sample: bound, offline
)

// sessionsWindow shows the sessions panel alone in a window on an account that talks
// to srv (the inbox page that will embed it is built elsewhere), after its first load.
func sessionsWindow(t *testing.T, language string, srv *wechattest.Server) (*MainWindow, *sessionsPanel) {
	t.Helper()
	m, ws := newTestWindow(t, language)
	if _, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA,
		AppID: kfAppID, TokenMode: storage.TokenStable, APIBase: srv.URL}, kfSecret); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount("shop")
	waitIdle(t, m)
	p := newSessionsPanel(m)
	m.Window().SetContent(p.content())
	p.reload(m.account)
	waitIdle(t, m)
	return m, p
}

// choose picks the KF account that takes and receives transfers.
func (p *sessionsPanel) choose(t *testing.T, account string) {
	t.Helper()
	for i, k := range p.kfs {
		if k.Account == account {
			p.kfSelect.SetSelectedIndex(i)
			return
		}
	}
	t.Fatalf("%s not offered: %v", account, p.kfSelect.Options)
}

// servedBy maps each customer shown as served to their KF account.
func (p *sessionsPanel) servedBy() map[string]string {
	out := map[string]string{}
	for _, ks := range p.sessions {
		for _, s := range ks.Sessions {
			out[s.OpenID] = ks.KF.Account
		}
	}
	return out
}

func tapAndWait(t *testing.T, m *MainWindow, tap func()) {
	t.Helper()
	tap()
	waitIdle(t, m)
}

func TestSessionsPanelTakeTransferClose(t *testing.T) {
	srv := kfServer(t, true)
	m, p := sessionsWindow(t, "en", srv)
	c := m.Window().Canvas()
	if p.waiting.Count != 2 || len(p.take) != 2 || len(p.servedBy()) != 4 {
		t.Fatalf("waiting %+v, served %v", p.waiting, p.servedBy())
	}
	first := p.waiting.List[0].OpenID
	assertShows(t, c, "Waiting (2)", first+" · waiting ", "小美 xiaomei@teashop · online · serving 4", "阿杰 ajie@teashop · offline · serving 0")
	if p.chosenKF() != meiKF {
		t.Fatalf("chosen %q, want the online account", p.chosenKF())
	}

	tapAndWait(t, m, func() { test.Tap(p.take[first]) })
	assertShows(t, c, meiKF+" now serves "+first+".", "Waiting (1)", "小美 xiaomei@teashop · online · serving 5")
	if p.servedBy()[first] != meiKF || p.take[first] != nil {
		t.Fatalf("after take: served %v", p.servedBy())
	}

	srv.SetKFStatus(jieKF, 1)
	tapAndWait(t, m, p.refresh.OnTapped)
	p.choose(t, jieKF)
	if p.transfer[first].Disabled() {
		t.Fatal("transfer to another account is disabled")
	}
	tapAndWait(t, m, func() { test.Tap(p.transfer[first]) })
	assertShows(t, c, first+" is now served by "+jieKF+".", "阿杰 ajie@teashop · online · serving 1")
	if p.servedBy()[first] != jieKF {
		t.Fatalf("after transfer: served by %q", p.servedBy()[first])
	}
	if !p.transfer[first].Disabled() {
		t.Fatal("a session can be transferred to its own account")
	}

	tapAndWait(t, m, func() { test.Tap(p.closeB[first]) })
	assertShows(t, c, "Closed the session of "+jieKF+" with "+first+".")
	if _, ok := p.servedBy()[first]; ok || p.closeB[first] != nil {
		t.Fatal("closed session still listed")
	}
}

// The three session errors are explained in the panel, naming the customer, and the
// lists stay as they were.
func TestSessionsPanelExplainsTheThreeErrors(t *testing.T) {
	srv := kfServer(t, true)
	m, p := sessionsWindow(t, "zh", srv)
	c := m.Window().Canvas()
	waiting := p.waiting.List[0].OpenID
	var served string
	for o := range p.servedBy() {
		served = o
		break
	}

	// 65415: the offline account cannot take the customer (the fake's own rule).
	p.choose(t, jieKF)
	tapAndWait(t, m, func() { test.Tap(p.take[waiting]) })
	assertShows(t, c, "客户 "+waiting+"：微信错误 65415：这个客服账号不在线", "mpkf.weixin.qq.com", "客服小助手", "待接入（2）")
	if !p.problem.Visible() || p.take[waiting] == nil || p.take[waiting].Disabled() {
		t.Fatal("after 65415 the waiting list should be as it was, ready to try again")
	}

	// 65414: someone else took the customer meanwhile (injected: it needs another client).
	p.choose(t, meiKF)
	srv.FailNth("/customservice/kfsession/create", 1, wechattest.Errcode(65414, ""))
	tapAndWait(t, m, func() { test.Tap(p.take[waiting]) })
	assertShows(t, c, "客户 "+waiting+"：微信错误 65414：对方正在被其他客服接待", "待接入（2）")

	// 65413: the session ended meanwhile (injected, as if it timed out).
	srv.FailNth("/customservice/kfsession/close", 1, wechattest.Errcode(65413, ""))
	tapAndWait(t, m, func() { test.Tap(p.closeB[served]) })
	assertShows(t, c, "客户 "+served+"：微信错误 65413：对方当前没有客服会话")
	if p.servedBy()[served] != meiKF {
		t.Fatal("the session list changed after a failed close")
	}
	if strings.Contains(shownText(c), "WeChat error") {
		t.Fatal("English shown in the Chinese UI")
	}

	// Success clears the explanation.
	tapAndWait(t, m, func() { test.Tap(p.take[waiting]) })
	if p.problem.Visible() || p.servedBy()[waiting] != meiKF {
		t.Fatalf("after a successful take: problem %q, served %v", p.problem.Text, p.servedBy()[waiting])
	}
}
