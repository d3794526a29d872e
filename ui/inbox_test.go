package ui

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

const (
	inboxCustomer = "oInbox00000000000000000000001"
	inboxAppID    = "wx00000000000000a1"
	sendPath      = "/cgi-bin/message/custom/send"
)

// inboxTest is a window on an account served by its own fake WeChat, with the inbox
// watch stepped by the test: each tick ends the watch's next wait (a poll, a retry).
type inboxTest struct {
	t     testing.TB
	m     *MainWindow
	ws    *workspace.Workspace
	srv   *wechattest.Server
	a     storage.Account
	tick  chan time.Time
	sent  []*fyne.Notification
	nowAt time.Time
}

// newInboxTest opens the inbox of an account whose customer wrote twice 5 minutes
// ago, synced into the archive and read before; before (optional) runs before that
// sync and the watch.
func newInboxTest(t testing.TB, language string, before ...func(*inboxTest)) *inboxTest {
	t.Helper()
	m, ws := newTestWindow(t, language)
	srv := wechattest.NewServer(wechattest.Config{AppID: inboxAppID, Secret: "s", WeChatID: "teashop"})
	t.Cleanup(srv.Close)
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA, AppID: inboxAppID, APIBase: srv.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	it := &inboxTest{t: t, m: m, ws: ws, srv: srv, a: a, tick: make(chan time.Time), nowAt: clock.Now()}
	for _, f := range before {
		f(it)
	}
	at := it.nowAt.Add(-5 * time.Minute)
	srv.UserMessage(inboxCustomer, at)
	srv.AddRecords(
		wechattest.Record{OpenID: inboxCustomer, OperCode: 2003, Text: "你好，请问发货了吗", Time: at.Unix(), Worker: "kf1@teashop"},
		wechattest.Record{OpenID: inboxCustomer, OperCode: 2003, Text: "订单号 KF20261101", Time: at.Unix() + 1, Worker: "kf1@teashop"},
	)
	if _, err := ws.SyncRecords(context.Background(), a, workspace.SyncRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := ws.MarkRead(context.Background(), a, inboxCustomer); err != nil { // read before the test
		t.Fatal(err)
	}
	m.inboxWatch.notify = func(n *fyne.Notification) { it.sent = append(it.sent, n) }
	m.inboxWatch.options.After = func(d time.Duration) <-chan time.Time {
		if d <= 0 { // "at once" (fetch the media just announced, fall back to polling now)
			now := make(chan time.Time, 1)
			now <- time.Now()
			return now
		}
		return it.tick
	}
	m.inboxWatch.paused = false
	m.SelectAccount("shop")
	waitIdle(t, m)
	m.showPage(PageInbox)
	waitIdle(t, m)
	if m.inbox == nil {
		t.Fatal("no inbox page")
	}
	// The first report (what the first poll or feed read brought) has reached the window.
	eventually(t, "the first report", func() bool { return m.inboxWatch.status.Text != "" })
	return it
}

// poll lets the watch poll once more (after the first poll, which runs at once).
func (it *inboxTest) poll() {
	it.t.Helper()
	eventually(it.t, "the watch to wait for its next poll", func() bool {
		select {
		case it.tick <- time.Now():
			return true
		default:
			return false
		}
	})
}

// customerWrites adds a customer message to WeChat's records.
func (it *inboxTest) customerWrites(text string) {
	now := clock.Now()
	it.srv.UserMessage(inboxCustomer, now)
	it.srv.AddRecords(wechattest.Record{OpenID: inboxCustomer, OperCode: 2003, Text: text, Time: now.Unix(), Worker: "kf1@teashop"})
}

// waitShows waits until the window shows every text (background results let in).
func (it *inboxTest) waitShows(want ...string) {
	it.t.Helper()
	c := it.m.Window().Canvas()
	eventually(it.t, strings.Join(want, ", "), func() bool {
		got := shownText(c)
		for _, w := range want {
			if !strings.Contains(got, w) {
				return false
			}
		}
		return true
	})
}

func (it *inboxTest) open(openid string) *inboxConversation {
	it.t.Helper()
	l := it.m.inbox.list
	eventually(it.t, "the conversation in the list", func() bool {
		for _, c := range l.convs {
			if c.OpenID == openid {
				return true
			}
		}
		return false
	})
	for i, c := range l.convs {
		if c.OpenID == openid {
			l.list.Select(i)
		}
	}
	waitIdle(it.t, it.m)
	v := it.m.inbox.conv
	if v == nil || v.openid != openid {
		it.t.Fatal("the conversation did not open")
	}
	return v
}

func navButton(m *MainWindow) *widget.Button { return m.navButtons[PageInbox] }

// A message the customer writes while the window is open appears at the next poll,
// with its unread count in the list, on the navigation button and in the window
// title; opening the conversation marks it read.
func TestInboxShowsNewMessagesAndUnreadCounts(t *testing.T) {
	it := newInboxTest(t, "zh")
	it.waitShows("…000001", "订单号 KF20261101")
	if got := navButton(it.m).Text; got != "会话" {
		t.Fatalf("nav button %q before anything new", got)
	}
	assertShows(t, it.m.Window().Canvas(), "约剩 ") // an estimate from the archive: no push server

	it.customerWrites("还没收到货")
	it.poll()
	it.customerWrites("今天能发吗")
	it.poll()
	it.waitShows("今天能发吗")
	eventually(t, "2 unread", func() bool { return navButton(it.m).Text == "会话 (2)" })
	if got := it.m.Window().Title(); got != "KF Desk 客服工作台 (2)" {
		t.Fatalf("title %q", got)
	}
	if r := it.m.inbox.list.rows; !anyBadge(r, "2") {
		t.Fatal("no unread badge 2 in the list")
	}

	v := it.open(inboxCustomer)
	it.waitShows("你好，请问发货了吗", "订单号 KF20261101", "还没收到货", "今天能发吗")
	eventually(t, "read", func() bool { return navButton(it.m).Text == "会话" })
	if it.m.Window().Title() != "KF Desk 客服工作台" {
		t.Fatalf("title %q", it.m.Window().Title())
	}
	if n, _ := it.ws.UnreadTotal(context.Background(), it.a); n != 0 {
		t.Fatalf("%d unread in the archive", n)
	}
	if len(v.msgs) != 4 {
		t.Fatalf("%d bubbles", len(v.msgs))
	}
	// Arriving while it is open, a message is read at once.
	it.customerWrites("在吗？")
	it.poll()
	it.waitShows("在吗？")
	waitIdle(t, it.m)
	if navButton(it.m).Text != "会话" || len(it.sent) != 0 {
		t.Fatalf("nav %q, %d notifications while focused", navButton(it.m).Text, len(it.sent))
	}
}

// In the background the window notifies of a new customer message, and the open
// conversation keeps it unread until the operator is back; notifications can be
// turned off in Settings.
func TestInboxNotifiesWhenNotFocused(t *testing.T) {
	it := newInboxTest(t, "zh")
	it.open(inboxCustomer)
	lifecycle := it.m.app.Lifecycle().(interface {
		OnExitedForeground() func()
		OnEnteredForeground() func()
	})
	lifecycle.OnExitedForeground()()
	it.customerWrites("快递到哪了")
	it.poll()
	eventually(t, "a notification", func() bool { return len(it.sent) == 1 })
	if n := it.sent[0]; n.Title != "…000001 发来新消息" || n.Content != "快递到哪了" {
		t.Fatalf("notification %+v", n)
	}
	it.waitShows("快递到哪了")
	eventually(t, "unread while away", func() bool { return navButton(it.m).Text == "会话 (1)" })

	lifecycle.OnEnteredForeground()()
	eventually(t, "read once back", func() bool { return navButton(it.m).Text == "会话" })

	lifecycle.OnExitedForeground()()
	it.m.showPage(PageSettings)
	test.Tap(findCheck(t, it.m.Window().Canvas(), "新消息通知"))
	waitIdle(t, it.m)
	if v, _, _ := it.ws.DB.Setting(context.Background(), settingNotify); v != "off" {
		t.Fatalf("setting %q", v)
	}
	it.customerWrites("人呢")
	it.poll()
	eventually(t, "the unread count", func() bool { return navButton(it.m).Text == "会话 (1)" })
	if len(it.sent) != 1 {
		t.Fatalf("notified with notifications off: %+v", it.sent[1:])
	}
}

// Several messages at one poll make one notification: it names the customer when
// they all come from one, and counts customers when they don't.
func TestInboxNotificationNamesTheCustomer(t *testing.T) {
	it := newInboxTest(t, "zh")
	it.waitShows("…000001")
	it.m.app.Lifecycle().(interface{ OnExitedForeground() func() }).OnExitedForeground()()
	it.customerWrites("第一条")
	it.customerWrites("第二条")
	it.poll()
	eventually(t, "a notification", func() bool { return len(it.sent) == 1 })
	if n := it.sent[0]; n.Title != "…000001 发来 2 条新消息" || n.Content != "第二条" {
		t.Fatalf("notification %+v", n)
	}

	now := clock.Now()
	other := "oInbox00000000000000000000002"
	it.srv.UserMessage(other, now)
	it.srv.AddRecords(wechattest.Record{OpenID: other, OperCode: 2003, Text: "我也要问", Time: now.Unix(), Worker: "kf1@teashop"})
	it.customerWrites("第三条")
	it.poll()
	eventually(t, "a second notification", func() bool { return len(it.sent) == 2 })
	if n := it.sent[1]; n.Title != "2 位客户发来 2 条新消息" {
		t.Fatalf("notification %+v", n)
	}
}

func findCheck(t *testing.T, c fyne.Canvas, text string) *widget.Check {
	t.Helper()
	return findShown(t, c, func(b *widget.Check) bool { return b.Text == text })
}

// findShown is the first object of type W on screen for which match holds.
func findShown[W fyne.CanvasObject](t *testing.T, c fyne.Canvas, match func(W) bool) W {
	t.Helper()
	for _, o := range objects(c) {
		if w, ok := o.(W); ok && match(w) {
			return w
		}
	}
	var none W
	t.Fatalf("no %T on screen:\n%s", none, shownText(c))
	return none
}

// settleNow makes the reply box's Enter wait for the test instead of a timer: the
// returned func runs the waiting send.
func settleNow(e *sendEntry) (fire func() bool) {
	var waiting func()
	e.settle = func(f func()) func() {
		waiting = f
		return func() { waiting = nil }
	}
	return func() bool {
		if waiting == nil {
			return false
		}
		f := waiting
		waiting = nil
		f()
		return true
	}
}

// Enter sends the reply (after the input method had its chance); a failure keeps the
// text and says why in place; Ctrl+Enter sends at once; letters right after Enter
// mean an input method committed them, and nothing is sent.
func TestInboxReplySendsOnEnterAndKeepsTextOnFailure(t *testing.T) {
	it := newInboxTest(t, "zh")
	v := it.open(inboxCustomer)
	r := v.reply
	fire := settleNow(r.entry)
	it.srv.UserMessage(inboxCustomer, time.Time{}) // "typing…" needs an exchange in the last 30 s

	it.srv.FailNth(sendPath, 1, wechattest.Errcode(45015, ""))
	test.Type(r.entry, "已经发货了")
	pressEnter(r.entry)
	if !fire() {
		t.Fatal("Enter did not start a send")
	}
	waitIdle(t, it.m)
	if r.entry.Text != "已经发货了" || !r.errLine.Visible() || !strings.Contains(r.errLine.Text, "未发送") ||
		!strings.Contains(r.errLine.Text, "45015") || !strings.Contains(r.errLine.Text, "输入的内容已保留") {
		t.Fatalf("after a failure: text %q, error %q", r.entry.Text, r.errLine.Text)
	}

	// An input method's Enter: the committed letters follow it at once.
	r.entry.SetText("已经发货了")
	pressEnter(r.entry)
	test.Type(r.entry, "ok")
	if fire() {
		t.Fatal("the send still waited after the input method's letters")
	}
	if it.srv.Calls(sendPath) != 1 || r.entry.Text != "已经发货了ok" {
		t.Fatalf("calls %d, text %q", it.srv.Calls(sendPath), r.entry.Text)
	}

	r.entry.SetText("已经发货了，单号 SF123")
	r.entry.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierControl})
	waitIdle(t, it.m)
	if !strings.Contains(lastSent(t, it.srv), "已经发货了，单号 SF123") || r.entry.Text != "" {
		t.Fatalf("sent %s, text left %q", lastSent(t, it.srv), r.entry.Text)
	}
	it.waitShows("已经发货了，单号 SF123", "已于 ")
	if r.errLine.Visible() {
		t.Fatal("the old error is still shown")
	}
	// Typing showed "typing…" to the customer, once (WeChat shows it for 15 s).
	if reqs := it.srv.Requests("/cgi-bin/message/custom/typing"); len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), `"Typing"`) {
		t.Fatalf("typing requests %+v", reqs)
	}
}

// Quick replies are the text templates: a click puts one in the reply box, and so
// does "/" with the start of its name and Enter (which then does not send).
func TestInboxQuickReplies(t *testing.T) {
	it := newInboxTest(t, "zh")
	body := func(text string) string {
		msg := api.NewMessage()
		msg.Text.Content = text
		b, _ := jsonDraft(msg)
		return b
	}
	ctx := context.Background()
	_ = it.ws.SaveTemplate(ctx, it.a, "发货", body("您好，您的订单已发货，请注意查收。"))
	_ = it.ws.SaveTemplate(ctx, it.a, "退款", body("退款已处理，1–3 个工作日到账。"))
	it.m.showPage(PageInbox) // the templates are read as the page opens
	waitIdle(t, it.m)
	v := it.open(inboxCustomer)
	r := v.reply
	fire := settleNow(r.entry)

	test.Tap(findButton(t, it.m.Window().Canvas(), "退款"))
	if r.entry.Text != "退款已处理，1–3 个工作日到账。" {
		t.Fatalf("after a click: %q", r.entry.Text)
	}
	r.entry.SetText("")
	test.Type(r.entry, "/发")
	if len(r.quick.Objects) != 1 {
		t.Fatalf("%d quick replies match /发", len(r.quick.Objects))
	}
	pressEnter(r.entry)
	if fire() {
		t.Fatal("Enter on /发 started a send")
	}
	if r.entry.Text != "您好，您的订单已发货，请注意查收。" || it.srv.Calls(sendPath) != 0 {
		t.Fatalf("after /发 Enter: %q, %d sends", r.entry.Text, it.srv.Calls(sendPath))
	}
}

func jsonDraft(msg *api.Message) (string, error) {
	b, err := json.Marshal(workspace.ComposerDraft{Message: msg})
	return string(b), err
}

// anyBadge: a shown row's unread badge says n.
func anyBadge(rows map[fyne.CanvasObject]*inboxRow, n string) bool {
	for _, r := range rows {
		if r.badge.Visible() && r.badge.Text == n {
			return true
		}
	}
	return false
}

// Scrolled up to the oldest message shown, the conversation reads the page before it
// without a tap on 更早的消息, and the message that was on top stays in view.
func TestInboxConversationScrolledUpReadsEarlier(t *testing.T) {
	it := newInboxTest(t, "zh", func(it *inboxTest) {
		start := it.nowAt.Add(-20 * time.Hour)
		for i := range 3 * conversationPage {
			it.srv.AddRecords(wechattest.Record{OpenID: inboxCustomer, OperCode: 2003, Text: "第 " + strconv.Itoa(i) + " 条",
				Time: start.Add(time.Duration(i) * time.Minute).Unix(), Worker: "kf1@teashop"})
		}
	})
	v := it.open(inboxCustomer)
	waitIdle(t, it.m)
	first := len(v.msgs)
	if first > conversationPage || !v.more {
		t.Fatalf("%d messages first, more %v", first, v.more)
	}
	top := v.msgs[0].Key
	v.list.ScrollToTop()
	waitIdle(t, it.m)
	if len(v.msgs) <= first || len(v.msgs) > first+conversationPage {
		t.Fatalf("%d messages after scrolling up, %d before", len(v.msgs), first)
	}
	if v.list.GetScrollOffset() == 0 {
		t.Fatalf("the view jumped to the new top instead of staying at %s", top)
	}
}

// A long conversation opens on its newest page; "Earlier messages" reads further back
// until the archive has no more, and the List shows it with a few reused rows only.
func TestInboxConversationLoadsEarlierHistory(t *testing.T) {
	const history = 450
	it := newInboxTest(t, "zh", func(it *inboxTest) {
		start := it.nowAt.Add(-20 * time.Hour)
		recs := make([]wechattest.Record, history)
		for i := range recs {
			op, text := 2003, "第 "+strconv.Itoa(i)+" 条"
			if i%3 == 0 { // rows of many heights: a List that guessed them would stop short of the end
				text += "：" + strings.Repeat("这是一条很长的消息，", 1+i%7)
			}
			if i%2 == 1 {
				op = 2002
			}
			recs[i] = wechattest.Record{OpenID: inboxCustomer, OperCode: op, Text: text, Time: start.Add(time.Duration(i) * time.Minute).Unix(), Worker: "kf1@teashop"}
		}
		it.srv.AddRecords(recs...)
	})
	v := it.open(inboxCustomer)
	c := it.m.Window().Canvas()
	assertShows(t, c, "订单号 KF20261101") // it opens at the newest message, whatever the rows' heights
	if len(v.msgs) > conversationPage || len(v.msgs) < conversationPage-2 || !v.earlier.Visible() {
		t.Fatalf("%d messages first, earlier shown %v", len(v.msgs), v.earlier.Visible())
	}
	var top string // the first message before the last "Earlier messages"
	for v.earlier.Visible() {
		top = v.msgs[0].Text
		test.Tap(findButton(t, c, "更早的消息"))
		waitIdle(t, it.m)
	}
	if len(v.msgs) != history+2 || !strings.HasPrefix(v.msgs[0].Text, "第 0 条") || v.msgs[len(v.msgs)-1].Text != "订单号 KF20261101" {
		t.Fatalf("%d messages, first %q", len(v.msgs), v.msgs[0].Text)
	}
	for i := 1; i < len(v.msgs); i++ {
		if v.msgs[i].At.Before(v.msgs[i-1].At) {
			t.Fatalf("message %d (%q) is older than the one before it", i, v.msgs[i].Text)
		}
	}
	rows := 0
	for _, o := range objects(c) {
		if cont, ok := o.(*fyne.Container); ok {
			if _, ok := cont.Layout.(*messageRowLayout); ok {
				rows++
			}
		}
	}
	if rows == 0 || rows > 40 {
		t.Fatalf("%d message rows on screen for %d messages", rows, len(v.msgs))
	}
	assertShows(t, c, top) // the message that was on top stays in view
}

// On the demo the inbox syncs the sample history before its first poll of today
// (which counts as a sync, so the records page would never fill the archive).
func TestInboxOnTheDemoSyncsItsSampleHistoryFirst(t *testing.T) {
	m, ws := newTestWindow(t, "zh")
	ctx := context.Background()
	a, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	never := make(chan time.Time)
	m.inboxWatch.options.After = func(time.Duration) <-chan time.Time { return never }
	m.inboxWatch.paused = false
	m.SelectAccount(workspace.DemoName)
	waitIdle(t, m)
	eventually(t, "the first report", func() bool { return m.inboxWatch.status.Text != "" })
	day, ok, err := ws.DB.LastCompleteDay(ctx, a.ID)
	if err != nil || !ok || !day.Before(storage.BeijingDay(clock.Now())) {
		t.Fatalf("archive complete to %v (%v, %v): the sample history was not synced", day, ok, err)
	}
	if !m.syncer.autoed[a.ID] {
		t.Fatal("the records page would sync the demo a second time")
	}
}

// The queue and sessions are the list's second tab, read when it is shown.
func TestInboxQueueTab(t *testing.T) {
	it := newInboxTest(t, "zh")
	it.srv.AddWaitCase(inboxCustomer, clock.Now().Add(-3*time.Minute))
	if p := it.m.inbox.sessions; p.waiting.Count != 0 || len(p.waitBox.Objects) != 0 {
		t.Fatal("the queue tab was read before it was shown")
	}
	it.m.inbox.tabs.SelectIndex(1)
	waitIdle(t, it.m)
	it.waitShows("待接入（1）", "…000001 · 已等待 3 分钟")
}
