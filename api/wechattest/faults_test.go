package wechattest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const pingPath = "/cgi-bin/get_api_domain_ip"

func TestFaultErrcode(t *testing.T) {
	e := newEnv(t)
	e.srv.FailNth(pingPath, 2, wechattest.Errcode(45009, ""))
	e.srv.FailNth(pingPath, 3, wechattest.Errcode(-1, "system error rid: fixed"))
	e.apiGet(pingPath, nil).noErr()
	e.apiGet(pingPath, nil).is(45009)
	r := e.apiGet(pingPath, nil)
	if string(r.raw) != `{"errcode":-1,"errmsg":"system error rid: fixed"}` {
		t.Fatalf("given rid must be kept: %s", r.raw)
	}
	e.apiGet(pingPath, nil).noErr()
	if n := e.srv.Calls(pingPath); n != 4 {
		t.Fatalf("Calls = %d, want 4 (faulted calls count)", n)
	}
}

func TestFaultHasNoEffect(t *testing.T) {
	e := newEnv(t)
	e.srv.UserMessage(alice, time.Time{})
	e.srv.FailNth("/cgi-bin/message/custom/send", 1, wechattest.Errcode(-1, ""))
	e.send(text(alice, "lost")).is(-1)
	if len(e.srv.Sent()) != 0 || e.srv.RepliesLeft(alice) != 5 {
		t.Fatal("a faulted send must not reach the endpoint")
	}
	if reqs := e.srv.Requests("/cgi-bin/message/custom/send"); len(reqs) != 1 {
		t.Fatal("a faulted request must still be logged")
	}
	e.send(text(alice, "ok")).ok()
}

func TestFaultHTML502AndMalformed(t *testing.T) {
	e := newEnv(t)
	e.srv.FailNth(pingPath, 1, wechattest.HTML502())
	e.srv.FailNth(pingPath, 2, wechattest.Malformed())
	resp, err := http.Get(e.url(pingPath, e.authed(nil)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "502 Bad Gateway") {
		t.Fatalf("502: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	resp, err = http.Get(e.url(pingPath, e.authed(nil)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var v any
	if resp.StatusCode != 200 || json.Unmarshal(b, &v) == nil || len(b) == 0 {
		t.Fatalf("malformed: %d %q", resp.StatusCode, b)
	}
	e.apiGet(pingPath, nil).noErr()
}

func TestFaultDrop(t *testing.T) {
	e := newEnv(t)
	e.apiGet(pingPath, nil).noErr() // a kept-alive connection exists: the drop must still show
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		e.srv.FailNth(pingPath, 1, wechattest.Drop())
		req, _ := http.NewRequest(method, e.url(pingPath, e.authed(nil)), nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s: dropped call answered %d", method, resp.StatusCode)
		}
	}
	e.apiGet(pingPath, nil).noErr()
}

func TestFaultSlow(t *testing.T) {
	e := newEnv(t)
	e.srv.FailNth(pingPath, 1, wechattest.Slow(300*time.Millisecond))
	start := time.Now()
	e.apiGet(pingPath, nil).noErr()
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("slow answer after %v", d)
	}
	// The client giving up ends the wait, and the abandoned call has no effect.
	const send = "/cgi-bin/message/custom/send"
	e.srv.UserMessage(alice, time.Time{})
	e.srv.FailNth(send, 1, wechattest.Slow(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url(send, e.authed(nil)),
		strings.NewReader(`{"touser":"`+alice+`","msgtype":"text","text":{"content":"late"}}`))
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	// The handler must return promptly too: Close would hang otherwise.
	done := make(chan struct{})
	go func() { e.srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a slow handler outlived its client")
	}
	if n := len(e.srv.Sent()); n != 0 {
		t.Fatalf("an abandoned slow send was delivered (%d)", n)
	}
}

func TestFaultAlwaysAndClear(t *testing.T) {
	e := newEnv(t)
	e.srv.FailAlways(pingPath, wechattest.Errcode(48001, ""))
	e.apiGet(pingPath, nil).is(48001)
	e.apiGet(pingPath, nil).is(48001)
	e.apiGet("/cgi-bin/user/get", nil).noErr() // other paths unaffected
	e.srv.ClearFaults()
	e.apiGet(pingPath, nil).noErr()
	e.srv.FailAlways("", wechattest.Errcode(-1, "")) // every path
	e.apiGet("/cgi-bin/user/get", nil).is(-1)
	e.get("/cgi-bin/token", url.Values{}).is(-1)
	e.srv.ClearFaults()
	e.apiGet("/cgi-bin/user/get", nil).noErr()
}
