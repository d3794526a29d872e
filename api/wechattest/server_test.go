package wechattest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

func TestUnknownPathsAndPrefixes(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{
		"/customservice/getkflist",             // getkflist needs /cgi-bin
		"/cgi-bin/customservice/kfaccount/add", // kfaccount must not have it
		"/cgi-bin/customservice/msgrecord/getmsglist",
		"/message/custom/send",
		"/cgi-bin/token/",
		"/nothing",
	} {
		e.apiGet(p, nil).is(40066)
		e.apiPost(p, obj{}).is(40066)
	}
	e.get("/cgi-bin/nothing", nil).is(40066) // before any token check
}

func TestMethods(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/cgi-bin/message/custom/send", "/cgi-bin/message/custom/typing", "/customservice/kfaccount/add",
		"/customservice/kfaccount/update", "/customservice/kfaccount/inviteworker", "/customservice/kfaccount/uploadheadimg",
		"/customservice/msgrecord/getmsglist", "/cgi-bin/media/upload", "/cgi-bin/user/info/batchget", "/customservice/kfsession/create"} {
		e.apiGet(p, nil).is(43002)
	}
	for _, p := range []string{"/cgi-bin/customservice/getkflist", "/cgi-bin/customservice/getonlinekflist", "/cgi-bin/user/get",
		"/cgi-bin/get_api_domain_ip", "/customservice/kfsession/getwaitcase"} {
		e.apiPost(p, obj{}).is(43001)
	}
	// Method errors come before the token check, like the real service.
	e.get("/cgi-bin/message/custom/send", nil).is(43002)
}

func TestAnswerFormat(t *testing.T) {
	e := newEnv(t)
	r := e.apiGet("/cgi-bin/getcallbackip", nil)
	if r.status != 200 || r.ct != "application/json; encoding=utf-8" || len(r.list("ip_list")) == 0 {
		t.Fatalf("%d %q %s", r.status, r.ct, r.raw)
	}
	r = e.apiGet("/cgi-bin/user/get", nil)
	if strings.HasSuffix(string(r.raw), "\n") || string(r.raw) != `{"total":0,"count":0,"next_openid":""}` {
		t.Fatalf("%q", r.raw)
	}
	// Two errors get different rids.
	a, b := e.get("/x", nil).str("errmsg"), e.get("/x", nil).str("errmsg")
	if a == b {
		t.Fatal("rids must differ")
	}
}

func TestNewAsHandler(t *testing.T) {
	// The CLI serves New(cfg) from its own http.Server: avatar URLs come from the Host.
	srv := wechattest.New(wechattest.Config{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if srv.URL != "" {
		t.Fatal("New must not listen")
	}
	cfg := srv.Config()
	if cfg.AppID != wechattest.DefaultAppID || cfg.Secret != wechattest.DefaultSecret || cfg.WeChatID != wechattest.DefaultWeChatID {
		t.Fatalf("defaults %+v", cfg)
	}
	e := &env{t: t, srv: &wechattest.Server{URL: ts.URL}}
	r := e.get("/cgi-bin/token", url.Values{"grant_type": {"client_credential"}, "appid": {cfg.AppID}, "secret": {cfg.Secret}})
	e.tok = r.str("access_token")
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": "a@" + cfg.WeChatID, "nickname": "a"}).ok()
	e.upload("/customservice/kfaccount/uploadheadimg", url.Values{"kf_account": {"a@" + cfg.WeChatID}}, "media", "a.jpg", jpegBytes(t, 8)).ok()
	head := e.kfList()[0]["kf_headimgurl"].(string)
	if !strings.HasPrefix(head, ts.URL+"/") {
		t.Fatalf("kf_headimgurl %q", head)
	}
	resp, err := http.Get(head)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("avatar: %v", err)
	}
	resp.Body.Close()
	resp, _ = http.Get(ts.URL + "/mmhead/nope/0")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown avatar: %d", resp.StatusCode)
	}
	resp.Body.Close()
	srv.Close() // no-op for New
}

func TestRequestLogBound(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.RequestLog = 10 })
	for range 25 {
		e.apiGet(pingPath, nil)
	}
	if n := len(e.srv.Requests("")); n > 10 || n < 5 {
		t.Fatalf("%d requests logged, want at most 10", n)
	}
	if e.srv.Calls("") != 26 || e.srv.Calls(pingPath) != 25 {
		t.Fatalf("Calls %d / %d", e.srv.Calls(""), e.srv.Calls(pingPath))
	}
	last := e.srv.Requests(pingPath)
	if last[len(last)-1].Time != t0 || last[len(last)-1].Method != "GET" {
		t.Fatalf("last request %+v", last[len(last)-1])
	}
	e = newEnv(t, func(c *wechattest.Config) { c.RequestLog = -1 })
	if len(e.srv.Requests("")) != 0 || e.srv.Calls("") != 1 {
		t.Fatal("RequestLog -1 keeps nothing but counts")
	}
}

// TestConcurrency hammers every area at once; run with -race.
func TestConcurrency(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Sample = true; c.Seed = 7 })
	s := e.srv
	followers := s.Followers()
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	call := func(method, path string, q url.Values, body string) {
		if q == nil {
			q = url.Values{}
		}
		if path != "/cgi-bin/token" {
			q.Set("access_token", e.tok)
		}
		req, _ := http.NewRequest(method, s.URL+path+"?"+q.Encode(), strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errs <- err.Error()
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			errs <- fmt.Sprintf("%s %d", path, resp.StatusCode)
		}
	}
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).Unix()
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := followers[(g+20)%len(followers)]
			for i := range 20 {
				switch i % 8 {
				case 0:
					call("GET", "/cgi-bin/token", url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}, "")
				case 1:
					call("POST", "/cgi-bin/message/custom/send", nil, fmt.Sprintf(`{"touser":%q,"msgtype":"text","text":{"content":"并发 %d"}}`, to, i))
				case 2:
					call("POST", "/customservice/msgrecord/getmsglist", nil, fmt.Sprintf(`{"starttime":%d,"endtime":%d,"msgid":1,"number":100}`, day, day+86399))
				case 3:
					call("GET", "/cgi-bin/customservice/getkflist", nil, "")
				case 4:
					s.UserMessage(to, time.Time{})
					s.AddRecords(wechattest.Record{OpenID: to, OperCode: 2003, Text: "hi", Time: day + int64(i)})
				case 5:
					call("POST", "/cgi-bin/message/custom/typing", nil, fmt.Sprintf(`{"touser":%q,"command":"Typing"}`, to))
				case 6:
					_ = s.Requests("")
					_ = s.Sent()
					_ = s.KFAccounts()
					_ = s.RepliesLeft(to)
				case 7:
					call("GET", "/cgi-bin/user/get", nil, "")
					s.FailNth(pingPath, 1, wechattest.Errcode(-1, ""))
					call("GET", pingPath, nil, "")
				}
				e.clock.Advance(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
