package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

const customer = "oCustomer0000000000000000001"

// composerFor opens the composer on an account of the given kind served by its own
// fake server, where customer has just written (an open reply window).
func composerFor(t *testing.T, kind wechattest.Kind) (*MainWindow, *composerScreen, *wechattest.Server) {
	t.Helper()
	m, ws := newTestWindow(t, "zh")
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s", Kind: kind})
	t.Cleanup(srv.Close)
	k := storage.KindOA
	if kind == wechattest.MiniProgram {
		k = storage.KindMP
	}
	if _, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: k, AppID: "wx0123456789abcdef", APIBase: srv.URL}, "s"); err != nil {
		t.Fatal(err)
	}
	srv.UserMessage(customer, time.Time{})
	m.SelectAccount("shop")
	waitIdle(t, m)
	m.showPage(PageComposer)
	waitIdle(t, m)
	if m.composer == nil {
		t.Fatal("no composer")
	}
	return m, m.composer, srv
}

func chooseType(t *testing.T, s *composerScreen, msgtype string) {
	t.Helper()
	i := slicesIndex(api.MsgTypes(s.mp), msgtype)
	if i < 0 {
		t.Fatalf("type %s not offered", msgtype)
	}
	s.typeSelect.SetSelectedIndex(i)
}

func slicesIndex(l []string, v string) int {
	for i, x := range l {
		if x == v {
			return i
		}
	}
	return -1
}

func lastSent(t *testing.T, srv *wechattest.Server) string {
	t.Helper()
	s := srv.Sent()
	if len(s) == 0 {
		t.Fatal("nothing reached the server")
	}
	return string(s[len(s)-1].Body)
}

func tapSend(t *testing.T, m *MainWindow, s *composerScreen) {
	t.Helper()
	test.Tap(s.send)
	waitIdle(t, m)
}

func writeJPEG(t *testing.T, w, h, q int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7919 % 251)
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: q})
	p := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestComposerFillsAndSendsSeveralTypes(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	c := m.Window().Canvas()

	// Text.
	test.Type(s.to, customer)
	test.Type(s.entries["text.content"], "您好，明前龙井还有货")
	assertShows(t, c, "您好，明前龙井还有货", "30 / 2048 字节") // the preview bubble and the byte count
	tapSend(t, m, s)
	if want := `{"touser":"` + customer + `","msgtype":"text","text":{"content":"您好，明前龙井还有货"}}`; lastSent(t, srv) != want {
		t.Fatalf("text body %s", lastSent(t, srv))
	}
	assertShows(t, c, "已发送给 "+customer)
	if s.entries["text.content"].Text != "" {
		t.Fatal("text kept after a successful send")
	}
	if d, err := m.ws.DB.Draft(context.Background(), s.a.ID); err != nil || d != "" {
		t.Fatalf("draft kept after a successful send: %q %v", d, err)
	}

	// Image: the file is uploaded with progress and its media_id filled in.
	chooseType(t, s, api.TypeImage)
	photo := writeJPEG(t, 120, 90, 80)
	s.useFile("image.media_id", photo)
	waitIdle(t, m)
	id := s.entries["image.media_id"].Text
	if item, ok := srv.Media(id); !ok || item.Type != "image" {
		t.Fatalf("upload: %q %v", id, ok)
	}
	tapSend(t, m, s)
	if want := `{"touser":"` + customer + `","msgtype":"image","image":{"media_id":"` + id + `"}}`; lastSent(t, srv) != want {
		t.Fatalf("image body %s", lastSent(t, srv))
	}

	// Menu: options added, a duplicate id is shown at its field, reordering works.
	chooseType(t, s, api.TypeMsgMenu)
	test.Type(s.entries["msgmenu.head_content"], "您对本次服务满意吗？")
	s.addMenuOption()
	s.addMenuOption()
	s.addMenuOption()
	test.Type(s.entries["msgmenu.list.0.content"], "满意")
	test.Type(s.entries["msgmenu.list.1.content"], "不满意")
	test.Type(s.entries["msgmenu.list.2.content"], "一般")
	s.entries["msgmenu.list.2.id"].SetText("101")
	sent := len(srv.Sent())
	tapSend(t, m, s)
	if len(srv.Sent()) != sent {
		t.Fatal("a menu with a duplicate id was sent")
	}
	if l := s.errLabels["msgmenu.list.2.id"]; !l.Visible() || !strings.Contains(l.Text, "重复") {
		t.Fatalf("duplicate id error: %q visible=%v", l.Text, l.Visible())
	}
	s.entries["msgmenu.list.2.id"].SetText("103")
	s.msg.MsgMenu.List[1], s.msg.MsgMenu.List[2] = s.msg.MsgMenu.List[2], s.msg.MsgMenu.List[1] // as "move down" does
	tapSend(t, m, s)
	want := `{"touser":"` + customer + `","msgtype":"msgmenu","msgmenu":{"head_content":"您对本次服务满意吗？","list":[{"id":"101","content":"满意"},{"id":"103","content":"一般"},{"id":"102","content":"不满意"}],"tail_content":""}}`
	if lastSent(t, srv) != want {
		t.Fatalf("menu body %s", lastSent(t, srv))
	}

	// Video: a too-large cover is offered for shrinking, then both files are uploaded.
	chooseType(t, s, api.TypeVideo)
	clip := filepath.Join(t.TempDir(), "tea.mp4")
	_ = os.WriteFile(clip, append([]byte{0, 0, 0, 0x18}, []byte("ftypmp42 tea ceremony")...), 0o600)
	s.useFile("video.media_id", clip)
	waitIdle(t, m)
	s.useFile("video.thumb_media_id", writeJPEG(t, 400, 400, 95))
	waitIdle(t, m)
	assertShows(t, c, "压缩图片？")
	test.Tap(findButton(t, c, "Yes"))
	waitIdle(t, m)
	thumb := s.entries["video.thumb_media_id"].Text
	if item, ok := srv.Media(thumb); !ok || item.Type != "thumb" || len(item.Data) > 64<<10 {
		t.Fatalf("thumb %q %v", thumb, ok)
	}
	test.Type(s.entries["video.title"], "三步泡好龙井")
	tapSend(t, m, s)
	var got struct {
		Video api.Video `json:"video"`
	}
	_ = json.Unmarshal([]byte(lastSent(t, srv)), &got)
	if got.Video.ThumbMediaID != thumb || got.Video.MediaID == "" || got.Video.Title != "三步泡好龙井" {
		t.Fatalf("video body %s", lastSent(t, srv))
	}

	// The send log lists all four.
	test.Tap(findButton(t, c, "发送记录"))
	waitIdle(t, m)
	if n := len(s.sendLog.entries); n != 4 {
		t.Fatalf("send log has %d entries", n)
	}
	s.sendLog.list.Select(0)
	if !strings.Contains(s.sendLog.detail.Text, "三步泡好龙井") {
		t.Fatalf("detail %q", s.sendLog.detail.Text)
	}
}

func TestComposerShowsErrorsAtTheFields(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	tapSend(t, m, s)
	if !s.errLabels["touser"].Visible() || !s.errLabels["text.content"].Visible() {
		t.Fatal("errors not shown at the recipient and the text")
	}
	assertShows(t, m.Window().Canvas(), "请选择或填写接收人（openid）。", "请填写消息内容。")
	chooseType(t, s, api.TypeNews)
	test.Type(s.to, customer)
	test.Type(s.entries["news.articles.0.title"], "秋季上新")
	test.Type(s.entries["news.articles.0.url"], "shop.example.com")
	tapSend(t, m, s)
	if l := s.errLabels["news.articles.0.url"]; !l.Visible() || !strings.Contains(l.Text, "http") {
		t.Fatalf("url error %q", l.Text)
	}
	assertShows(t, m.Window().Canvas(), "只能包含 1 篇文章") // the form explains the one-article rule
	if srv.Calls("/cgi-bin/message/custom/send") != 0 {
		t.Fatal("an invalid message was sent")
	}
}

// A send WeChat refuses with -1 keeps everything: form, draft, and the log says so.
func TestComposerFailedSendKeepsDraft(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	srv.FailNth("/cgi-bin/message/custom/send", 1, wechattest.Errcode(-1, ""))
	test.Type(s.to, customer)
	test.Type(s.entries["text.content"], "退款已经处理好了")
	tapSend(t, m, s)
	assertShows(t, m.Window().Canvas(), "微信错误 -1：微信系统繁忙，请稍后重试。", "未发送。消息已保存为草稿，不会丢失。")
	if s.entries["text.content"].Text != "退款已经处理好了" {
		t.Fatal("the form lost the text")
	}
	d, _ := m.ws.DB.Draft(context.Background(), s.a.ID)
	if !strings.Contains(d, "退款已经处理好了") || !strings.Contains(d, customer) {
		t.Fatalf("draft %q", d)
	}
	log, _ := m.ws.DB.SendLog(context.Background(), s.a.ID, 0, 10)
	if len(log) != 1 || log[0].Status != storage.SendFailed || *log[0].ErrCode != -1 || !strings.Contains(log[0].Body, "退款已经处理好了") {
		t.Fatalf("log %+v", log)
	}

	// Coming back (or after a crash) the draft is restored.
	m.showPage(PageSettings)
	m.showPage(PageComposer)
	waitIdle(t, m)
	s2 := m.composer
	if s2 == s || s2.to.Text != customer || s2.entries["text.content"].Text != "退款已经处理好了" {
		t.Fatalf("draft not restored: %q %q", s2.to.Text, s2.entries["text.content"].Text)
	}
	tapSend(t, m, s2)
	if !strings.Contains(lastSent(t, srv), "退款已经处理好了") {
		t.Fatal("retry not sent")
	}
}

func TestComposerSavesDraftAsTyped(t *testing.T) {
	m, s, _ := composerFor(t, wechattest.OfficialAccount)
	chooseType(t, s, api.TypeWXCard)
	test.Type(s.entries["wxcard.card_id"], "pFS7Fjg8kV1I")
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, _ := m.ws.DB.Draft(context.Background(), s.a.ID)
		if strings.Contains(d, "pFS7Fjg8kV1I") && strings.Contains(d, `"msgtype":"wxcard"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("draft not saved while typing: %q", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Text typed just before the window closes or the app quits (less than the draft
// delay) is not lost.
func TestDraftTypedJustBeforeClosingIsKept(t *testing.T) {
	for _, how := range []string{"close", "quit"} {
		m, s, _ := composerFor(t, wechattest.OfficialAccount)
		text := "马上" + how + "前写的"
		test.Type(s.entries["text.content"], text)
		switch how { // at once: the 500 ms timer has not fired
		case "close":
			m.Window().Close()
		case "quit": // Cmd+Q, logging off: Fyne runs the lifecycle's OnStopped
			stopped, ok := m.app.Lifecycle().(interface{ OnStopped() func() })
			if !ok || stopped.OnStopped() == nil {
				t.Fatal("no OnStopped hook")
			}
			stopped.OnStopped()()
		}
		d, err := m.ws.DB.Draft(context.Background(), s.a.ID)
		if err != nil || !strings.Contains(d, text) {
			t.Fatalf("draft after %s: %q %v", how, d, err)
		}
	}
}

func TestComposerWindowErrorsAreExplained(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	c := m.Window().Canvas()
	srv.AddFollower("oQuiet0000000000000000000001") // follows, never wrote
	test.Type(s.to, "oQuiet0000000000000000000001")
	test.Type(s.entries["text.content"], "在吗")
	tapSend(t, m, s)
	assertShows(t, c, "微信错误 45015")
	srv.RemoveFollower(customer)
	s.to.SetText(customer)
	tapSend(t, m, s)
	assertShows(t, c, "微信错误 43004")
}

func TestComposerSendAsAndTyping(t *testing.T) {
	m, _, srv := composerFor(t, wechattest.OfficialAccount)
	// The KF list is read when "Send as" is first opened.
	tok := srv.IssueToken()
	resp, err := httpPost(srv.URL+"/customservice/kfaccount/add?access_token="+tok, `{"kf_account":"xiaomei@kfdesk_demo","nickname":"小美"}`)
	if err != nil || resp != 0 {
		t.Fatalf("add kf: %v %d", err, resp)
	}
	s := m.composer
	test.Tap(s.sendAs) // the list is loaded when first opened
	waitIdle(t, m)
	if len(s.sendAs.Options) != 2 {
		t.Fatalf("send-as options %v", s.sendAs.Options)
	}
	s.sendAs.SetSelectedIndex(1)
	assertShows(t, m.Window().Canvas(), "小美") // the preview shows the nickname the customer will see
	test.Type(s.to, customer)
	test.Tap(s.typing)
	waitIdle(t, m)
	if !srv.Typing(customer) {
		t.Fatalf("typing not shown: %s", s.status.Text)
	}
	test.Type(s.entries["text.content"], "小美为您服务")
	tapSend(t, m, s)
	if !strings.HasSuffix(lastSent(t, srv), `"customservice":{"kf_account":"xiaomei@kfdesk_demo"}}`) {
		t.Fatalf("body %s", lastSent(t, srv))
	}
	test.Tap(s.cancelTyping)
	waitIdle(t, m)
	if srv.Typing(customer) {
		t.Fatal("typing still shown")
	}
}

func TestMiniProgramComposerOffersFourTypes(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.MiniProgram)
	if len(s.typeSelect.Options) != 4 {
		t.Fatalf("types %v", s.typeSelect.Options)
	}
	chooseType(t, s, api.TypeMiniProgramPage)
	if _, ok := s.entries["miniprogrampage.appid"]; ok {
		t.Fatal("appid offered to a Mini Program")
	}
	test.Type(s.to, customer)
	test.Type(s.entries["miniprogrampage.title"], "首页")
	test.Type(s.entries["miniprogrampage.pagepath"], "pages/index/index")
	s.useFile("miniprogrampage.thumb_media_id", writeJPEG(t, 52, 41, 80))
	waitIdle(t, m)
	id := s.entries["miniprogrampage.thumb_media_id"].Text
	tapSend(t, m, s)
	if want := `{"touser":"` + customer + `","msgtype":"miniprogrampage","miniprogrampage":{"title":"首页","pagepath":"pages/index/index","thumb_media_id":"` + id + `"}}`; lastSent(t, srv) != want {
		t.Fatalf("body %s", lastSent(t, srv))
	}
}

func TestTemplatesAndOpenComposerFor(t *testing.T) {
	m, s, _ := composerFor(t, wechattest.OfficialAccount)
	test.Type(s.entries["text.content"], "感谢您的支持，祝您生活愉快！")
	s.saveTemplate("致谢")
	waitIdle(t, m)
	s.entries["text.content"].SetText("")
	m.OpenComposerFor("oReply0000000000000000000001")
	waitIdle(t, m)
	s = m.composer
	if s.to.Text != "oReply0000000000000000000001" {
		t.Fatalf("recipient %q", s.to.Text)
	}
	s.onUseTemplate("致谢")
	if s.entries["text.content"].Text != "感谢您的支持，祝您生活愉快！" || s.msg.ToUser != "oReply0000000000000000000001" {
		t.Fatalf("template: %q to %q", s.entries["text.content"].Text, s.msg.ToUser)
	}

	// Delete it through the dialog: cancelling keeps it, choosing and confirming removes it.
	c := m.Window().Canvas()
	test.Tap(findButton(t, c, T("Delete template…")))
	s.deleteDialog.SetSelected("致谢")
	test.Tap(findDialogButton(t, c, T("Cancel")))
	if c.Overlays().Top() != nil || len(s.templateSelect.Options) != 1 {
		t.Fatalf("cancel deleted: %v", s.templateSelect.Options)
	}
	test.Tap(findButton(t, c, T("Delete template…")))
	s.deleteDialog.SetSelected("致谢")
	test.Tap(findDialogButton(t, c, T("Delete")))
	waitIdle(t, m)
	if len(s.templateSelect.Options) != 0 {
		t.Fatalf("after delete: %v", s.templateSelect.Options)
	}
	if ts, _ := m.ws.DB.Templates(m.ctx, s.a.ID); len(ts) != 0 {
		t.Fatalf("still stored: %+v", ts)
	}
}

// composerWithSeen opens the composer on the demo account, in Chinese, with the given
// customers "seen in the chat records" (and their notes).
func composerWithSeen(t *testing.T, notes map[string]string, seen ...workspace.SeenCustomer) (*MainWindow, *composerScreen) {
	t.Helper()
	m, ws := newTestWindow(t, "zh")
	ctx := context.Background()
	a, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws.SeenCustomers = func(context.Context, int64, int) ([]workspace.SeenCustomer, error) { return seen, nil }
	for openid, note := range notes {
		if err := ws.DB.SetNote(ctx, a.ID, openid, note); err != nil {
			t.Fatal(err)
		}
	}
	m.SelectAccount(a.Name)
	waitIdle(t, m)
	m.showPage(PageComposer)
	waitIdle(t, m)
	return m, m.composer
}

func TestRecipientPickerWithChatRecordWindow(t *testing.T) {
	now := clock.Now()
	m, s := composerWithSeen(t, map[string]string{customer: "老顾客 王姐"},
		workspace.SeenCustomer{OpenID: customer, LastMessage: now.Add(-2 * time.Hour), LastActivity: now.Add(-2 * time.Hour), RepliesSince: 1})
	s.onChooseRecipient()
	test.Tap(findButton(t, m.Window().Canvas(), "更新粉丝列表"))
	waitIdle(t, m)
	if len(s.picker.shown) < 30 {
		t.Fatalf("%d recipients after the follower sync", len(s.picker.shown))
	}
	test.Type(s.picker.filter, "王姐")
	if len(s.picker.shown) != 1 {
		t.Fatalf("filter: %d", len(s.picker.shown))
	}
	s.picker.list.Select(0)
	if s.to.Text != customer || !strings.Contains(s.recipientInfo.Text, "可回复：还剩 4/5 条") {
		t.Fatalf("%q %q", s.to.Text, s.recipientInfo.Text)
	}
	if s.note.Text != "老顾客 王姐" {
		t.Fatalf("note %q", s.note.Text)
	}
}

// httpPost posts JSON and returns the errcode.
func httpPost(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var out struct {
		ErrCode int `json:"errcode"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out.ErrCode, err
}

// The line under "To" tells apart a window whose 5 replies are used up from one that
// closed because 48 hours passed: the operator waits for the customer either way, but
// only the first means "you already answered five times".
func TestRecipientLineUsedUpVersusClosed(t *testing.T) {
	now := clock.Now()
	_, s := composerWithSeen(t, nil,
		workspace.SeenCustomer{OpenID: "oUsedUp", LastMessage: now.Add(-2 * time.Hour), LastActivity: now.Add(-time.Hour), RepliesSince: 5},
		workspace.SeenCustomer{OpenID: "oClosed", LastMessage: now.Add(-50 * time.Hour), LastActivity: now.Add(-49 * time.Hour), RepliesSince: 1},
		workspace.SeenCustomer{OpenID: "oFour", LastMessage: now.Add(-2 * time.Hour), LastActivity: now.Add(-time.Hour), RepliesSince: 4})
	for _, c := range []struct{ openid, want, not string }{
		{"oUsedUp", "回复条数已用完：对方上次留言后已回复 5 条", "48 小时内没有留言"},
		{"oClosed", "不可回复：对方 48 小时内没有留言", "已用完"},
		{"oFour", "还剩 1/5 条", "已用完"},
	} {
		s.to.SetText("")
		test.Type(s.to, c.openid)
		if got := s.recipientInfo.Text; !strings.Contains(got, c.want) || strings.Contains(got, c.not) {
			t.Errorf("%s: line %q, want %q", c.openid, got, c.want)
		}
	}
}
