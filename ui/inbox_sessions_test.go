package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
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
	assertShows(t, c, "Waiting (2)", workspace.ShortOpenID(first)+" · waiting ", "小美 xiaomei@teashop · online · serving 4", "阿杰 ajie@teashop · offline · serving 0")
	if p.chosenKF() != meiKF {
		t.Fatalf("chosen %q, want the online account", p.chosenKF())
	}

	tapAndWait(t, m, func() { test.Tap(p.take[first]) })
	assertShows(t, c, meiKF+" now serves "+workspace.ShortOpenID(first)+".", "Waiting (1)", "小美 xiaomei@teashop · online · serving 5")
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
	assertShows(t, c, workspace.ShortOpenID(first)+" is now served by "+jieKF+".", "阿杰 ajie@teashop · online · serving 1")
	if p.servedBy()[first] != jieKF {
		t.Fatalf("after transfer: served by %q", p.servedBy()[first])
	}
	if !p.transfer[first].Disabled() {
		t.Fatal("a session can be transferred to its own account")
	}

	tapAndWait(t, m, func() { test.Tap(p.closeB[first]) })
	assertShows(t, c, "Closed the session of "+jieKF+" with "+workspace.ShortOpenID(first)+".")
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
	assertShows(t, c, "客户 "+workspace.ShortOpenID(waiting)+"：微信错误 65415：这个客服账号不在线", "mpkf.weixin.qq.com", "客服小助手", "待接入（2）")
	if !p.problem.Visible() || p.take[waiting] == nil || p.take[waiting].Disabled() {
		t.Fatal("after 65415 the waiting list should be as it was, ready to try again")
	}

	// 65414: someone else took the customer meanwhile (injected: it needs another client).
	p.choose(t, meiKF)
	srv.FailNth("/customservice/kfsession/create", 1, wechattest.Errcode(65414, ""))
	tapAndWait(t, m, func() { test.Tap(p.take[waiting]) })
	assertShows(t, c, "客户 "+workspace.ShortOpenID(waiting)+"：微信错误 65414：对方正在被其他客服接待", "待接入（2）")

	// 65413: the session ended meanwhile (injected, as if it timed out).
	srv.FailNth("/customservice/kfsession/close", 1, wechattest.Errcode(65413, ""))
	tapAndWait(t, m, func() { test.Tap(p.closeB[served]) })
	assertShows(t, c, "客户 "+workspace.ShortOpenID(served)+"：微信错误 65413：对方当前没有客服会话")
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

// A customer's line names them by the operator's note, and a tap opens their
// conversation: what a waiting customer wrote is read before taking them.
func TestSessionsPanelNamesCustomersAndOpensTheirConversation(t *testing.T) {
	srv := kfServer(t, true)
	m, p := sessionsWindow(t, "zh", srv)
	first := p.waiting.List[0].OpenID
	if err := m.ws.SetNote(context.Background(), m.account, first, "老顾客 王姐"); err != nil {
		t.Fatal(err)
	}
	var opened []string
	p.open = func(openid string) { opened = append(opened, openid) }
	tapAndWait(t, m, func() { test.Tap(findButton(t, m.Window().Canvas(), "刷新")) })
	var reads []*widget.Button
	named := false
	for _, o := range objects(m.Window().Canvas()) {
		switch w := o.(type) {
		case *widget.Button:
			if w.Text == "查看" {
				reads = append(reads, w)
			}
		case *widget.Label:
			named = named || strings.HasPrefix(w.Text, "老顾客 王姐 · "+workspace.ShortOpenID(first)+" · 已等待")
		}
	}
	if !named || len(reads) != 2+4 { // 2 waiting, 4 served
		t.Fatalf("named %v, %d 查看 buttons", named, len(reads))
	}
	test.Tap(reads[0])
	if len(opened) != 1 || opened[0] != first {
		t.Fatalf("opened %v", opened)
	}
}

// From the queue tab a listed customer opens as the list shows them, and one with
// nothing archived opens with no reply window known.
func TestInboxOpensACustomerFromTheQueueTab(t *testing.T) {
	it := newInboxTest(t, "zh")
	it.waitShows("…000001")
	it.m.inbox.openCustomer(inboxCustomer)
	waitIdle(t, it.m)
	it.waitShows("订单号 KF20261101")
	if v := it.m.inbox.conv; v == nil || v.openid != inboxCustomer || v.conv.Window.Closed {
		t.Fatalf("conversation %+v", v)
	}
	stranger := "oStranger0000000000000000001"
	it.m.inbox.openCustomer(stranger)
	waitIdle(t, it.m)
	if v := it.m.inbox.conv; v.openid != stranger || !v.conv.Window.Closed {
		t.Fatalf("conversation %+v", v.conv)
	}
	assertShows(t, it.m.Window().Canvas(), stranger)
}
