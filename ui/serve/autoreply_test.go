package serve

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Auto-replies (issue 11 §4) over real HTTP, the fake WeChat pushing in safe mode.

const other = "oCustomer0000000000000000002"

func (e *env) forward(t testing.TB, on bool) {
	t.Helper()
	if err := e.ws.SetAutoReplyForward(context.Background(), e.acct, storage.Forwarding{On: on}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) rule(t *testing.T, r storage.AutoReplyRule) storage.AutoReplyRule {
	t.Helper()
	if r.Body == "" {
		t.Fatal("a rule needs a body")
	}
	r, err := e.ws.AddAutoReply(context.Background(), e.acct, r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func text(s string) string { return workspace.TextReplyBody(s) }

// passive pushes m and returns the passive reply's type and text ("" and "" for "success").
func (e *env) passive(t *testing.T, m wechattest.Message) (typ, content string) {
	t.Helper()
	d := e.push(t, m)
	switch d.Verdict {
	case wechattest.Accepted:
		return "", ""
	case wechattest.PassiveReply:
		var r struct{ Content string }
		if err := xml.Unmarshal(d.Reply, &r); err != nil {
			t.Fatalf("reply %q: %v", d.Reply, err)
		}
		return d.ReplyType, r.Content
	}
	t.Fatalf("%s %q: %s (%s)", m.MsgType, m.Content, d.Verdict, d.Reason)
	return "", ""
}

// runJobs is the job worker (ui/workspace/jobs.go) for the auto-reply jobs due now.
func (e *env) runJobs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	jobs, err := e.ws.DB.ClaimJobs(ctx, clock.Now().Add(time.Second), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == workspace.JobAutoReply {
			if err := e.ws.RunAutoReplyJob(ctx, j); err != nil {
				t.Fatalf("job %d: %v", j.ID, err)
			}
		}
		if err := e.ws.DB.FinishJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
}

func sentTexts(s *wechattest.Server) []string {
	var out []string
	for _, m := range s.Sent() {
		out = append(out, m.ToUser+" "+m.Content)
	}
	return out
}

// A new follower gets the follow greeting as the push's passive reply (encrypted,
// safe mode); nothing goes through custom/send.
func TestFollowGreetingIsAPassiveReply(t *testing.T) {
	e := newEnv(t)
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyFollow, Body: text("欢迎关注茶叶小铺！")})
	if typ, got := e.passive(t, wechattest.Subscribe(customer, "")); typ != "text" || got != "欢迎关注茶叶小铺！" {
		t.Fatalf("follow: %q %q", typ, got)
	}
	// Other events get nothing, and are never forwarded.
	if typ, _ := e.passive(t, wechattest.Click(customer, "MENU_HELP")); typ != "" {
		t.Fatalf("a menu click answered with %q", typ)
	}
	e.runJobs(t)
	if s := e.wechat.Sent(); len(s) != 0 {
		t.Fatalf("custom/send called: %v", sentTexts(e.wechat))
	}
}

// Keywords match exactly or within the message, the first enabled match in rule
// order; a matched message is answered, not forwarded; an unmatched one is forwarded.
func TestKeywordRules(t *testing.T) {
	e := newEnv(t)
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "价格", Body: text("价目表：…")})
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "退款", Match: storage.MatchContains, Body: text("退款三天内到账")})
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "款", Match: storage.MatchContains, Body: text("later rule")})
	for msg, want := range map[string]string{"价格": "价目表：…", " 价格 ": "价目表：…", "我要退款": "退款三天内到账", "付款": "later rule"} {
		if typ, got := e.passive(t, wechattest.Text(customer, msg)); typ != "text" || got != want {
			t.Errorf("%q answered %q %q, want %q", msg, typ, got, want)
		}
	}
	if typ, _ := e.passive(t, wechattest.Text(customer, "请问价格多少")); typ != "transfer_customer_service" {
		t.Errorf("an exact keyword inside a message: %q, want forwarded", typ)
	}
}

// Out of office hours an unmatched message gets the out-of-hours reply; a keyword
// still wins (it answers the question at any hour); in hours the default reply.
func TestOutOfHours(t *testing.T) {
	// Sunday 22:00 in Beijing.
	fc := wechattest.NewFakeClock(time.Date(2026, 11, 29, 22, 0, 0, 0, storage.Beijing))
	e := newEnv(t, func(c *envConfig) { c.wechat.Clock = fc })
	e.receiver.Window = 1000 * 24 * time.Hour // the fake's clock is not ours
	e.forward(t, false)
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyHours, Body: text("现在是下班时间，明早 9 点回复您"),
		Hours: storage.OfficeHours{Weekdays: storage.Weekdays(1, 2, 3, 4, 5), From: 9 * 60, To: 18 * 60}})
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyDefault, Body: text("已收到，稍后回复")})
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "地址", Body: text("广州市天河区")})
	if _, got := e.passive(t, wechattest.Text(customer, "在吗")); got != "现在是下班时间，明早 9 点回复您" {
		t.Fatalf("out of hours: %q", got)
	}
	if _, got := e.passive(t, wechattest.Text(customer, "地址")); got != "广州市天河区" {
		t.Fatalf("a keyword out of hours: %q", got)
	}
	fc.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Beijing)) // Tuesday 10:00
	if _, got := e.passive(t, wechattest.Text(other, "在吗")); got != "已收到，稍后回复" {
		t.Fatalf("in hours: %q", got)
	}
	fc.Set(time.Date(2026, 12, 1, 18, 0, 0, 0, storage.Beijing)) // 18:00 is closed (To excluded)
	if _, got := e.passive(t, wechattest.Text("oCustomer0000000000000000003", "在吗")); got != "现在是下班时间，明早 9 点回复您" {
		t.Fatalf("at 18:00: %q", got)
	}
}

// The default reply goes to a customer at most once an hour (like the console's
// 收到消息回复); the hour is the customer's, and a retry repeats its answer.
func TestDefaultReplyAtMostOncePerHour(t *testing.T) {
	fc := wechattest.NewFakeClock(time.Date(2026, 12, 1, 10, 0, 0, 0, storage.Beijing))
	e := newEnv(t, func(c *envConfig) { c.wechat.Clock = fc })
	e.receiver.Window = 1000 * 24 * time.Hour
	e.forward(t, false)
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyDefault, Body: text("已收到，稍后回复")})
	first := e.push(t, wechattest.Text(customer, "在吗"))
	if first.Verdict != wechattest.PassiveReply || !strings.Contains(string(first.Reply), "已收到") {
		t.Fatalf("first message: %s %q", first.Verdict, first.Reply)
	}
	// WeChat resends the push (its answer was lost): the same reply again, not "success".
	if again := e.push(t, first.Message); again.Verdict != wechattest.PassiveReply || !strings.Contains(string(again.Reply), "已收到") {
		t.Fatalf("the retry: %s %q", again.Verdict, again.Reply)
	}
	fc.Advance(59 * time.Minute)
	if typ, _ := e.passive(t, wechattest.Text(customer, "人呢")); typ != "" {
		t.Fatalf("a second default reply within the hour: %q", typ)
	}
	if _, got := e.passive(t, wechattest.Text(other, "在吗")); got != "已收到，稍后回复" {
		t.Fatalf("another customer: %q", got)
	}
	fc.Advance(time.Minute)
	if _, got := e.passive(t, wechattest.Text(customer, "还在吗")); got != "已收到，稍后回复" {
		t.Fatalf("an hour later: %q", got)
	}
}

// Forwarding is on until switched off: an unmatched message is handed to the KF
// system (the fake then queues the customer for mpkf); a notice goes with it
// through custom/send, once. Off, and nothing matched: "success".
func TestForwardOnByDefault(t *testing.T) {
	e := newEnv(t)
	if typ, _ := e.passive(t, wechattest.Text(customer, "你好")); typ != "transfer_customer_service" {
		t.Fatalf("with no rules: %q, want the transfer", typ)
	}
	if w := waiting(t, e); len(w) != 1 || w[0] != customer {
		t.Fatalf("waiting for a KF: %v", w)
	}
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyDefault, Body: text("已收到，客服稍后回复")})
	if typ, _ := e.passive(t, wechattest.Text(other, "在吗")); typ != "transfer_customer_service" {
		t.Fatalf("with a default reply: %q, want the transfer", typ)
	}
	e.runJobs(t)
	e.runJobs(t)
	if got := sentTexts(e.wechat); len(got) != 1 || got[0] != other+" 已收到，客服稍后回复" {
		t.Fatalf("custom/send: %q", got)
	}
	e.forward(t, false)
	if typ, _ := e.passive(t, wechattest.Text("oCustomer0000000000000000003", "你好")); typ != "text" {
		t.Fatalf("forwarding off, the default reply: %q", typ)
	}
	if typ, _ := e.passive(t, wechattest.Text("oCustomer0000000000000000003", "你好吗")); typ != "" {
		t.Fatalf("forwarding off, nothing due: %q, want success", typ)
	}
}

// waiting lists the fake's waiting queue (getwaitcase), as mpkf shows it.
func waiting(t *testing.T, e *env) []string {
	t.Helper()
	get := func(u string, v any) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	get(e.wechat.URL+"/cgi-bin/token?grant_type=client_credential&appid="+appID+"&secret=s", &tok)
	var w struct {
		List []struct{ OpenID string } `json:"waitcaselist"`
	}
	get(e.wechat.URL+"/customservice/kfsession/getwaitcase?access_token="+url.QueryEscape(tok.AccessToken), &w)
	var out []string
	for _, c := range w.List {
		out = append(out, c.OpenID)
	}
	return out
}

// A Mini Program answers "success" and sends its reply through custom/send in the
// background, exactly once: a job run again sends nothing, and one whose worker
// died during the send is closed as "unknown" without sending again.
func TestMiniProgramRepliesOnceThroughCustomSend(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.wechat.Kind = wechattest.MiniProgram; c.push.Format = wechattest.PushJSON })
	e.forward(t, false)
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "订单", Match: storage.MatchContains, Body: text("订单请在「我的」里查看")})
	if d := e.push(t, wechattest.Text(customer, "我的订单呢")); d.Verdict != wechattest.Accepted {
		t.Fatalf("a Mini Program answered %s %q, want success", d.Verdict, d.Reply)
	}
	ctx := context.Background()
	jobs, err := e.ws.DB.ClaimJobs(ctx, clock.Now().Add(time.Second), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var job storage.Job
	for _, j := range jobs {
		if j.Kind == workspace.JobAutoReply {
			job = j
		}
	}
	// The worker sends and dies before FinishJob; the job runs again.
	for i := 0; i < 2; i++ {
		if err := e.ws.RunAutoReplyJob(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if got := sentTexts(e.wechat); len(got) != 1 || got[0] != customer+" 订单请在「我的」里查看" {
		t.Fatalf("custom/send: %q", got)
	}
	// A worker that died during the send: the effect was begun, never finished.
	if d := e.push(t, wechattest.Text(other, "订单")); d.Verdict != wechattest.Accepted {
		t.Fatal(d.Verdict)
	}
	ps := e.stored(t)
	if _, err := e.ws.DB.BeginEffect(ctx, ps[len(ps)-1].ID, storage.EffectAutoReply); err != nil {
		t.Fatal(err)
	}
	e.runJobs(t)
	if got := e.wechat.Sent(); len(got) != 1 {
		t.Fatalf("an effect in doubt was sent again: %q", sentTexts(e.wechat))
	}
	log, err := e.ws.DB.SendLog(ctx, e.acct.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Status != storage.SendUnknown || log[1].Status != storage.SendOK {
		t.Fatalf("send log: %+v", log)
	}
}

// Any customer-service message type can be a reply: an Official Account answers
// the passive ones (news here) in the push's answer, and sends the others (a menu)
// through custom/send in the background, once.
func TestRepliesThatCannotBePassiveGoThroughCustomSend(t *testing.T) {
	e := newEnv(t)
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "活动",
		Body: `{"msgtype":"news","news":{"articles":[{"title":"双十二","description":"全场八折","url":"https://example.com/a","picurl":"https://example.com/a.jpg"}]}}`})
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "评价",
		Body: `{"msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务满意吗？","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"谢谢"}}`})
	if d := e.push(t, wechattest.Text(customer, "活动")); d.ReplyType != "news" || !strings.Contains(string(d.Reply), "双十二") {
		t.Fatalf("news: %s %s %q", d.Verdict, d.ReplyType, d.Reply)
	}
	if d := e.push(t, wechattest.Text(customer, "评价")); d.Verdict != wechattest.Accepted {
		t.Fatalf("a menu answered %s %q, want success (it is not a passive type)", d.Verdict, d.Reply)
	}
	e.runJobs(t)
	e.runJobs(t)
	if s := e.wechat.Sent(); len(s) != 1 || s[0].MsgType != "msgmenu" || s[0].ToUser != customer {
		t.Fatalf("custom/send: %+v", s)
	}
}

// Forwarding to a named KF account names it in TransInfo (the fake checks the
// account exists).
func TestForwardToANamedKFAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kf := "xiaomei@" + wechattest.DefaultWeChatID
	if err := e.ws.AddKF(ctx, e.acct, kf, "小美"); err != nil {
		t.Fatal(err)
	}
	if err := e.ws.SetAutoReplyForward(ctx, e.acct, storage.Forwarding{On: true, KFAccount: kf}); err != nil {
		t.Fatal(err)
	}
	d := e.push(t, wechattest.Text(customer, "找小美"))
	if d.ReplyType != "transfer_customer_service" || !strings.Contains(string(d.Reply), "<KfAccount><![CDATA["+kf+"]]></KfAccount>") {
		t.Fatalf("%s %s %q (%s)", d.Verdict, d.ReplyType, d.Reply, d.Reason)
	}
}

// A Mini Program's greeting answers the customer opening the chat
// (user_enter_tempsession), through custom/send; its unmatched messages are
// handed to customer service with the transfer, the one passive reply it has.
func TestMiniProgramGreetingAndForward(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.wechat.Kind = wechattest.MiniProgram })
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyFollow, Body: text("您好，有什么可以帮您？")})
	if d := e.push(t, wechattest.EnterTempSession(customer, "order-42")); d.Verdict != wechattest.Accepted {
		t.Fatalf("entering: %s %q", d.Verdict, d.Reply)
	}
	e.runJobs(t)
	if got := sentTexts(e.wechat); len(got) != 1 || got[0] != customer+" 您好，有什么可以帮您？" {
		t.Fatalf("custom/send: %q", got)
	}
	if typ, _ := e.passive(t, wechattest.Text(customer, "退货")); typ != "transfer_customer_service" {
		t.Fatalf("unmatched: %q", typ)
	}
}
