package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/push"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/serve"
	"kfdesk/ui/workspace"
)

// withFakeAccount is a harness with an Official Account on the fake WeChat.
func withFakeAccount(t *testing.T) (*harness, *wechattest.Server, storage.Account) {
	t.Helper()
	h := newHarness(t)
	wechat := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s"})
	t.Cleanup(wechat.Close)
	a, err := h.ws.AddAccount(context.Background(), storage.Account{Name: "茶叶小铺", Kind: storage.KindOA,
		AppID: "wx0123456789abcdef", APIBase: wechat.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	return h, wechat, a
}

// The auto-reply commands edit the rules the push server answers with: a rule
// added here applies to the very next push, over real HTTP with the fake pushing.
func TestAutoreplyRuleAppliesToTheNextPush(t *testing.T) {
	h, wechat, a := withFakeAccount(t)
	const tok, key = "kfdeskToken42", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	r, err := h.ws.NewReceiver(a, push.Config{Token: tok, EncodingAESKey: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.Handler([]*workspace.Receiver{r}, nil))
	t.Cleanup(srv.Close)
	p, err := wechat.NewPusher(wechattest.PushConfig{URL: srv.URL + workspace.PushPath(a), Token: tok, EncodingAESKey: key,
		Mode: wechattest.PushSafe, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	pushText := func(s string) wechattest.Delivery {
		t.Helper()
		d, err := p.Push(context.Background(), wechattest.Text("oCustomer0000000000000000001", s))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := pushText("营业时间"); d.ReplyType != "transfer_customer_service" {
		t.Fatalf("before the rule: %s %s", d.Verdict, d.ReplyType)
	}
	if err := h.run("", "autoreply", "add", "--keyword", "营业时间", "--text", "每天 9:00–18:00"); err != nil {
		t.Fatal(err)
	}
	if d := pushText("营业时间"); d.Verdict != wechattest.PassiveReply || !strings.Contains(string(d.Reply), "每天 9:00–18:00") {
		t.Fatalf("after the rule: %s %q", d.Verdict, d.Reply)
	}
	if err := h.run("", "autoreply", "forward", "off"); err != nil {
		t.Fatal(err)
	}
	if d := pushText("别的"); d.Verdict != wechattest.Accepted {
		t.Fatalf("forwarding off: %s %q", d.Verdict, d.Reply)
	}
	if err := h.run("", "--json", "autoreply", "list"); err != nil {
		t.Fatal(err)
	}
	var rule struct {
		ID int64
	}
	if err := json.Unmarshal([]byte(strings.SplitN(h.stdout.String(), "\n", 2)[0]), &rule); err != nil || rule.ID == 0 {
		t.Fatalf("list --json: %q %v", h.stdout.String(), err)
	}
	if err := h.run("", "autoreply", "remove", strconv.FormatInt(rule.ID, 10)); err != nil {
		t.Fatal(err)
	}
	if d := pushText("营业时间"); d.Verdict != wechattest.Accepted {
		t.Fatalf("after remove: %s %q", d.Verdict, d.Reply)
	}
}

// Every rule kind from the command line, listed back; bad input is refused in
// Chinese and English and saves nothing.
func TestAutoreplyCommands(t *testing.T) {
	h := newHarness(t)
	a, err := h.ws.AddAccount(context.Background(), storage.Account{Name: "茶叶小铺", Kind: storage.KindOA, AppID: "wx0123456789abcdef"}, "s")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"autoreply", "follow", "--text", "欢迎关注"},
		{"autoreply", "default", "--text", "已收到"},
		{"autoreply", "hours", "--days", "1-5,7", "--from", "09:00", "--to", "18:30", "--text", "下班了"},
		{"autoreply", "add", "--keyword", "退款", "--match", "contains", "--body", "-"},
		{"autoreply", "forward", "on"},
	} {
		stdin := ""
		if args[len(args)-1] == "-" {
			stdin = `{"msgtype":"news","news":{"articles":[{"title":"退款说明","url":"https://example.com/r"}]}}`
		}
		if err := h.run(stdin, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	if err := h.run("", "autoreply", "list"); err != nil {
		t.Fatal(err)
	}
	out := h.stdout.String()
	for _, want := range []string{"follow", "欢迎关注", "default", "open 1-5,7 09:00–18:30", "下班了", `contains "退款"`, "[news]",
		"forward: on, to any KF account"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	for _, args := range [][]string{
		{"autoreply", "hours", "--days", "0-5", "--text", "x"},
		{"autoreply", "hours", "--from", "9点", "--text", "x"},
		{"autoreply", "hours", "--from", "18:00", "--to", "09:00", "--text", "x"},
		{"autoreply", "add", "--keyword", "价格"},
		{"autoreply", "add", "--keyword", "价格", "--match", "fuzzy", "--text", "x"},
		{"autoreply", "add", "--keyword", "价格", "--body", "-"},
		{"autoreply", "remove", "abc"},
		{"autoreply", "remove", "999"},
		{"autoreply", "forward", "off", "--kf", "a@b"},
	} {
		err := h.run("not json", args...)
		var b api.Bilingual
		if err == nil || !errors.As(err, &b) || b.ZH() == "" || b.EN() == "" {
			t.Errorf("%v: %v, want a bilingual refusal", args, err)
		}
	}
	rules, _, err := h.ws.AutoReplies(context.Background(), a)
	if err != nil || len(rules) != 4 {
		t.Fatalf("%d rules after the refusals, want 4 (%v)", len(rules), err)
	}
}

// `autoreply import` carries the console's rules over (get_current_autoreply_info,
// the fake answering as the doc shows): the follow and message replies when on,
// one keyword rule per keyword with its match, the first reply of each; what
// cannot be carried over is said, and importing again adds nothing twice.
func TestAutoreplyImport(t *testing.T) {
	h, wechat, a := withFakeAccount(t)
	wechat.SetConsoleAutoReplies(wechattest.ConsoleAutoReplies{
		AddFriendReplyOpen: 1, AutoReplyOpen: 0,
		AddFriend:      &wechattest.ConsoleReply{Type: "text", Content: "Thanks for your attention!"},
		MessageDefault: &wechattest.ConsoleReply{Type: "text", Content: "switched off in the console"},
		Keywords: &wechattest.ConsoleKeywordList{List: []wechattest.ConsoleKeywordRule{
			{RuleName: "autoreply-news", CreateTime: 1423028166, ReplyMode: "reply_all",
				Keywords: []wechattest.ConsoleKeyword{{Type: "text", MatchMode: "contain", Content: "news测试"}},
				Replies: []wechattest.ConsoleReply{{Type: "news", NewsInfo: &wechattest.ConsoleNews{List: []wechattest.ConsoleArticle{
					{Title: "it's news", Digest: "it's digest", CoverURL: "https://mmbiz.qpic.cn/x/0", ContentURL: "https://mp.weixin.qq.com/s?x#rd"}}}},
					{Type: "text", Content: "second reply"}}},
			{RuleName: "autoreply-voice", CreateTime: 1423027971, ReplyMode: "random_one",
				Keywords: []wechattest.ConsoleKeyword{{Type: "text", MatchMode: "equal", Content: "voice测试"},
					{Type: "text", MatchMode: "contain", Content: "语音"}},
				Replies: []wechattest.ConsoleReply{{Type: "voice", Content: "NESsxgHEvAcg3egJTtYj4uG1PTL6iPhratdWKDLAXYErhN6oEEfMdVyblWtBY5vp"}}},
			{RuleName: "autoreply-video", ReplyMode: "reply_all",
				Keywords: []wechattest.ConsoleKeyword{{Type: "text", MatchMode: "equal", Content: "视频"}},
				Replies:  []wechattest.ConsoleReply{{Type: "video", Content: "vid"}}},
		}},
	})
	if err := h.run("", "autoreply", "import"); err != nil {
		t.Fatal(err)
	}
	rules, _, err := h.ws.AutoReplies(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.Kind+" "+r.Match+" "+r.Keyword+" "+replySummary(r.Body))
	}
	want := []string{"follow   Thanks for your attention!", "keyword contains news测试 [news]", "keyword exact voice测试 [voice]",
		"keyword contains 语音 [voice]"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("imported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	errs := h.stderr.String()
	for _, s := range []string{"1 more replies not imported", `"视频"`, "cover picture", "2 of them answer with temporary media"} {
		if !strings.Contains(errs, s) {
			t.Errorf("the report lacks %q:\n%s", s, errs)
		}
	}
	if err := h.run("", "autoreply", "import"); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := h.ws.AutoReplies(context.Background(), a); len(again) != len(rules) {
		t.Fatalf("a second import: %d rules, want %d", len(again), len(rules))
	}
}
