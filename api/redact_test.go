package api

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kfdesk/api/wechattest"
)

// leaks reports a piece of secret (any 8 characters of it in a row) found in s.
func leaks(s, secret string) string {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+8]) {
			return secret[i : i+8]
		}
	}
	return ""
}

// A gateway page that quotes the request (its URL carries access_token, or for the
// classic token endpoint the AppSecret) is quoted into the error redacted and short.
func TestQuotedAnswersAreRedacted(t *testing.T) {
	for _, status := range []int{200, 403, 502} {
		c, f := setup(t)
		if err := c.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		tok, err := c.tokens.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.srv.FailNth("/cgi-bin/get_api_domain_ip", 1, wechattest.EchoRequest(status))
		err = c.Ping(context.Background())
		quoted := quotedIn(t, err)
		if p := leaks(quoted, tok); p != "" {
			t.Fatalf("%d: the error quotes the token (%q): %s", status, p, quoted)
		}
		if !strings.Contains(quoted, "access_token=***") {
			t.Fatalf("%d: %s", status, quoted)
		}
		if n := len([]rune(quoted)); n > 700 {
			t.Fatalf("%d: %d runes quoted from a long page", status, n)
		}
	}

	// The classic token endpoint takes the AppSecret in its URL.
	_, f := setup(t)
	c := f.client(t, TokenConfig{Mode: TokenClassic})
	f.srv.FailNth("/cgi-bin/token", 1, wechattest.EchoRequest(502))
	quoted := quotedIn(t, c.Ping(context.Background()))
	// (testSecret shares 0123456789abcdef with the AppID, which is no secret.)
	if strings.Contains(quoted, "s3cr3t-") || strings.Contains(quoted, "ef0123456789") || !strings.Contains(quoted, "secret=***") {
		t.Fatalf("the error quotes the AppSecret: %s", quoted)
	}
}

// quotedIn is all an error says: its text and the errmsg/detail it keeps for support.
func quotedIn(t *testing.T, err error) string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	s := err.Error() + "\n" + e.Msg
	if !strings.Contains(s, "request refused") {
		t.Fatalf("the answer is not quoted: %s", s)
	}
	return s
}

func TestRedactFindsSecretsInEveryShape(t *testing.T) {
	const tok = "86_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
	for _, in := range []string{
		"GET /cgi-bin/x?access_token=" + tok + "&y=1",
		"GET /cgi-bin/x?ACCESS_TOKEN=" + tok,
		`{"access_token":"` + tok + `","expires_in":7200`,
		`{&#34;access_token&#34;:&#34;` + tok + `&#34;}`,
		"redirect=%2Fx%3Faccess_token%3D" + tok,
		"token " + tok + " refused", // the bare value: known to the client, so replaced too
	} {
		out := snippet([]byte(in), tok)
		if leaks(out, tok) != "" || !strings.Contains(out, "***") {
			t.Fatalf("%q → %q", in, out)
		}
	}
	for _, in := range []string{"appid=wx1&secret=0123456789abcdef", `{"appsecret": "0123456789abcdef"}`, "client_secret%3D0123456789abcdef"} {
		if out := snippet([]byte(in)); strings.Contains(out, "0123456789") {
			t.Fatalf("%q → %q", in, out)
		}
	}
	// Redaction happens before the cap: a token cut at the 120th rune is still hidden.
	long := strings.Repeat("x", maxQuoted-20) + " " + tok
	if out := snippet([]byte(long), tok); leaks(out, tok) != "" {
		t.Fatalf("cut token quoted: %q", out)
	}
	if out := snippet([]byte("secretary=bob access_token is invalid")); out != "secretary=bob access_token is invalid" {
		t.Fatalf("ordinary words redacted: %q", out)
	}
}
