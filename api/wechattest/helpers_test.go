package wechattest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const (
	appID    = "wxtest0000000042"
	secret   = "s3cret-for-tests"
	weChatID = "teashop"
	alice    = "oAbcd1234567890_alice-xyzABC" // 28 characters, like a real openid
	bob      = "oAbcd1234567890_bob-xyzABCDE"
)

// t0 is 2026-11-23 10:00 Beijing time.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

var ridRE = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// env is a listening fake server with a fake clock and a valid classic token.
type env struct {
	t     testing.TB
	srv   *wechattest.Server
	clock *wechattest.FakeClock
	tok   string
}

func newEnv(t *testing.T, mod ...func(*wechattest.Config)) *env {
	t.Helper()
	clock := wechattest.NewFakeClock(t0)
	cfg := wechattest.Config{AppID: appID, Secret: secret, WeChatID: weChatID, Clock: clock}
	for _, m := range mod {
		m(&cfg)
	}
	srv := wechattest.NewServer(cfg)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, clock: clock}
	r := e.get("/cgi-bin/token", url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}})
	e.tok = r.str("access_token")
	if e.tok == "" {
		t.Fatalf("no token: %s", r.raw)
	}
	return e
}

// advance moves the clock and takes a fresh token, for tests not about tokens
// that move past the token's 2 hours.
func (e *env) advance(d time.Duration) {
	e.clock.Advance(d)
	e.tok = e.srv.IssueToken()
}

// result is one decoded answer.
type result struct {
	t      testing.TB
	status int
	ct     string
	raw    []byte
	m      map[string]any
}

// code is errcode (0 when absent, as in successful data answers).
func (r result) code() int {
	if v, ok := r.m["errcode"].(float64); ok {
		return int(v)
	}
	return 0
}

func (r result) str(k string) string {
	s, _ := r.m[k].(string)
	return s
}

func (r result) num(k string) float64 {
	v, ok := r.m[k].(float64)
	if !ok {
		r.t.Fatalf("%s is %T (%v), want a number: %s", k, r.m[k], r.m[k], r.raw)
	}
	return v
}

func (r result) list(k string) []any {
	l, _ := r.m[k].([]any)
	return l
}

// ok asserts {"errcode":0,"errmsg":"ok"} exactly.
func (r result) ok() {
	r.t.Helper()
	if string(r.raw) != `{"errcode":0,"errmsg":"ok"}` {
		r.t.Fatalf("want ok, got %s", r.raw)
	}
}

// noErr asserts a data answer without an error code.
func (r result) noErr() {
	r.t.Helper()
	if r.code() != 0 {
		r.t.Fatalf("want success, got %s", r.raw)
	}
}

// is asserts an error answer: the code, WeChat's text and a rid.
func (r result) is(code int) {
	r.t.Helper()
	if r.code() != code {
		r.t.Fatalf("errcode %d, want %d: %s", r.code(), code, r.raw)
	}
	msg := r.str("errmsg")
	if want := wechattest.ErrMsg(code); code != 40164 && !strings.HasPrefix(msg, want+" rid: ") {
		r.t.Fatalf("errmsg %q, want %q + rid", msg, want)
	}
	if !ridRE.MatchString(msg) {
		r.t.Fatalf("errmsg %q lacks a rid", msg)
	}
	if r.status != 200 || r.ct != "application/json; encoding=utf-8" {
		r.t.Fatalf("status %d content-type %q", r.status, r.ct)
	}
}

func (e *env) do(req *http.Request) result {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := result{t: e.t, status: resp.StatusCode, ct: resp.Header.Get("Content-Type"), raw: b}
	if err := json.Unmarshal(b, &r.m); err != nil {
		e.t.Fatalf("answer is not a JSON object: %v: %q", err, b)
	}
	return r
}

func (e *env) url(path string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	return e.srv.URL + path + "?" + q.Encode()
}

// authed adds the access token to q.
func (e *env) authed(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	q.Set("access_token", e.tok)
	return q
}

func (e *env) get(path string, q url.Values) result {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url(path, q), nil)
	return e.do(req)
}

// post sends body: a string or []byte as is, anything else as JSON without HTML escaping.
func (e *env) post(path string, q url.Values, body any) result {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			e.t.Fatal(err)
		}
		b = buf.Bytes()
	}
	req, _ := http.NewRequest(http.MethodPost, e.url(path, q), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

// apiGet / apiPost call an authenticated endpoint.
func (e *env) apiGet(path string, q url.Values) result {
	e.t.Helper()
	return e.get(path, e.authed(q))
}

func (e *env) apiPost(path string, body any) result {
	e.t.Helper()
	return e.post(path, e.authed(nil), body)
}

// upload posts a multipart body with one file part.
func (e *env) upload(path string, q url.Values, field, filename string, data []byte) result {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.url(path, e.authed(q)), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.do(req)
}

// send posts a custom message.
func (e *env) send(body any) result {
	e.t.Helper()
	return e.apiPost("/cgi-bin/message/custom/send", body)
}

func text(to, content string) map[string]any {
	return map[string]any{"touser": to, "msgtype": "text", "text": map[string]any{"content": content}}
}
