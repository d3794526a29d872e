package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

func TestKFAddListUpdateWithStatus(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if err := c.AddKF(ctx, "xiaomei@teashop", "小美 <店长>"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddKF(ctx, "ajie@teashop", "阿杰"); err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.Requests(kfAddPath)
	if got := string(reqs[0].Body); got != `{"kf_account":"xiaomei@teashop","nickname":"小美 <店长>"}` {
		t.Fatalf("add body %s", got)
	}
	if err := c.UpdateKF(ctx, "ajie@teashop", "阿杰 Jay"); err != nil {
		t.Fatal(err)
	}
	f.srv.SetKFStatus("ajie@teashop", 1)

	list, err := c.KFAccountsWithStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("list = %+v", list)
	}
	mei, jie := list[0], list[1]
	if mei.Account != "xiaomei@teashop" || mei.Nick != "小美 <店长>" || mei.ID != "1001" || mei.Online() {
		t.Fatalf("first = %+v", mei)
	}
	// kf_id comes as a number from getonlinekflist and a string from getkflist: both must decode.
	if jie.Nick != "阿杰 Jay" || jie.ID != "1002" || jie.Status != 1 || !jie.Online() {
		t.Fatalf("second = %+v", jie)
	}
	online, err := c.KFOnlineList(ctx)
	if err != nil || len(online) != 1 || online[0].ID != "1002" {
		t.Fatalf("online = %+v, %v", online, err)
	}
}

func TestKFIDDecodesStringOrNumber(t *testing.T) {
	var v []struct {
		ID KFID `json:"kf_id"`
	}
	if err := json.Unmarshal([]byte(`[{"kf_id":"1001"},{"kf_id":1002},{"kf_id":null},{}]`), &v); err != nil {
		t.Fatal(err)
	}
	if v[0].ID != "1001" || v[1].ID != "1002" || v[2].ID != "" || v[3].ID != "" {
		t.Fatalf("%+v", v)
	}
	if err := json.Unmarshal([]byte(`[{"kf_id":true}]`), &v); err == nil {
		t.Fatal("a boolean kf_id decoded")
	}
	// A malformed getkflist answer is an error, not a half-filled list.
	if err := decodeAnswer(kfListPath, 200, []byte(`{"kf_list":[{"kf_account":"a@b","kf_id":{}}]}`), &struct {
		List []KFAccount `json:"kf_list"`
	}{}); err == nil {
		t.Fatal("no error")
	}
}

func TestKFRulesAreCheckedBeforeSending(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	cases := []struct {
		account, nick, field string
	}{
		{"xiaomei", "小美", "kf_account"},                          // no @
		{"@teashop", "小美", "kf_account"},                         // empty prefix
		{"abcdefghijk@teashop", "小美", "kf_account"},              // 11 characters
		{"xiao-mei@teashop", "小美", "kf_account"},                 // hyphen not allowed in the prefix
		{"小美@teashop", "小美", "kf_account"},                       // not ASCII
		{"xiaomei@", "小美", "kf_account"},                         // no suffix
		{"xiaomei@teashop", "", "nickname"},                      // empty
		{"xiaomei@teashop", "   ", "nickname"},                   // blank
		{"xiaomei@teashop", strings.Repeat("美", 17), "nickname"}, // 17 characters
	}
	for _, tc := range cases {
		err := c.AddKF(ctx, tc.account, tc.nick)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || ie.ZH() == "" || ie.EN() == "" {
			t.Errorf("AddKF(%q, %q) = %v, want an input error at %s", tc.account, tc.nick, err, tc.field)
		}
	}
	if err := CheckKFAccount("xiaomei@other", "teashop"); err == nil || !strings.Contains(err.Error(), "teashop") {
		t.Errorf("wrong suffix: %v", err)
	}
	if err := CheckKFAccount("abcdefghij@teashop", "teashop"); err != nil {
		t.Errorf("10-character prefix refused: %v", err)
	}
	if err := CheckKFNick(strings.Repeat("美", 16)); err != nil {
		t.Errorf("16-character nickname refused: %v", err)
	}
	if err := c.InviteKFWorker(ctx, "xiaomei@teashop", " "); err == nil {
		t.Error("empty WeChat ID accepted")
	}
	if err := c.UploadKFAvatar(ctx, "xiaomei@teashop", nil); err == nil {
		t.Error("empty avatar accepted")
	}
	if n := f.srv.Calls(""); n != 0 {
		t.Fatalf("%d requests were sent for refused input", n)
	}
}

// TestKFDocumentedErrors produces each documented kfaccount error against the fake
// server and checks the explanation the operator sees.
func TestKFDocumentedErrors(t *testing.T) {
	const wx1, wx2 = "worker_one", "worker_two"
	add := func(c *Client, accounts ...string) {
		for _, a := range accounts {
			if err := c.AddKF(context.Background(), a, "客服"); err != nil {
				t.Fatal(err)
			}
		}
	}
	invite := func(c *Client, account, wx string) error {
		return c.InviteKFWorker(context.Background(), account, wx)
	}
	cases := []struct {
		code int
		want string // in the Chinese explanation
		run  func(c *Client, srv *wechattest.Server) error
	}{
		{65400, "没有开通新版客服", func(c *Client, srv *wechattest.Server) error {
			srv.SetKFEnabled(false)
			_, err := c.KFAccountsWithStatus(context.Background())
			return err
		}},
		{65401, "不存在", func(c *Client, srv *wechattest.Server) error {
			return c.UpdateKF(context.Background(), "nobody@teashop", "谁")
		}},
		{65402, "绑定", func(c *Client, srv *wechattest.Server) error {
			srv.SetWeChatID("")
			return c.AddKF(context.Background(), "a@teashop", "A")
		}},
		{65403, "昵称", func(c *Client, srv *wechattest.Server) error {
			// Our own check refuses every nickname WeChat would; the server's answer is injected.
			add(c, "a@teashop")
			srv.FailNth("/customservice/kfaccount/update", 1, wechattest.Errcode(65403, ""))
			return c.UpdateKF(context.Background(), "a@teashop", "A")
		}},
		{65404, "前缀@公众号微信号", func(c *Client, srv *wechattest.Server) error {
			return c.AddKF(context.Background(), "a@not_this_oa", "A")
		}},
		{65405, "100", func(c *Client, srv *wechattest.Server) error {
			for i := range 100 {
				add(c, fmt.Sprintf("kf%d@teashop", i))
			}
			return c.AddKF(context.Background(), "onemore@teashop", "A")
		}},
		{65406, "已经存在", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop")
			return c.AddKF(context.Background(), "a@teashop", "A")
		}},
		{65407, "已经是本账号的客服", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop", "b@teashop")
			if err := invite(c, "a@teashop", wx1); err != nil || !srv.AcceptInvite("a@teashop") {
				t.Fatal(err)
			}
			return invite(c, "b@teashop", wx1)
		}},
		{65408, "已经向对方发送过邀请", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop", "b@teashop")
			if err := invite(c, "a@teashop", wx1); err != nil {
				t.Fatal(err)
			}
			return invite(c, "b@teashop", wx1)
		}},
		{65409, "微信号无效", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop")
			return invite(c, "a@teashop", "1234")
		}},
		{65410, "太多", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop")
			srv.MarkWorkerFull(wx1)
			return invite(c, "a@teashop", wx1)
		}},
		{65411, "待确认的邀请", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop")
			if err := invite(c, "a@teashop", wx1); err != nil {
				t.Fatal(err)
			}
			return invite(c, "a@teashop", wx2)
		}},
		{65412, "已经绑定了微信号", func(c *Client, srv *wechattest.Server) error {
			add(c, "a@teashop")
			if err := invite(c, "a@teashop", wx1); err != nil || !srv.AcceptInvite("a@teashop") {
				t.Fatal(err)
			}
			return invite(c, "a@teashop", wx2)
		}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			c, f := setup(t)
			err := tc.run(c, f.srv)
			if !IsCode(err, tc.code) {
				t.Fatalf("err = %v, want %d", err, tc.code)
			}
			var e *Error
			errors.As(err, &e)
			if zh := e.ZH(); !strings.Contains(zh, fmt.Sprint(tc.code)) || !strings.Contains(zh, tc.want) {
				t.Fatalf("ZH = %q, want %q", zh, tc.want)
			}
			if strings.Contains(e.EN(), "WeChat returned an error") {
				t.Fatalf("no explanation for %d: %s", tc.code, e.EN())
			}
		})
	}
}

func TestKFInviteShowsInTheList(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if err := c.AddKF(ctx, "lili@teashop", "莉莉"); err != nil {
		t.Fatal(err)
	}
	if err := c.InviteKFWorker(ctx, "lili@teashop", "lili_tea88"); err != nil {
		t.Fatal(err)
	}
	if got := string(f.srv.Requests(kfInvitePath)[0].Body); got != `{"kf_account":"lili@teashop","invite_wx":"lili_tea88"}` {
		t.Fatalf("invite body %s", got)
	}
	list, err := c.KFList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k := list[0]
	if k.InviteWX != "lili_tea88" || k.InviteStatus != InviteWaiting || k.InviteExpireTime != f.clock.Now().Add(7*24*time.Hour).Unix() || k.WX != "" {
		t.Fatalf("%+v", k)
	}
	f.clock.Advance(7*24*time.Hour + time.Second)
	list, _ = c.KFList(ctx)
	if list[0].InviteStatus != InviteExpired {
		t.Fatalf("after 7 days: %+v", list[0])
	}
}

func TestKFDeleteSendsTheCurrentForm(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if err := c.AddKF(ctx, "a@teashop", "A"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteKF(ctx, "a@teashop"); err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.Requests(kfDelPath)
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || string(reqs[0].Body) != `{"kf_account":"a@teashop"}` {
		t.Fatalf("requests %+v", reqs)
	}
	if len(f.srv.KFAccounts()) != 0 {
		t.Fatal("not deleted")
	}
	// Any other error is reported as is, without the fallback.
	if err := c.DeleteKF(ctx, "a@teashop"); !IsCode(err, 65401) {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.srv.Requests(kfDelPath)); n != 2 {
		t.Fatalf("%d del requests, want 2", n)
	}
}

// assertFallback: the POST, then exactly one GET ?kf_account= with no body.
func assertFallback(t *testing.T, reqs []wechattest.Request) {
	t.Helper()
	if len(reqs) != 2 {
		t.Fatalf("%d del requests, want 2 (POST then one GET)", len(reqs))
	}
	if reqs[0].Method != http.MethodPost || reqs[1].Method != http.MethodGet {
		t.Fatalf("methods %s, %s", reqs[0].Method, reqs[1].Method)
	}
	if reqs[1].Query.Get("kf_account") != "a@teashop" || len(reqs[1].Body) != 0 {
		t.Fatalf("GET query %v body %q", reqs[1].Query, reqs[1].Body)
	}
}

func TestKFDeleteFallsBackToGETOnce(t *testing.T) {
	for _, code := range []int{43001, 43002, 40066} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c, f := setup(t)
			ctx := context.Background()
			if err := c.AddKF(ctx, "a@teashop", "A"); err != nil {
				t.Fatal(err)
			}
			f.srv.FailNth(kfDelPath, 1, wechattest.Errcode(code, ""))
			if err := c.DeleteKF(ctx, "a@teashop"); err != nil {
				t.Fatal(err)
			}
			assertFallback(t, f.srv.Requests(kfDelPath))
			if len(f.srv.KFAccounts()) != 0 {
				t.Fatal("not deleted")
			}
		})
	}
}

func TestKFDeleteFallbackDoesNotLoop(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if err := c.AddKF(ctx, "a@teashop", "A"); err != nil {
		t.Fatal(err)
	}
	f.srv.FailAlways(kfDelPath, wechattest.Errcode(40066, ""))
	if err := c.DeleteKF(ctx, "a@teashop"); !IsCode(err, 40066) {
		t.Fatalf("err = %v", err)
	}
	assertFallback(t, f.srv.Requests(kfDelPath))
	if len(f.srv.KFAccounts()) != 1 {
		t.Fatal("deleted although every answer failed")
	}
}

// A gateway in front of an old server: POST to del is an HTTP 404/405, GET works.
func TestKFDeleteFallsBackOnHTTPMethodNotAllowed(t *testing.T) {
	for _, status := range []int{http.StatusMethodNotAllowed, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			_, f := setup(t)
			var posts, gets int
			gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == kfDelPath {
					if r.Method == http.MethodPost {
						posts++
						http.Error(w, "<html>not allowed</html>", status)
						return
					}
					gets++
				}
				f.srv.ServeHTTP(w, r)
			}))
			defer gw.Close()
			c, err := New(Options{BaseURL: gw.URL, Tokens: TokenConfig{AppID: testAppID, Secret: testSecret, Store: &memStore{}, Now: f.clock.Now}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := c.AddKF(ctx, "a@teashop", "A"); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteKF(ctx, "a@teashop"); err != nil {
				t.Fatal(err)
			}
			if posts != 1 || gets != 1 || len(f.srv.KFAccounts()) != 0 {
				t.Fatalf("posts %d gets %d left %d", posts, gets, len(f.srv.KFAccounts()))
			}
		})
	}
}

func TestFetchImage(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if _, err := c.FetchImage(ctx, f.srv.URL+"/mmhead/nosuch/0"); err == nil {
		t.Fatal("a missing image was fetched")
	} else if e := (*Error)(nil); !errors.As(err, &e) || e.Kind != KindHTTP || e.Status != 404 {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.FetchImage(ctx, "file:///etc/passwd"); err == nil {
		t.Fatal("a file URL was fetched")
	}
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, MaxFetchedImage+10))
	}))
	defer big.Close()
	if _, err := c.FetchImage(ctx, big.URL+"/x.jpg"); err == nil {
		t.Fatal("an oversized answer was accepted")
	}
	if f.srv.Calls("") != 1 || len(f.srv.Requests("/mmhead/nosuch/0")[0].Query.Get("access_token")) != 0 {
		t.Fatal("the image request carried a token or went elsewhere")
	}
}
