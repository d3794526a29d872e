package ui

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// openKF shows the KF page and waits for the first list.
func openKF(t *testing.T, m *MainWindow) *kfScreen {
	t.Helper()
	test.Tap(findButton(t, m.Window().Canvas(), T("KF accounts")))
	s := m.kf
	if s == nil {
		t.Fatal("no KF screen")
	}
	eventually(t, "the first list", func() bool { return !s.refresh.Disabled() })
	return s
}

const kfAppID, kfSecret = "wx0123456789abcdef", "shop-secret"

// kfServer is a fake WeChat for the "teashop" Official Account, with the sample KF accounts or none.
func kfServer(t *testing.T, sample bool) *wechattest.Server {
	srv := wechattest.NewServer(wechattest.Config{AppID: kfAppID, Secret: kfSecret, WeChatID: "teashop", Sample: sample})
	t.Cleanup(srv.Close)
	return srv
}

// kfWindowFor opens a window on an account that talks to srv.
func kfWindowFor(t *testing.T, language string, srv *wechattest.Server) (*MainWindow, *kfScreen) {
	t.Helper()
	m, ws := newTestWindow(t, language)
	_, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA,
		AppID: kfAppID, TokenMode: storage.TokenStable, APIBase: srv.URL}, kfSecret)
	if err != nil {
		t.Fatal(err)
	}
	m.SelectAccount("shop")
	waitIdle(t, m)
	return m, openKF(t, m)
}

func selectKF(t *testing.T, s *kfScreen, account string) {
	t.Helper()
	for i, k := range s.items {
		if k.Account == account {
			s.list.Select(i)
			return
		}
	}
	t.Fatalf("%s not in the list", account)
}

func TestKFScreenShowsTheDemoAccounts(t *testing.T) {
	m, ws := newTestWindow(t, "zh")
	if _, err := ws.EnsureDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount(workspace.DemoName)
	waitIdle(t, m)
	s := openKF(t, m)
	if len(s.items) != 4 || s.oaID != "kfdesk_demo" || !s.derived {
		t.Fatalf("items %d, oa %q", len(s.items), s.oaID)
	}
	c := m.Window().Canvas()
	assertShows(t, c, "小美 · xiaomei@kfdesk_demo", "工作人员微信号：xiaomei_cy", "在线 · 接待中", "离线",
		"已邀请 lili_tea88，等待对方接受", "给 laowang_1975 的邀请已过期", "公众号微信号：kfdesk_demo")
	// Thumbnails arrive in the background for the two accounts with an avatar.
	eventually(t, "thumbnails", func() bool {
		n := 0
		for _, k := range s.items {
			if img, _ := thumbs.lookup(k.HeadImgURL); img != nil {
				n++
			}
		}
		return n == 2
	})
	// Nothing selected: only Add and Refresh work.
	if !s.edit.Disabled() || !s.del.Disabled() || !s.invite.Disabled() || !s.avatar.Disabled() {
		t.Fatal("row actions enabled without a selection")
	}
	selectKF(t, s, "xiaomei@kfdesk_demo")
	if s.edit.Disabled() || s.del.Disabled() || s.avatar.Disabled() || !s.invite.Disabled() {
		t.Fatal("a bound account: edit, delete and avatar on, invite off")
	}
	selectKF(t, s, "laowang@kfdesk_demo")
	if s.invite.Disabled() {
		t.Fatal("an expired invitation can be renewed")
	}
}

func TestKFAddChecksRulesThenAdds(t *testing.T) {
	srv := kfServer(t, false)
	m, s := kfWindowFor(t, "en", srv)
	c := m.Window().Canvas()
	assertShows(t, c, "Official Account WeChat ID: not known yet")

	test.Tap(findButton(t, c, "Add KF account"))
	f := s.form
	if f == nil || f.oaID == nil {
		t.Fatal("no add form asking for the OA WeChat ID")
	}
	assertShows(t, c, "The prefix has 1–10 letters", "up to 16 characters", "It is asked only once")
	test.Type(f.prefix, "xiao-mei")
	test.Type(f.nick, strings.Repeat("美", 17))
	test.Tap(f.save)
	waitIdle(t, m)
	for _, key := range []string{"kf_account", "nickname", "wechat_id"} {
		if !f.errs[key].Visible() {
			t.Errorf("no error at %s", key)
		}
	}
	if f.nickCount.Text != "17/16" {
		t.Errorf("counter %q", f.nickCount.Text)
	}
	if srv.Calls("/customservice/kfaccount/add") != 0 {
		t.Fatal("refused input was sent")
	}

	f.prefix.SetText("xiaomei")
	f.nick.SetText("小美")
	f.oaID.SetText("teashop")
	test.Tap(f.save)
	waitIdle(t, m)
	eventually(t, "the new account in the list", func() bool { return len(s.items) == 1 && s.form == nil })
	if s.items[0].Account != "xiaomei@teashop" || s.items[0].Nick != "小美" {
		t.Fatalf("%+v", s.items[0])
	}
	assertShows(t, c, "Added xiaomei@teashop", "Official Account WeChat ID: teashop")
	a := m.account
	if id, _ := m.ws.OAWeChatID(context.Background(), a); id != "teashop" {
		t.Fatalf("remembered %q", id)
	}

	// Now the suffix is known from the list: the form shows it fixed.
	test.Tap(findButton(t, c, "Add KF account"))
	if s.form.oaID != nil {
		t.Fatal("asked for the OA WeChat ID again")
	}
	assertShows(t, c, "@teashop")
}

func TestKFAddShowsWeChatErrorInPlaceAndKeepsInput(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "zh", srv)
	test.Tap(findButton(t, m.Window().Canvas(), "添加客服账号"))
	f := s.form
	test.Type(f.prefix, "xiaomei") // exists in the sample data
	test.Type(f.nick, "小美二号")
	test.Tap(f.save)
	waitIdle(t, m)
	eventually(t, "the error", func() bool { return f.formErr.Visible() })
	if !strings.Contains(f.formErr.Text, "65406") || !strings.Contains(f.formErr.Text, "已经存在") {
		t.Fatalf("error %q", f.formErr.Text)
	}
	if s.form != f || f.prefix.Text != "xiaomei" || f.nick.Text != "小美二号" || f.save.Disabled() {
		t.Fatal("the form lost its input or stays disabled")
	}
}

func TestKFRefreshErrorIsExplainedAndKeepsTheList(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "en", srv)
	srv.SetKFEnabled(false)
	test.Tap(findButton(t, m.Window().Canvas(), "Refresh"))
	eventually(t, "the error", func() bool { return s.listErr.Visible() })
	if !strings.Contains(s.listErr.Text, "65400") || !strings.Contains(s.listErr.Text, "not enabled") {
		t.Fatalf("error %q", s.listErr.Text)
	}
	if len(s.items) != 4 {
		t.Fatal("a failed refresh emptied the list")
	}
}

func TestKFEditNickname(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "zh", srv)
	selectKF(t, s, "ajie@teashop")
	test.Tap(findButton(t, m.Window().Canvas(), "修改昵称"))
	f := s.form
	if f.nick.Text != "阿杰" {
		t.Fatalf("prefilled %q", f.nick.Text)
	}
	f.nick.SetText("")
	test.Tap(f.save)
	waitIdle(t, m)
	if !f.errs["nickname"].Visible() || srv.Calls("/customservice/kfaccount/update") != 0 {
		t.Fatal("an empty nickname was not stopped at the field")
	}
	f.nick.SetText("阿杰 Jay")
	test.Tap(f.save)
	waitIdle(t, m)
	eventually(t, "the new nickname", func() bool {
		k, ok := s.selectedItem()
		return ok && k.Nick == "阿杰 Jay"
	})
	assertShows(t, m.Window().Canvas(), "阿杰 Jay · ajie@teashop", "已保存 ajie@teashop 的昵称。")
}

// confirmButton is the dialog's button: the last one on screen with the text.
func confirmButton(t *testing.T, m *MainWindow, text string) *widget.Button {
	t.Helper()
	var last *widget.Button
	for _, o := range objects(m.Window().Canvas()) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			last = b
		}
	}
	if last == nil {
		t.Fatalf("no %q button", text)
	}
	return last
}

func TestKFDeleteAsksFirst(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "zh", srv)
	c := m.Window().Canvas()
	selectKF(t, s, "lili@teashop")

	test.Tap(findButton(t, c, "删除"))
	assertShows(t, c, "确定在微信上删除客服账号 lili@teashop（莉莉）吗？")
	test.Tap(confirmButton(t, m, "取消"))
	if len(srv.KFAccounts()) != 4 || srv.Calls("/customservice/kfaccount/del") != 0 {
		t.Fatal("deleted without confirmation")
	}

	test.Tap(findButton(t, c, "删除"))
	test.Tap(confirmButton(t, m, "删除"))
	eventually(t, "the list without lili", func() bool { return len(s.items) == 3 })
	for _, k := range srv.KFAccounts() {
		if k.Account == "lili@teashop" {
			t.Fatal("still on the server")
		}
	}
	if s.selected != "" || !s.del.Disabled() {
		t.Fatal("the deleted account is still selected")
	}
	assertShows(t, c, "已删除 lili@teashop。")
}

func TestKFDeleteErrorShownInPlace(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "en", srv)
	selectKF(t, s, "lili@teashop")
	srv.FailNth("/customservice/kfaccount/del", 1, wechattest.Errcode(65401, ""))
	test.Tap(findButton(t, m.Window().Canvas(), "Delete"))
	test.Tap(confirmButton(t, m, "Delete"))
	eventually(t, "the error", func() bool { return s.listErr.Visible() })
	if !strings.Contains(s.listErr.Text, "65401") || len(srv.KFAccounts()) != 4 {
		t.Fatalf("error %q", s.listErr.Text)
	}
}

func TestKFInviteWorker(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "en", srv)
	selectKF(t, s, "laowang@teashop") // expired invitation
	test.Tap(findButton(t, m.Window().Canvas(), "Invite worker"))
	f := s.form
	test.Type(f.wx, "12")
	test.Tap(f.save)
	waitIdle(t, m)
	eventually(t, "65409", func() bool { return strings.Contains(f.formErr.Text, "65409") })
	f.wx.SetText("laowang_1975")
	test.Tap(f.save)
	waitIdle(t, m)
	eventually(t, "the waiting invitation", func() bool {
		k, ok := s.selectedItem()
		return ok && k.InviteStatus == "waiting"
	})
	if !s.invite.Disabled() {
		t.Fatal("invite stays enabled while an invitation waits")
	}
}

func TestKFAvatarUploadShowsInTheList(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "en", srv)
	selectKF(t, s, "lili@teashop")
	k, _ := s.selectedItem()
	if k.HeadImgURL != "" {
		t.Fatal("lili already has an avatar")
	}
	var in bytes.Buffer
	_ = png.Encode(&in, image.NewRGBA(image.Rect(0, 0, 400, 300)))
	s.uploadAvatar(k, func() ([]byte, error) { return in.Bytes(), nil })
	eventually(t, "the avatar URL", func() bool {
		k, ok := s.selectedItem()
		return ok && k.HeadImgURL != ""
	})
	k, _ = s.selectedItem()
	eventually(t, "the thumbnail", func() bool { img, _ := thumbs.lookup(k.HeadImgURL); return img != nil })
	up := srv.Requests("/customservice/kfaccount/uploadheadimg")
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(up[0].Files["media"].Data))
	if err != nil || cfg.Width != 640 || cfg.Height != 640 {
		t.Fatalf("server got %d×%d %v", cfg.Width, cfg.Height, err)
	}
	assertShows(t, m.Window().Canvas(), "The avatar of lili@teashop is set.")

	// A file that is not a picture is explained in the panel and nothing is sent.
	s.uploadAvatar(k, func() ([]byte, error) { return []byte("%PDF"), nil })
	f := s.form
	eventually(t, "the error", func() bool { return f.formErr.Visible() })
	if !strings.Contains(f.formErr.Text, "JPG, PNG") || len(srv.Requests("/customservice/kfaccount/uploadheadimg")) != 1 {
		t.Fatalf("error %q", f.formErr.Text)
	}
}

func TestKFAvatarOpensAFilePicker(t *testing.T) {
	srv := kfServer(t, true)
	m, s := kfWindowFor(t, "en", srv)
	selectKF(t, s, "lili@teashop")
	test.Tap(findButton(t, m.Window().Canvas(), "Set avatar"))
	if len(m.Window().Canvas().Overlays().List()) == 0 {
		t.Fatal("no file picker")
	}
}

func TestKFScreenForMiniProgram(t *testing.T) {
	m, ws := newTestWindow(t, "en")
	if _, err := ws.AddAccount(context.Background(), storage.Account{Name: "mp", Kind: storage.KindMP,
		AppID: "wx0123456789abcdef", TokenMode: storage.TokenStable}, "x"); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount("mp")
	waitIdle(t, m)
	test.Tap(findButton(t, m.Window().Canvas(), "KF accounts"))
	assertShows(t, m.Window().Canvas(), "Mini Programs have no KF account API")
}
