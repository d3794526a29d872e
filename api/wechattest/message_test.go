package wechattest_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const boundApp = "wx1111222233334444"

type obj = map[string]any

func msg(to, typ string, body obj) obj {
	return obj{"touser": to, "msgtype": typ, typ: body}
}

func TestSendValidation(t *testing.T) {
	e := newEnv(t)
	s := e.srv
	s.AddFollower(alice)
	s.AddFollower(bob)
	s.RemoveFollower(bob)
	s.BindMiniProgram(boundApp)
	s.AddRecords() // no-op, keeps AddRecords with no args covered
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": "mei@" + weChatID, "nickname": "小美"}).ok()
	img := s.AddMedia("image", []byte("img"), t0)
	voice := s.AddMedia("voice", []byte("amr"), t0)
	video := s.AddMedia("video", []byte("mp4"), t0)
	thumb := s.AddMedia("thumb", []byte("jpg"), t0)
	old := s.AddMedia("image", []byte("old"), t0.Add(-72*time.Hour))

	withKF := func(m obj, kf string) obj { m["customservice"] = obj{"kf_account": kf}; return m }
	article := obj{"title": "秋季上新", "description": "满199减30", "url": "https://example.com", "picurl": "https://example.com/a.jpg"}
	page := func(appid string) obj {
		return obj{"title": "小程序", "appid": appid, "pagepath": "pages/index/index", "thumb_media_id": img}
	}
	cases := []struct {
		name string
		body any
		code int
	}{
		{"text", text(alice, "你好 <b>&</b>"), 0},
		{"text 2048 bytes", text(alice, strings.Repeat("中", 682)+"ab"), 0},
		{"text 2049 bytes", text(alice, strings.Repeat("中", 682)+"abc"), 45002},
		{"text empty", text(alice, ""), 44004},
		{"text object missing", obj{"touser": alice, "msgtype": "text"}, 44004},
		{"text content not a string", msg(alice, "text", obj{"content": 5}), 47001},
		{"text bound mini-program link", text(alice, `<a href="https://x" data-miniprogram-appid="`+boundApp+`" data-miniprogram-path="pages/index/index">go</a>`), 0},
		{"text unbound mini-program link", text(alice, `<a href="https://x" data-miniprogram-appid="wx9999" data-miniprogram-path="p">go</a>`), 45086},
		{"image", msg(alice, "image", obj{"media_id": img}), 0},
		{"image unknown media", msg(alice, "image", obj{"media_id": "nope"}), 40007},
		{"image missing media", msg(alice, "image", obj{}), 40007},
		{"image with a voice id", msg(alice, "image", obj{"media_id": voice}), 40007},
		{"image expired after 3 days", msg(alice, "image", obj{"media_id": old}), 40007},
		{"voice", msg(alice, "voice", obj{"media_id": voice}), 0},
		{"video", msg(alice, "video", obj{"media_id": video, "thumb_media_id": thumb, "title": "泡茶", "description": "教程"}), 0},
		{"video without optional title", msg(alice, "video", obj{"media_id": video, "thumb_media_id": thumb}), 0},
		{"video missing thumb", msg(alice, "video", obj{"media_id": video}), 40007},
		{"video with image id", msg(alice, "video", obj{"media_id": img, "thumb_media_id": thumb}), 40007},
		{"music", msg(alice, "music", obj{"title": "t", "musicurl": "http://m", "hqmusicurl": "http://hq", "thumb_media_id": thumb}), 0},
		{"music missing url", msg(alice, "music", obj{"hqmusicurl": "http://hq", "thumb_media_id": thumb}), 40035},
		{"music missing thumb", msg(alice, "music", obj{"musicurl": "http://m", "hqmusicurl": "http://hq"}), 40007},
		{"news one article", msg(alice, "news", obj{"articles": []any{article}}), 0},
		{"news two articles", msg(alice, "news", obj{"articles": []any{article, article}}), 45008},
		{"news no article", msg(alice, "news", obj{"articles": []any{}}), 44003},
		{"mpnews", msg(alice, "mpnews", obj{"media_id": "permanent-id"}), 0},
		{"mpnews missing id", msg(alice, "mpnews", obj{}), 40007},
		{"mpnewsarticle", msg(alice, "mpnewsarticle", obj{"article_id": "abc"}), 0},
		{"mpnewsarticle missing id", msg(alice, "mpnewsarticle", obj{}), 40035},
		{"msgmenu", msg(alice, "msgmenu", obj{"head_content": "满意吗？", "list": []any{obj{"id": "101", "content": "满意"}, obj{"id": "102", "content": "不满意"}}, "tail_content": "谢谢"}), 0},
		{"msgmenu empty list", msg(alice, "msgmenu", obj{"list": []any{}}), 45098},
		{"msgmenu item without id", msg(alice, "msgmenu", obj{"list": []any{obj{"content": "满意"}}}), 45099},
		{"msgmenu numeric id", msg(alice, "msgmenu", obj{"list": []any{obj{"id": 101, "content": "满意"}}}), 47001},
		{"wxcard", msg(alice, "wxcard", obj{"card_id": "pCard123"}), 0},
		{"wxcard missing card", msg(alice, "wxcard", obj{}), 40073},
		{"miniprogrampage", msg(alice, "miniprogrampage", page(boundApp)), 0},
		{"miniprogrampage unbound", msg(alice, "miniprogrampage", page("wx9999")), 40166},
		{"miniprogrampage missing appid", msg(alice, "miniprogrampage", page("")), 40166},
		{"miniprogrampage missing path", msg(alice, "miniprogrampage", obj{"title": "t", "appid": boundApp, "thumb_media_id": img}), 40165},
		{"link is Mini Program only", msg(alice, "link", obj{"title": "t", "description": "d", "url": "u", "thumb_url": "x"}), 40008},
		{"unknown msgtype", msg(alice, "sticker", obj{}), 40008},
		{"no msgtype", obj{"touser": alice}, 40008},
		{"invalid json", `{"touser":"` + alice + `","msgtype":"text",`, 47001},
		{"json array", `[1,2]`, 47001},
		{"empty body", "", 44002},
		{"with kf_account", withKF(text(alice, "hi"), "mei@"+weChatID), 0},
		{"unknown kf_account", withKF(text(alice, "hi"), "nobody@"+weChatID), 65401},
		{"unknown openid", text("oUnknown000000000000000000000", "hi"), 40003},
		{"missing touser", obj{"msgtype": "text", "text": obj{"content": "hi"}}, 40003},
		{"unfollowed", text(bob, "hi"), 43004},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			s.UserMessage(alice, e.clock.Now()) // a fresh window for every case
			before := len(s.Sent())
			r := e.send(tc.body)
			if tc.code == 0 {
				r.ok()
				if len(s.Sent()) != before+1 {
					t.Fatal("accepted send not recorded")
				}
				return
			}
			r.is(tc.code)
			if len(s.Sent()) != before {
				t.Fatal("refused send recorded")
			}
			if s.RepliesLeft(alice) != 5 {
				t.Fatal("a refused send used a reply")
			}
		})
	}
}

func TestSendKeepsRawBody(t *testing.T) {
	e := newEnv(t)
	e.srv.UserMessage(alice, time.Time{})
	// What a client with Go's default HTML escaping sends: accepted (it is valid
	// JSON) but the raw body shows the escapes, so a client test can catch it.
	escaped := `{"touser":"` + alice + `","msgtype":"text","text":{"content":"\u003ca href=\"https://x\"\u003e链接\u003c/a\u003e \u0026 更多"},"customservice":{}}`
	e.send(escaped).ok()
	sent := e.srv.Sent()
	if len(sent) != 1 || sent[0].Content != `<a href="https://x">链接</a> & 更多` || sent[0].ToUser != alice || sent[0].MsgType != "text" {
		t.Fatalf("Sent = %+v", sent)
	}
	if string(sent[0].Body) != escaped {
		t.Fatalf("Body = %s", sent[0].Body)
	}
	reqs := e.srv.Requests("/cgi-bin/message/custom/send")
	if len(reqs) != 1 || !bytes.Contains(reqs[0].Body, []byte(`\u003ca`)) || reqs[0].Method != "POST" ||
		reqs[0].Query.Get("access_token") != e.tok || !strings.HasPrefix(reqs[0].ContentType, "application/json") {
		t.Fatalf("request log %+v", reqs)
	}
	// A raw UTF-8 body is what a good client sends.
	e.send(text(alice, `<a href="https://x">链接</a> & 更多`)).ok()
	if b := e.srv.Sent()[1].Body; !bytes.Contains(b, []byte(`<a href=`)) || bytes.Contains(b, []byte(`\u003c`)) {
		t.Fatalf("raw body %s", b)
	}
}

func TestReplyWindows(t *testing.T) {
	e := newEnv(t)
	s := e.srv
	s.AddFollower(alice)
	e.send(text(alice, "hi")).is(45015) // a follower who never interacted

	s.UserMessage(alice, e.clock.Now())
	for i := range 5 {
		e.send(text(alice, "reply")).ok()
		if left := s.RepliesLeft(alice); left != 4-i {
			t.Fatalf("RepliesLeft = %d, want %d", left, 4-i)
		}
	}
	e.send(text(alice, "sixth")).is(45047)

	// A new user message opens a new window with 5 replies.
	e.clock.Advance(time.Hour)
	s.UserMessage(alice, e.clock.Now())
	e.send(text(alice, "again")).ok()
	e.advance(48*time.Hour - time.Second)
	e.send(text(alice, "just in time")).ok()
	e.clock.Advance(time.Second)
	e.send(text(alice, "too late")).is(45015)

	// A menu click, follow or scan: 3 replies within 1 minute.
	s.UserEvent(alice, e.clock.Now())
	for range 3 {
		e.send(text(alice, "event reply")).ok()
	}
	e.send(text(alice, "fourth")).is(45047)
	e.clock.Advance(time.Minute)
	e.send(text(alice, "after a minute")).is(45015)

	// The short event window is used first, so the 48-hour quota lasts.
	s.UserMessage(alice, e.clock.Now())
	s.UserEvent(alice, e.clock.Now())
	for range 8 {
		e.send(text(alice, "both")).ok()
	}
	e.send(text(alice, "ninth")).is(45047)

	// A message in the past: the window counts from when the user wrote.
	s.UserMessage(bob, e.clock.Now().Add(-47*time.Hour))
	e.send(text(bob, "still open")).ok()
	e.clock.Advance(time.Hour)
	e.send(text(bob, "closed")).is(45015)
}

func TestMiniProgramKind(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Kind = wechattest.MiniProgram })
	s := e.srv
	s.UserMessage(alice, time.Time{})
	img := s.AddMedia("image", []byte("x"), t0)
	e.send(msg(alice, "link", obj{"title": "t", "description": "d", "url": "https://x", "thumb_url": "https://x/t.jpg"})).ok()
	e.send(msg(alice, "miniprogrampage", obj{"title": "t", "pagepath": "pages/a", "thumb_media_id": img})).ok()
	e.send(msg(alice, "link", obj{"title": "t"})).is(40035)
	for _, typ := range []string{"voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu", "wxcard"} {
		e.send(msg(alice, typ, obj{})).is(40008)
	}
	// Text links may only point at the Mini Program itself.
	e.send(text(alice, `<a data-miniprogram-appid="`+appID+`" data-miniprogram-path="p">me</a>`)).ok()
	e.send(text(alice, `<a data-miniprogram-appid="wx123" data-miniprogram-path="p">other</a>`)).is(45086)
	// Entering customer service: 2 messages within 1 minute.
	s.UserEvent(bob, time.Time{})
	e.send(text(bob, "1")).ok()
	e.send(text(bob, "2")).ok()
	e.send(text(bob, "3")).is(45047)
	// No KF account management, records or followers for a Mini Program.
	e.apiGet("/cgi-bin/customservice/getkflist", nil).is(48001)
	e.apiPost("/customservice/msgrecord/getmsglist", obj{"starttime": 1, "endtime": 2, "msgid": 1, "number": 1}).is(48001)
	e.apiGet("/cgi-bin/user/get", nil).is(48001)
}

func TestTyping(t *testing.T) {
	e := newEnv(t)
	s := e.srv
	typing := func(to, cmd string) result {
		return e.apiPost("/cgi-bin/message/custom/typing", obj{"touser": to, "command": cmd})
	}
	s.UserEvent(alice, time.Time{}) // an event is not a message exchange
	typing(alice, "Typing").is(45080)
	typing(alice, "typing").is(45072)
	typing(alice, "").is(45072)
	typing("oNobody", "Typing").is(40003)

	s.UserMessage(alice, time.Time{})
	typing(alice, "Typing").ok()
	if !s.Typing(alice) {
		t.Fatal("Typing must be on")
	}
	typing(alice, "Typing").is(45081)
	e.clock.Advance(15 * time.Second) // typing lasts 15 s; the exchange was 15 s ago
	typing(alice, "Typing").ok()
	typing(alice, "CancelTyping").ok()
	if s.Typing(alice) {
		t.Fatal("CancelTyping must stop it")
	}
	typing(alice, "CancelTyping").ok() // idempotent
	e.clock.Advance(16 * time.Second)  // 31 s after the user's message
	typing(alice, "Typing").is(45080)

	// A sent message is an exchange too, and cancels typing.
	s.UserMessage(alice, time.Time{})
	typing(alice, "Typing").ok()
	e.clock.Advance(5 * time.Second)
	e.send(text(alice, "答复")).ok()
	if s.Typing(alice) {
		t.Fatal("a sent message must cancel typing")
	}
	typing(alice, "Typing").ok() // not 45081: the send ended the previous indicator
	e.clock.Advance(45 * time.Second)
	typing(alice, "Typing").is(45080) // 45 s after the send
	e.clock.Advance(-20 * time.Second)
	e.send(text(alice, "再答复")).ok()
	e.clock.Advance(30 * time.Second)
	typing(alice, "Typing").ok() // exactly 30 s after the send
	e.apiPost("/cgi-bin/message/custom/typing", "{").is(47001)
}

func TestDailyQuota(t *testing.T) {
	e := newEnv(t)
	const path = "/cgi-bin/message/custom/send"
	e.srv.UserMessage(alice, time.Time{})
	e.srv.SetDailyQuota(path, 2)
	e.send(text(alice, "")).is(44004) // failures do not count
	e.send(text(alice, "1")).ok()
	e.send(text(alice, "2")).ok()
	e.send(text(alice, "3")).is(45009)
	e.advance(14 * time.Hour) // past midnight in Beijing
	e.srv.UserMessage(alice, time.Time{})
	e.send(text(alice, "new day")).ok()
	e.send(text(alice, "5")).ok()
	e.send(text(alice, "6")).is(45009)

	// clear_quota resets the counters, 10 times a month.
	e.apiPost("/cgi-bin/clear_quota", obj{"appid": "wx0"}).is(40013)
	e.apiPost("/cgi-bin/clear_quota", obj{"appid": appID}).ok()
	e.send(text(alice, "after clear")).ok()
	for range 9 {
		e.apiPost("/cgi-bin/clear_quota", obj{"appid": appID}).ok()
	}
	e.apiPost("/cgi-bin/clear_quota", obj{"appid": appID}).is(48006)

	// Quotas apply to any path, the token endpoint included.
	e.srv.SetDailyQuota("/cgi-bin/token", 0)
	e.get("/cgi-bin/token", classicQuery()).is(45009)
	e.srv.SetDailyQuota("/cgi-bin/token", -1)
	e.classic()
}

func TestRecordSends(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.RecordSends = true })
	e.srv.UserMessage(alice, time.Time{})
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": "mei@" + weChatID, "nickname": "小美"}).ok()
	m := text(alice, "您好 <3")
	m["customservice"] = obj{"kf_account": "mei@" + weChatID}
	e.send(m).ok()
	e.send(msg(alice, "image", obj{"media_id": e.srv.AddMedia("image", []byte("x"), t0)})).ok()
	recs := e.srv.Records()
	want := []wechattest.Record{
		{OpenID: alice, OperCode: 2002, Text: "您好 <3", Time: t0.Unix(), Worker: "mei@" + weChatID},
		{OpenID: alice, OperCode: 2002, Text: "[image]", Time: t0.Unix()},
	}
	if len(recs) != 2 || recs[0] != want[0] || recs[1] != want[1] {
		t.Fatalf("records %+v", recs)
	}
	r := e.apiPost("/customservice/msgrecord/getmsglist", obj{"starttime": t0.Unix() - 10, "endtime": t0.Unix(), "msgid": 1, "number": 10})
	if r.num("number") != 2 || !bytes.Contains(r.raw, []byte(`"text":"您好 <3"`)) {
		t.Fatalf("getmsglist %s", r.raw)
	}
}
