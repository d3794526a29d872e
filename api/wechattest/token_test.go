package wechattest_test

import (
	"net/url"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

func classicQuery() url.Values {
	return url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}}
}

func stableBody(force bool) map[string]any {
	return map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force}
}

func (e *env) classic() string {
	e.t.Helper()
	r := e.get("/cgi-bin/token", classicQuery())
	if r.num("expires_in") != 7200 || len(r.str("access_token")) < 100 {
		e.t.Fatalf("bad token answer %s", r.raw)
	}
	if _, has := r.m["errcode"]; has {
		e.t.Fatalf("token answer carries errcode: %s", r.raw)
	}
	return r.str("access_token")
}

func (e *env) stable(force bool) (string, int) {
	e.t.Helper()
	r := e.post("/cgi-bin/stable_token", nil, stableBody(force))
	if r.str("access_token") == "" {
		e.t.Fatalf("no stable token: %s", r.raw)
	}
	return r.str("access_token"), int(r.num("expires_in"))
}

// ping makes an authenticated call with tok and returns its errcode.
func (e *env) ping(tok string) int {
	e.t.Helper()
	r := e.get("/cgi-bin/get_api_domain_ip", url.Values{"access_token": {tok}})
	if r.code() == 0 && len(r.list("ip_list")) == 0 {
		e.t.Fatalf("get_api_domain_ip without ip_list: %s", r.raw)
	}
	return r.code()
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	q := func(kv ...string) url.Values {
		v := classicQuery()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	classic := []struct {
		name string
		q    url.Values
		code int
	}{
		{"bad grant_type", q("grant_type", "password"), 40002},
		{"missing grant_type", q("grant_type", ""), 40002},
		{"missing appid", q("appid", ""), 41002},
		{"wrong appid", q("appid", "wx0000000000000000"), 40013},
		{"missing secret", q("secret", ""), 41004},
		{"wrong secret", q("secret", "nope"), 40125},
	}
	for _, tc := range classic {
		t.Run("classic "+tc.name, func(t *testing.T) {
			e.t = t
			e.get("/cgi-bin/token", tc.q).is(tc.code)
		})
	}
	body := func(k string, v any) map[string]any {
		b := stableBody(false)
		b[k] = v
		return b
	}
	stable := []struct {
		name string
		body any
		code int
	}{
		{"empty body", "", 44002},
		{"not json", "grant_type=client_credential&appid=" + appID, 47001},
		{"bad grant_type", body("grant_type", "x"), 40002},
		{"wrong appid", body("appid", "wx1"), 40013},
		{"wrong secret", body("secret", "x"), 40125},
		{"force_refresh as string", body("force_refresh", "true"), 47001},
	}
	for _, tc := range stable {
		t.Run("stable "+tc.name, func(t *testing.T) {
			e.t = t
			e.post("/cgi-bin/stable_token", nil, tc.body).is(tc.code)
		})
	}
	t.Run("methods", func(t *testing.T) {
		e.t = t
		e.post("/cgi-bin/token", classicQuery(), "").is(43001)
		e.get("/cgi-bin/stable_token", nil).is(43002)
	})
	t.Run("failed calls issue nothing", func(t *testing.T) {
		if n := e.srv.TokenFetches(); n != 1 {
			t.Fatalf("TokenFetches = %d, want 1 (newEnv's)", n)
		}
	})
}

func TestAccessTokenRequired(t *testing.T) {
	e := newEnv(t)
	if c := e.ping(e.tok); c != 0 {
		t.Fatalf("valid token: %d", c)
	}
	e.get("/cgi-bin/get_api_domain_ip", nil).is(41001)
	e.get("/cgi-bin/get_api_domain_ip", url.Values{"access_token": {"86_made-up"}}).is(40001)
	// The token goes in the query string; a body does not count.
	e.post("/cgi-bin/message/custom/send", nil, `{"access_token":"`+e.tok+`"}`).is(41001)
}

func TestClassicTokenOverlap(t *testing.T) {
	e := newEnv(t)
	t1 := e.tok
	e.clock.Advance(time.Minute)
	t2 := e.classic()
	if t2 == t1 {
		t.Fatal("every classic call must issue a new token")
	}
	e.clock.Advance(5*time.Minute - time.Second)
	if e.ping(t1) != 0 || e.ping(t2) != 0 {
		t.Fatal("both tokens must work within 5 minutes of the refresh")
	}
	e.clock.Advance(time.Second)
	if c := e.ping(t1); c != 40001 {
		t.Fatalf("replaced token after 5 minutes: %d, want 40001", c)
	}
	// A third token does not extend the dead one, and starts t2's 5 minutes.
	t3 := e.classic()
	e.clock.Advance(5 * time.Minute)
	if e.ping(t2) != 40001 || e.ping(t3) != 0 {
		t.Fatal("t2 must die 5 minutes after t3, t3 must live")
	}
	// Expiry after 7200 s.
	e.clock.Advance(7200*time.Second - 5*time.Minute - time.Second)
	if c := e.ping(t3); c != 0 {
		t.Fatalf("t3 just before expiry: %d", c)
	}
	e.clock.Advance(time.Second)
	e.get("/cgi-bin/get_api_domain_ip", url.Values{"access_token": {t3}}).is(42001)
	if n := e.srv.TokenFetches(); n != 3 {
		t.Fatalf("TokenFetches = %d, want 3", n)
	}
}

func TestStableToken(t *testing.T) {
	e := newEnv(t)
	s1, exp := e.stable(false)
	if exp != 7200 {
		t.Fatalf("fresh stable token expires_in %d", exp)
	}
	e.clock.Advance(time.Hour)
	s1b, exp := e.stable(false)
	if s1b != s1 || exp != 3600 {
		t.Fatalf("stable token must be shared with its remaining life: %v %d", s1b == s1, exp)
	}
	// Stable and classic pools are separate: a classic refresh does not touch s1,
	// and the classic token is not the stable one.
	c := e.classic()
	e.clock.Advance(10 * time.Minute)
	if e.ping(s1) != 0 || c == s1 {
		t.Fatal("classic refresh must not affect the stable token")
	}
	// In its last 5 minutes, a new token; the old one lives until its own expiry.
	e.clock.Set(t0.Add(7200*time.Second - 5*time.Minute - time.Second))
	if s, _ := e.stable(false); s != s1 {
		t.Fatal("renewed too early")
	}
	e.clock.Advance(time.Second)
	s2, exp := e.stable(false)
	if s2 == s1 || exp != 7200 {
		t.Fatalf("stable token must renew in its last 5 minutes (exp %d)", exp)
	}
	if e.ping(s1) != 0 || e.ping(s2) != 0 {
		t.Fatal("both stable tokens must work until the old one expires")
	}
	e.clock.Advance(5 * time.Minute)
	if c := e.ping(s1); c != 42001 {
		t.Fatalf("old stable token after expiry: %d, want 42001", c)
	}
	if s, _ := e.stable(false); s != s2 {
		t.Fatal("the renewed token must be shared")
	}
}

func TestStableForceRefresh(t *testing.T) {
	e := newEnv(t)
	s1, _ := e.stable(false)
	s2, _ := e.stable(true)
	if s2 == s1 || e.ping(s1) != 40001 || e.ping(s2) != 0 {
		t.Fatal("force_refresh must replace the token and kill the previous one at once")
	}
	e.clock.Advance(29 * time.Second)
	if s, _ := e.stable(true); s != s2 {
		t.Fatal("a force within 30 s must be ignored")
	}
	e.clock.Advance(time.Second)
	s3, _ := e.stable(true)
	if s3 == s2 {
		t.Fatal("a force after 30 s must refresh")
	}
	// 20 effective forces a day: 2 so far.
	for i := 3; i <= 20; i++ {
		e.clock.Advance(31 * time.Second)
		e.stable(true)
	}
	e.clock.Advance(31 * time.Second)
	e.post("/cgi-bin/stable_token", nil, stableBody(true)).is(45009)
	cur, _ := e.stable(false)
	if e.ping(cur) != 0 {
		t.Fatal("normal mode must keep working after the force limit")
	}
	// Next Beijing day (t0 is 10:00, so 14 h later is past midnight).
	e.clock.Advance(14 * time.Hour)
	if s, _ := e.stable(true); s == cur {
		t.Fatal("force must work again the next day")
	}
}

func TestInvalidateTokens(t *testing.T) {
	e := newEnv(t)
	s, _ := e.stable(false)
	before := e.srv.TokenFetches()
	e.srv.InvalidateTokens()
	e.get("/cgi-bin/get_api_domain_ip", url.Values{"access_token": {e.tok}}).is(40001)
	if e.ping(s) != 40001 {
		t.Fatal("stable token must be invalidated too")
	}
	s2, exp := e.stable(false)
	if s2 == s || exp != 7200 || e.ping(s2) != 0 {
		t.Fatal("a new stable token must be issued after invalidation")
	}
	if n := e.srv.TokenFetches() - before; n != 1 {
		t.Fatalf("TokenFetches grew by %d, want 1", n)
	}
}

func TestIPWhitelist(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.AllowedIPs = []string{"127.0.0.0/8"} })
	e.classic()
	e = newEnv(t, func(c *wechattest.Config) { c.AllowedIPs = []string{"127.0.0.1"} })
	e.stable(false)

	srv := wechattest.NewServer(wechattest.Config{AppID: appID, Secret: secret, AllowedIPs: []string{"203.0.113.9"}})
	defer srv.Close()
	e2 := &env{t: t, srv: srv}
	for _, r := range []result{e2.get("/cgi-bin/token", classicQuery()), e2.post("/cgi-bin/stable_token", nil, stableBody(false))} {
		r.is(40164)
		if msg := r.str("errmsg"); !ridRE.MatchString(msg) ||
			msg[:len("invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist rid: ")] != "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist rid: " {
			t.Fatalf("errmsg %q", msg)
		}
	}
	if srv.TokenFetches() != 0 {
		t.Fatal("a refused caller got a token")
	}
}

func TestIssueToken(t *testing.T) {
	e := newEnv(t)
	tok := e.srv.IssueToken()
	if e.ping(tok) != 0 || e.ping(e.tok) != 0 {
		t.Fatal("IssueToken must give a valid token and leave the previous one its 5 minutes")
	}
	e.clock.Advance(5 * time.Minute)
	if e.ping(e.tok) != 40001 {
		t.Fatal("IssueToken must replace the previous classic token")
	}
}
