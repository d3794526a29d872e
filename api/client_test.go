package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "s3cr3t-0123456789abcdef0123456789"
)

// memStore is a TokenStore shared by clients the way the SQLite cache is shared by processes.
type memStore struct {
	mu sync.Mutex
	m  map[string]Token
}

func (s *memStore) LoadToken(_ context.Context, key string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

func (s *memStore) SaveToken(_ context.Context, key string, t Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]Token{}
	}
	s.m[key] = t
	return nil
}

type fixture struct {
	srv   *wechattest.Server
	clock *wechattest.FakeClock
	store *memStore
}

// setup starts a fake WeChat server on 127.0.0.1 and returns a client for it.
func setup(t *testing.T) (*Client, *fixture) {
	t.Helper()
	clock := wechattest.NewFakeClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	srv := wechattest.NewServer(wechattest.Config{AppID: testAppID, Secret: testSecret, Clock: clock, WeChatID: "teashop"})
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, clock: clock, store: &memStore{}}
	return f.client(t, TokenConfig{}), f
}

func (f *fixture) client(t *testing.T, tc TokenConfig) *Client {
	t.Helper()
	if tc.AppID == "" {
		tc.AppID = testAppID
	}
	if tc.Secret == "" && tc.Mode != TokenURL {
		tc.Secret = testSecret
	}
	if tc.Store == nil {
		tc.Store = f.store
	}
	tc.Now = f.clock.Now
	c, err := New(Options{BaseURL: f.srv.URL, Tokens: tc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenIsReusedAcrossCallsAndProcesses(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A second client on the same store stands for the next run or another process.
	if err := f.client(t, TokenConfig{}).Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.TokenFetches(); n != 1 {
		t.Fatalf("token fetched %d times, want 1", n)
	}
	if got := f.srv.Calls("/cgi-bin/stable_token"); got != 1 {
		t.Fatalf("stable_token called %d times, want 1", got)
	}
}

func TestTokenNearExpiryIsRenewed(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(7200*time.Second - 4*time.Minute) // inside the 5-minute renewal window
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.TokenFetches(); n != 2 {
		t.Fatalf("token fetched %d times, want 2", n)
	}
	f.clock.Advance(3 * time.Hour) // long expired: 42001 would follow if we reused it
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// 20 calls fail with 40001 at once; compare-and-refresh must fetch exactly one new token.
func TestCompareAndRefreshUnderConcurrency(t *testing.T) {
	c, f := setup(t)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	before := f.srv.TokenFetches()
	f.srv.InvalidateTokens()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Ping(ctx); err != nil {
				failed.Add(1)
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		return
	}
	if n := f.srv.TokenFetches() - before; n != 1 {
		t.Fatalf("%d refreshes for 20 concurrent failures, want 1", n)
	}
}

func TestTokenErrorRetriedOnlyOnce(t *testing.T) {
	c, f := setup(t)
	f.srv.FailAlways("/cgi-bin/get_api_domain_ip", wechattest.Errcode(40001, "invalid credential, access_token is invalid or not latest"))
	err := c.Ping(context.Background())
	if !IsCode(err, 40001) {
		t.Fatalf("err = %v, want 40001", err)
	}
	if n := f.srv.Calls("/cgi-bin/get_api_domain_ip"); n != 2 {
		t.Fatalf("call made %d times, want 2 (one retry)", n)
	}
}

func TestClassicTokenMode(t *testing.T) {
	_, f := setup(t)
	c := f.client(t, TokenConfig{Mode: TokenClassic})
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.srv.Calls("/cgi-bin/token") != 1 || f.srv.Calls("/cgi-bin/stable_token") != 0 {
		t.Fatal("classic mode must use cgi-bin/token only")
	}
	bad := f.client(t, TokenConfig{Mode: TokenClassic, Secret: "wrong-secret-value", Store: &memStore{}})
	err := bad.Ping(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindAPI || e.Code == 0 {
		t.Fatalf("wrong secret: %v", err)
	}
	for _, s := range []string{"wrong-secret-value", testSecret} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error text leaks the secret: %v", err)
		}
	}
}

func TestTokenURLMode(t *testing.T) {
	_, f := setup(t)
	// The business's own token server hands out a token it got from WeChat.
	tok := f.stableToken(t)
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"` + tok + `","expires_in":7000}`))
	}))
	defer ts.Close()
	c := f.client(t, TokenConfig{Mode: TokenURL, URL: ts.URL + "/token"})
	for i := 0; i < 2; i++ {
		if err := c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("token URL hit %d times, want 1", hits.Load())
	}
}

func TestTokenURLDown(t *testing.T) {
	_, f := setup(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer ts.Close()
	c := f.client(t, TokenConfig{Mode: TokenURL, URL: ts.URL})
	err := c.Ping(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindHTTP || e.Status != 502 {
		t.Fatalf("err = %#v", err)
	}
}

func TestStaticTokenMode(t *testing.T) {
	_, f := setup(t)
	tok := f.stableToken(t)
	c := f.client(t, TokenConfig{Mode: TokenStatic, Secret: tok})
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	c = f.client(t, TokenConfig{Mode: TokenStatic, Secret: "pasted-but-wrong-token"})
	err := c.Ping(context.Background())
	if !IsCode(err, 40001) {
		t.Fatalf("err = %v, want 40001", err)
	}
	if strings.Contains(err.Error(), "pasted-but-wrong-token") {
		t.Fatal("error text leaks the token")
	}
}

// stableToken fetches a token with a separate client, as another program would.
func (f *fixture) stableToken(t *testing.T) string {
	t.Helper()
	other := f.client(t, TokenConfig{Store: &memStore{}})
	tok, err := other.tokens.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestErrorPaths(t *testing.T) {
	const path = "/cgi-bin/get_api_domain_ip"
	cases := []struct {
		name      string
		fault     wechattest.Fault
		kind      ErrorKind
		code      int
		retryable bool
		want      string // in the Chinese explanation
	}{
		{"system busy", wechattest.Errcode(-1, "system error"), KindAPI, -1, true, "繁忙"},
		{"quota", wechattest.Errcode(45009, "reach max api daily quota limit"), KindAPI, 45009, false, "明天"},
		{"whitelist", wechattest.Errcode(40164, "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist rid: 1"), KindAPI, 40164, false, "203.0.113.9"},
		{"unauthorized", wechattest.Errcode(48001, "api unauthorized"), KindAPI, 48001, false, "权限"},
		{"too often", wechattest.Errcode(45011, "api minute-quota reach limit"), KindAPI, 45011, true, "一分钟"},
		// The reply window and an unfollow do not change by waiting: a retry only burns quota.
		{"window closed", wechattest.Errcode(45015, "response out of time limit or subscription is canceled"), KindAPI, 45015, false, "48 小时"},
		{"replies used up", wechattest.Errcode(45047, "out of response count limit"), KindAPI, 45047, false, "5 条"},
		{"unfollowed", wechattest.Errcode(43004, "require subscribe"), KindAPI, 43004, false, "取消关注"},
		{"html 502", wechattest.HTML502(), KindHTTP, 0, true, "HTTP 502"},
		{"malformed", wechattest.Malformed(), KindMalformed, 0, false, "格式"},
		{"dropped", wechattest.Drop(), KindNetwork, 0, true, "无法连接"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, f := setup(t)
			if err := c.Ping(context.Background()); err != nil { // token first, so the fault hits the call
				t.Fatal(err)
			}
			f.srv.FailNth(path, 1, tc.fault)
			err := c.Ping(context.Background())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Kind != tc.kind || e.Code != tc.code || e.Retryable() != tc.retryable {
				t.Fatalf("got kind %d code %d retryable %v: %v", e.Kind, e.Code, e.Retryable(), e)
			}
			if !strings.Contains(e.ZH(), tc.want) {
				t.Fatalf("ZH %q lacks %q", e.ZH(), tc.want)
			}
			if e.EN() == "" || !strings.Contains(err.Error(), e.EN()) {
				t.Fatalf("Error() %q lacks the English explanation", err.Error())
			}
			if strings.Contains(err.Error(), "access_token=") && !strings.Contains(err.Error(), "access_token=***") {
				t.Fatalf("token in error: %v", err)
			}
			// The next call works again: a bad answer leaves nothing broken.
			if err := c.Ping(context.Background()); err != nil {
				t.Fatalf("after the fault: %v", err)
			}
		})
	}
}

func TestSlowAnswerHonoursContext(t *testing.T) {
	c, f := setup(t)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv.FailNth("/cgi-bin/get_api_domain_ip", 1, wechattest.Slow(3*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Ping(ctx)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindNetwork {
		t.Fatalf("err = %v, want a network error", err)
	}
}

func TestCancelledCallSaysSo(t *testing.T) {
	c, f := setup(t)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv.FailNth("/cgi-bin/get_api_domain_ip", 1, wechattest.Slow(3*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := c.Ping(ctx)
	var e *Error
	if !errors.As(err, &e) || e.Retryable() || !strings.Contains(e.EN(), "cancelled") {
		t.Fatalf("err = %v", err)
	}
}

func TestNetworkErrorHidesToken(t *testing.T) {
	c, err := New(Options{BaseURL: "http://127.0.0.1:1", Tokens: TokenConfig{Mode: TokenStatic, Secret: "tok-SHOULD-NOT-LEAK"}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ping(context.Background())
	if err == nil || strings.Contains(err.Error(), "tok-SHOULD-NOT-LEAK") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeAnswerNeverPanics(t *testing.T) {
	for _, body := range []string{"", "{", "null", "[]", `{"errcode":"x"}`, `{"errcode": invalid kf_account}`, "<html>502</html>", `{"errcode":0,"ip_list":5}`, "\xff\xfe"} {
		var out DomainIPs
		if err := decodeAnswer("/x", 200, []byte(body), &out); err == nil {
			t.Errorf("%q: no error", body)
		}
	}
	var out DomainIPs
	if err := decodeAnswer("/x", 200, []byte(` {"ip_list":["1.2.3.4"]} `), &out); err != nil || len(out.IPList) != 1 {
		t.Fatalf("valid answer: %v %v", err, out)
	}
}

func TestMarshalJSONKeepsHTMLAndChinese(t *testing.T) {
	b, err := marshalJSON(map[string]string{"content": `满意 <a href="https://x.cn/?a=1&b=2" data-miniprogram-appid="wx1">点我</a>`})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"content":"满意 <a href=\"https://x.cn/?a=1&b=2\" data-miniprogram-appid=\"wx1\">点我</a>"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestEveryListedErrcodeIsExplained(t *testing.T) {
	codes := []int{-1, 40001, 40003, 40164, 42001, 43004, 45008, 45009, 45015, 45047, 48001, 89503, 89506, 89507}
	for c := 65400; c <= 65417; c++ {
		codes = append(codes, c)
	}
	for _, c := range codes {
		zh, en := Explain(c, "errmsg from wechat")
		if strings.Contains(en, "WeChat returned an error") || strings.Contains(zh, "微信返回了错误") {
			t.Errorf("%d has no explanation", c)
		}
	}
	zh, en := Explain(99999, "something new")
	if !strings.Contains(zh, "something new") || !strings.Contains(en, "99999") {
		t.Errorf("unknown code: %q / %q", zh, en)
	}
}

func TestInvalidBaseURL(t *testing.T) {
	if _, err := New(Options{BaseURL: "ftp://x", Tokens: TokenConfig{Mode: TokenStatic, Secret: "t"}}); err == nil {
		t.Fatal("want error")
	}
}

// A cached token the server already considers expired (the PC clock runs behind):
// 42001 → one refresh → the call succeeds.
func TestExpiredTokenIsRefreshedOnce(t *testing.T) {
	_, f := setup(t)
	ctx := context.Background()
	skewed := wechattest.NewFakeClock(f.clock.Now())
	c, err := New(Options{BaseURL: f.srv.URL, Tokens: TokenConfig{AppID: testAppID, Secret: testSecret, Store: f.store, Now: skewed.Now}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(3 * time.Hour) // the server's time moves on, the client's does not
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.Requests("/cgi-bin/get_api_domain_ip")
	if len(reqs) != 3 || reqs[1].Query.Get("access_token") == reqs[2].Query.Get("access_token") {
		t.Fatalf("%d calls; want the 42001 call retried once with a new token", len(reqs))
	}
	if f.srv.TokenFetches() != 2 {
		t.Fatalf("token fetched %d times, want 2", f.srv.TokenFetches())
	}
}
