package api

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const (
	customer  = "oCustomer0000000000000000001"
	boundApp  = "wx3a9c5e7f1b2d4680"
	kfAccount = "xiaomei@teashop"
)

// openWindow makes openid a follower who just wrote to the account (5 replies in 48 h).
func openWindow(f *fixture, openid string) { f.srv.UserMessage(openid, time.Time{}) }

// Every message type reaches the server as exactly the documented JSON.
func TestSendEveryTypeExactBody(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	f.srv.BindMiniProgram(boundApp)
	img := f.srv.AddMedia("image", []byte("img"), f.clock.Now())
	voice := f.srv.AddMedia("voice", []byte("ID3"), f.clock.Now())
	video := f.srv.AddMedia("video", []byte("vid"), f.clock.Now())
	thumb := f.srv.AddMedia("thumb", []byte("jpg"), f.clock.Now())
	link := MiniProgramLink("点此下单", "https://shop.example.com/?a=1&b=2", boundApp, "pages/order/index")
	cases := []struct {
		msg  Message
		want string
	}{
		{Message{MsgType: TypeText, Text: &Text{"您好 " + link + " 🍵"}},
			`{"touser":"` + customer + `","msgtype":"text","text":{"content":"您好 <a href=\"https://shop.example.com/?a=1&b=2\" data-miniprogram-appid=\"` + boundApp + `\" data-miniprogram-path=\"pages/order/index\">点此下单</a> 🍵"}}`},
		{Message{MsgType: TypeImage, Image: &MediaRef{img}},
			`{"touser":"` + customer + `","msgtype":"image","image":{"media_id":"` + img + `"}}`},
		{Message{MsgType: TypeVoice, Voice: &MediaRef{voice}},
			`{"touser":"` + customer + `","msgtype":"voice","voice":{"media_id":"` + voice + `"}}`},
		{Message{MsgType: TypeVideo, Video: &Video{video, thumb, "泡茶教程", "三步泡好龙井"}},
			`{"touser":"` + customer + `","msgtype":"video","video":{"media_id":"` + video + `","thumb_media_id":"` + thumb + `","title":"泡茶教程","description":"三步泡好龙井"}}`},
		{Message{MsgType: TypeMusic, Music: &Music{"茶歌", "", "https://m.example.com/a.mp3", "https://m.example.com/a-hq.mp3", thumb}},
			`{"touser":"` + customer + `","msgtype":"music","music":{"title":"茶歌","description":"","musicurl":"https://m.example.com/a.mp3","hqmusicurl":"https://m.example.com/a-hq.mp3","thumb_media_id":"` + thumb + `"}}`},
		{Message{MsgType: TypeNews, News: &News{[]Article{{"秋季上新", "满 199 减 30", "https://shop.example.com/autumn", "https://shop.example.com/a.jpg"}}}},
			`{"touser":"` + customer + `","msgtype":"news","news":{"articles":[{"title":"秋季上新","description":"满 199 减 30","url":"https://shop.example.com/autumn","picurl":"https://shop.example.com/a.jpg"}]}}`},
		{Message{MsgType: TypeMPNews, MPNews: &MediaRef{"MPNEWS_MEDIA_ID"}},
			`{"touser":"` + customer + `","msgtype":"mpnews","mpnews":{"media_id":"MPNEWS_MEDIA_ID"}}`},
		{Message{MsgType: TypeMPNewsArticle, MPNewsArticle: &MPNewsArticle{"ARTICLE_ID"}},
			`{"touser":"` + customer + `","msgtype":"mpnewsarticle","mpnewsarticle":{"article_id":"ARTICLE_ID"}}`},
		{Message{MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{"您对本次服务满意吗？", []MenuOption{{"101", "满意"}, {"102", "不满意"}}, "欢迎再次光临"}},
			`{"touser":"` + customer + `","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务满意吗？","list":[{"id":"101","content":"满意"},{"id":"102","content":"不满意"}],"tail_content":"欢迎再次光临"}}`},
		{Message{MsgType: TypeWXCard, WXCard: &WXCard{"pFS7Fjg8kV1IdDz01r4SQwMkuCKc"}},
			`{"touser":"` + customer + `","msgtype":"wxcard","wxcard":{"card_id":"pFS7Fjg8kV1IdDz01r4SQwMkuCKc"}}`},
		{Message{MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{"去小程序下单", boundApp, "pages/index/index", thumb}},
			`{"touser":"` + customer + `","msgtype":"miniprogrampage","miniprogrampage":{"title":"去小程序下单","appid":"` + boundApp + `","pagepath":"pages/index/index","thumb_media_id":"` + thumb + `"}}`},
		{Message{MsgType: TypeText, Text: &Text{"由小美为您服务"}, CustomService: &CustomService{kfAccount}},
			`{"touser":"` + customer + `","msgtype":"text","text":{"content":"由小美为您服务"},"customservice":{"kf_account":"` + kfAccount + `"}}`},
	}
	addKF(t, c, kfAccount, "小美")
	for _, tc := range cases {
		openWindow(f, customer) // a fresh window each time: the test is about bodies, not quotas
		m := tc.msg
		m.ToUser = customer
		if err := m.Validate(false); err != nil {
			t.Fatalf("%s: valid message rejected: %v", m.MsgType, err)
		}
		if err := c.Send(ctx, &m); err != nil {
			t.Fatalf("%s: %v", m.MsgType, err)
		}
		sent := f.srv.Sent()
		if got := string(sent[len(sent)-1].Body); got != tc.want {
			t.Errorf("%s body\n got %s\nwant %s", m.MsgType, got, tc.want)
		}
	}
}

// The form keeps every type's fields; only the chosen one is sent, and an empty
// "send as" leaves customservice out.
func TestWireSendsOnlyTheChosenBody(t *testing.T) {
	m := NewMessage()
	m.ToUser, m.MsgType = customer, TypeWXCard
	m.Text.Content = "draft text that must not be sent"
	m.WXCard.CardID = "CARD"
	m.CustomService = &CustomService{}
	b, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"touser":"` + customer + `","msgtype":"wxcard","wxcard":{"card_id":"CARD"}}`; string(b) != want {
		t.Fatalf("got %s", b)
	}
}

func TestMiniProgramSendsItsFourTypes(t *testing.T) {
	clock := wechattest.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	srv := wechattest.NewServer(wechattest.Config{AppID: testAppID, Secret: testSecret, Clock: clock, Kind: wechattest.MiniProgram})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, clock: clock, store: &memStore{}}
	c := f.client(t, TokenConfig{})
	ctx := context.Background()
	img := srv.AddMedia("image", []byte("img"), clock.Now())
	for _, tc := range []struct {
		msg  Message
		want string
	}{
		{Message{MsgType: TypeText, Text: &Text{"hi " + MiniProgramLink("go", "https://x.example.com", testAppID, "pages/a")}},
			`{"touser":"` + customer + `","msgtype":"text","text":{"content":"hi <a href=\"https://x.example.com\" data-miniprogram-appid=\"` + testAppID + `\" data-miniprogram-path=\"pages/a\">go</a>"}}`},
		{Message{MsgType: TypeImage, Image: &MediaRef{img}},
			`{"touser":"` + customer + `","msgtype":"image","image":{"media_id":"` + img + `"}}`},
		{Message{MsgType: TypeLink, Link: &Link{"新品", "秋季上新", "https://shop.example.com/n", "https://shop.example.com/n.jpg"}},
			`{"touser":"` + customer + `","msgtype":"link","link":{"title":"新品","description":"秋季上新","url":"https://shop.example.com/n","thumb_url":"https://shop.example.com/n.jpg"}}`},
		{Message{MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{Title: "首页", PagePath: "pages/index/index", ThumbMediaID: img}},
			`{"touser":"` + customer + `","msgtype":"miniprogrampage","miniprogrampage":{"title":"首页","pagepath":"pages/index/index","thumb_media_id":"` + img + `"}}`},
	} {
		srv.UserMessage(customer, time.Time{})
		m := tc.msg
		m.ToUser = customer
		if err := m.Validate(true); err != nil {
			t.Fatalf("%s: %v", m.MsgType, err)
		}
		if err := c.Send(ctx, &m); err != nil {
			t.Fatalf("%s: %v", m.MsgType, err)
		}
		sent := srv.Sent()
		if got := string(sent[len(sent)-1].Body); got != tc.want {
			t.Errorf("%s body\n got %s\nwant %s", m.MsgType, got, tc.want)
		}
	}
	m := Message{ToUser: customer, MsgType: TypeVoice, Voice: &MediaRef{"x"}}
	if err := m.Validate(true); !hasField(err, "msgtype") {
		t.Fatalf("voice allowed for a Mini Program: %v", err)
	}
}

func hasField(err error, field string) bool {
	var v ValidationErrors
	if !errors.As(err, &v) {
		return false
	}
	_, ok := v.For(field)
	return ok
}

// Every validation rule names the field it is about.
func TestValidationRules(t *testing.T) {
	long := strings.Repeat("茶", 683) // 2049 bytes
	cases := []struct {
		name  string
		mp    bool
		msg   Message
		field string
	}{
		{"no recipient", false, Message{MsgType: TypeText, Text: &Text{"hi"}}, "touser"},
		{"openid with space", false, Message{ToUser: "oAbc def", MsgType: TypeText, Text: &Text{"hi"}}, "touser"},
		{"unknown type", false, Message{ToUser: customer, MsgType: "file"}, "msgtype"},
		{"link on an OA", false, Message{ToUser: customer, MsgType: TypeLink, Link: &Link{}}, "msgtype"},
		{"body missing", false, Message{ToUser: customer, MsgType: TypeText}, "text"},
		{"empty text", false, Message{ToUser: customer, MsgType: TypeText, Text: &Text{"  "}}, "text.content"},
		{"text over 2048 bytes", false, Message{ToUser: customer, MsgType: TypeText, Text: &Text{long}}, "text.content"},
		{"bad link appid", false, Message{ToUser: customer, MsgType: TypeText, Text: &Text{MiniProgramLink("a", "https://a.cn", "wx123", "p")}}, "text.content"},
		{"image without media", false, Message{ToUser: customer, MsgType: TypeImage, Image: &MediaRef{}}, "image.media_id"},
		{"voice without media", false, Message{ToUser: customer, MsgType: TypeVoice, Voice: &MediaRef{}}, "voice.media_id"},
		{"video without thumb", false, Message{ToUser: customer, MsgType: TypeVideo, Video: &Video{MediaID: "v"}}, "video.thumb_media_id"},
		{"video without media", false, Message{ToUser: customer, MsgType: TypeVideo, Video: &Video{ThumbMediaID: "t"}}, "video.media_id"},
		{"music bad url", false, Message{ToUser: customer, MsgType: TypeMusic, Music: &Music{MusicURL: "ftp://a/b.mp3", HQMusicURL: "https://a.cn/b.mp3", ThumbMediaID: "t"}}, "music.musicurl"},
		{"music no hq url", false, Message{ToUser: customer, MsgType: TypeMusic, Music: &Music{MusicURL: "https://a.cn/b.mp3", ThumbMediaID: "t"}}, "music.hqmusicurl"},
		{"music no thumb", false, Message{ToUser: customer, MsgType: TypeMusic, Music: &Music{MusicURL: "https://a.cn/b.mp3", HQMusicURL: "https://a.cn/b.mp3"}}, "music.thumb_media_id"},
		{"news two articles", false, Message{ToUser: customer, MsgType: TypeNews, News: &News{[]Article{{Title: "a", URL: "https://a.cn"}, {Title: "b", URL: "https://b.cn"}}}}, "news.articles"},
		{"news no article", false, Message{ToUser: customer, MsgType: TypeNews, News: &News{}}, "news.articles"},
		{"news no title", false, Message{ToUser: customer, MsgType: TypeNews, News: &News{[]Article{{URL: "https://a.cn"}}}}, "news.articles.0.title"},
		{"news bad url", false, Message{ToUser: customer, MsgType: TypeNews, News: &News{[]Article{{Title: "a", URL: "shop.example.com"}}}}, "news.articles.0.url"},
		{"news bad picurl", false, Message{ToUser: customer, MsgType: TypeNews, News: &News{[]Article{{Title: "a", URL: "https://a.cn", PicURL: "a b"}}}}, "news.articles.0.picurl"},
		{"mpnews no media", false, Message{ToUser: customer, MsgType: TypeMPNews, MPNews: &MediaRef{}}, "mpnews.media_id"},
		{"mpnewsarticle no id", false, Message{ToUser: customer, MsgType: TypeMPNewsArticle, MPNewsArticle: &MPNewsArticle{}}, "mpnewsarticle.article_id"},
		{"menu empty", false, Message{ToUser: customer, MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{}}, "msgmenu.list"},
		{"menu eleven", false, Message{ToUser: customer, MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{List: elevenOptions()}}, "msgmenu.list"},
		{"menu duplicate id", false, Message{ToUser: customer, MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{List: []MenuOption{{"1", "a"}, {"1", "b"}}}}, "msgmenu.list.1.id"},
		{"menu empty id", false, Message{ToUser: customer, MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{List: []MenuOption{{"", "a"}}}}, "msgmenu.list.0.id"},
		{"menu empty content", false, Message{ToUser: customer, MsgType: TypeMsgMenu, MsgMenu: &MsgMenu{List: []MenuOption{{"1", ""}}}}, "msgmenu.list.0.content"},
		{"wxcard no id", false, Message{ToUser: customer, MsgType: TypeWXCard, WXCard: &WXCard{}}, "wxcard.card_id"},
		{"page no title", false, Message{ToUser: customer, MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{AppID: boundApp, PagePath: "p", ThumbMediaID: "t"}}, "miniprogrampage.title"},
		{"page no appid on OA", false, Message{ToUser: customer, MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{Title: "a", PagePath: "p", ThumbMediaID: "t"}}, "miniprogrampage.appid"},
		{"page bad appid", false, Message{ToUser: customer, MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{Title: "a", AppID: "wx12", PagePath: "p", ThumbMediaID: "t"}}, "miniprogrampage.appid"},
		{"page appid on MP", true, Message{ToUser: customer, MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{Title: "a", AppID: boundApp, PagePath: "p", ThumbMediaID: "t"}}, "miniprogrampage.appid"},
		{"page no path", false, Message{ToUser: customer, MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{Title: "a", AppID: boundApp, ThumbMediaID: "t"}}, "miniprogrampage.pagepath"},
		{"page no thumb", false, Message{ToUser: customer, MsgType: TypeMiniProgramPage, MiniProgramPage: &MiniProgramPage{Title: "a", AppID: boundApp, PagePath: "p"}}, "miniprogrampage.thumb_media_id"},
		{"link no title", true, Message{ToUser: customer, MsgType: TypeLink, Link: &Link{Description: "d", URL: "https://a.cn", ThumbURL: "https://a.cn/t.jpg"}}, "link.title"},
		{"link no description", true, Message{ToUser: customer, MsgType: TypeLink, Link: &Link{Title: "t", URL: "https://a.cn", ThumbURL: "https://a.cn/t.jpg"}}, "link.description"},
		{"link bad url", true, Message{ToUser: customer, MsgType: TypeLink, Link: &Link{Title: "t", Description: "d", URL: "javascript:alert(1)", ThumbURL: "https://a.cn/t.jpg"}}, "link.url"},
		{"link no thumb url", true, Message{ToUser: customer, MsgType: TypeLink, Link: &Link{Title: "t", Description: "d", URL: "https://a.cn"}}, "link.thumb_url"},
		{"bad kf account", false, Message{ToUser: customer, MsgType: TypeText, Text: &Text{"hi"}, CustomService: &CustomService{"xiaomei"}}, "customservice.kf_account"},
		{"kf account on MP", true, Message{ToUser: customer, MsgType: TypeText, Text: &Text{"hi"}, CustomService: &CustomService{kfAccount}}, "customservice.kf_account"},
	}
	for _, tc := range cases {
		err := tc.msg.Validate(tc.mp)
		if !hasField(err, tc.field) {
			t.Errorf("%s: want an error at %s, got %v", tc.name, tc.field, err)
			continue
		}
		fe, _ := err.(ValidationErrors).For(tc.field)
		if fe.ZH() == "" || fe.EN() == "" || fe.ZH() == fe.EN() {
			t.Errorf("%s: explanation missing a language: %q / %q", tc.name, fe.ZH(), fe.EN())
		}
	}
	// The boundary: exactly 2048 bytes is fine.
	ok := Message{ToUser: customer, MsgType: TypeText, Text: &Text{strings.Repeat("a", 2048)}}
	if err := ok.Validate(false); err != nil {
		t.Fatalf("2048 bytes rejected: %v", err)
	}
}

func elevenOptions() []MenuOption {
	var l []MenuOption
	for i := range 11 {
		l = append(l, MenuOption{ID: string(rune('a' + i)), Content: "x"})
	}
	return l
}

func TestParseMessageRejectsUnknownFields(t *testing.T) {
	if _, err := ParseMessage([]byte(`{"touser":"a","msgtype":"text","text":{"content":"x"},"kfaccount":"y"}`)); err == nil {
		t.Fatal("misspelt field accepted")
	}
	m, err := ParseMessage([]byte(`{"touser":"` + customer + `","msgtype":"text","text":{"content":"<b>&</b>"}}`))
	if err != nil || m.Text.Content != "<b>&</b>" {
		t.Fatalf("%+v %v", m, err)
	}
}

// The reply window is the customer's: the errors come back explained.
func TestSendWindowErrors(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	msg := func() *Message { return &Message{ToUser: customer, MsgType: TypeText, Text: &Text{"您好"}} }

	f.srv.AddFollower(customer) // follows, but never wrote: no window
	if err := c.Send(ctx, msg()); !IsCode(err, 45015) {
		t.Fatalf("no window: %v", err)
	}
	openWindow(f, customer)
	for i := range 5 {
		if err := c.Send(ctx, msg()); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
	}
	err := c.Send(ctx, msg())
	if !IsCode(err, 45047) || !strings.Contains(err.(*Error).ZH(), "5 条") {
		t.Fatalf("sixth reply: %v", err)
	}
	f.clock.Advance(49 * time.Hour)
	openWindow(f, customer)
	f.clock.Advance(48*time.Hour + time.Second)
	if err := c.Send(ctx, msg()); !IsCode(err, 45015) {
		t.Fatalf("after 48 h: %v", err)
	}
	openWindow(f, customer)
	f.srv.RemoveFollower(customer)
	err = c.Send(ctx, msg())
	if !IsCode(err, 43004) || !strings.Contains(err.(*Error).EN(), "unfollowed") {
		t.Fatalf("unfollowed: %v", err)
	}
	var e *Error
	if errors.As(err, &e); e.Retryable() {
		t.Fatal("43004 must not be retried")
	}
}

func TestTyping(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	f.srv.AddFollower(customer)
	if err := c.Typing(ctx, customer, true); !IsCode(err, 45080) {
		t.Fatalf("no exchange: %v", err)
	}
	openWindow(f, customer)
	if err := c.Typing(ctx, customer, true); err != nil {
		t.Fatal(err)
	}
	if !f.srv.Typing(customer) {
		t.Fatal("typing not shown")
	}
	if err := c.Typing(ctx, customer, true); !IsCode(err, 45081) {
		t.Fatalf("twice: %v", err)
	}
	if err := c.Typing(ctx, customer, false); err != nil || f.srv.Typing(customer) {
		t.Fatalf("cancel: %v", err)
	}
	reqs := f.srv.Requests("/cgi-bin/message/custom/typing")
	if got := string(reqs[len(reqs)-1].Body); got != `{"touser":"`+customer+`","command":"CancelTyping"}` {
		t.Fatalf("body %s", got)
	}
}

func jpegOf(t *testing.T, w, h, quality int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7919 % 251) // noise, so JPEG cannot compress it away
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// addKF creates a KF account (the KF screen's call).
func addKF(t *testing.T, c *Client, account, nick string) {
	t.Helper()
	if err := c.AddKF(context.Background(), account, nick); err != nil {
		t.Fatal(err)
	}
}
