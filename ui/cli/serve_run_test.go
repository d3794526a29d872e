package cli

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
	"kfdesk/ui/workspace"
)

// `kfdesk serve --listen` receives the pushes of every account set up with `serve
// init`, at the path init printed, and stops cleanly when the command is interrupted.
func TestServeReceivesPushesOfTheAccountsSetUp(t *testing.T) {
	h, srv := shopHarness(t)
	if err := h.run("", "serve"); !errors.Is(err, ErrUsage) {
		t.Fatalf("serve without --listen: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := serveOn(&Env{Ctx: context.Background(), WS: h.ws, Stderr: &h.stderr}, plainSite(ln)); !errors.Is(err, ErrUsage) ||
		!strings.Contains(err.Error(), "serve init") {
		t.Fatalf("serve before serve init: %v", err)
	}
	if err := h.run("", "--json", "serve", "init"); err != nil {
		t.Fatal(err)
	}
	a, err := h.ws.CurrentAccount(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.ws.PushSettings(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	h.stderr.Reset()
	go func() { done <- serveOn(&Env{Ctx: ctx, WS: h.ws, Stderr: &h.stderr}, plainSite(ln)) }()
	pusher, err := srv.NewPusher(wechattest.PushConfig{URL: "http://" + ln.Addr().String() + workspace.PushPath(a),
		Token: p.Token, EncodingAESKey: p.EncodingAESKey, Mode: wechattest.PushSafe, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pusher.Close()
	if v := pusher.VerifyURL(context.Background()); !v.OK {
		t.Fatalf("URL check: %+v", v)
	}
	d, err := pusher.Push(context.Background(), wechattest.Text(customer, "发货了吗"))
	// Forwarding to the KF system is on by default: the answer hands the message to mpkf.
	if err != nil || d.Verdict != wechattest.PassiveReply || d.ReplyType != "transfer_customer_service" {
		t.Fatalf("push: %v %s %s %s", err, d.Verdict, d.ReplyType, d.Reason)
	}
	// The server's background work downloads a picture's media while it runs.
	if d, err := pusher.Push(context.Background(), wechattest.Image(customer, []byte("\xff\xd8\xff\xe0 a photo"))); err != nil || d.Verdict != wechattest.PassiveReply {
		t.Fatalf("image push: %v %s", err, d.Verdict)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := h.ws.DB.PushesSince(context.Background(), a.ID, 0, 10)
		if len(got) == 2 && got[1].MediaPath != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the picture was not downloaded while serving: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Desktops read what arrived from the same server, with a key only.
	key, err := h.ws.AddDesktopKey(context.Background(), "前台电脑")
	if err != nil {
		t.Fatal(err)
	}
	feed := func(auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/feed?cursor=0", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, _ := feed(""); status != http.StatusUnauthorized {
		t.Errorf("the feed without a key: %d", status)
	}
	if status, body := feed("Bearer " + key); status != http.StatusOK || !strings.Contains(body, "发货了吗") || !strings.Contains(body, `"media":"/api/v1/media/`) {
		t.Errorf("the feed with a key: %d %s", status, body)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when interrupted")
	}
	got, err := h.ws.DB.PushesSince(context.Background(), a.ID, 0, 10)
	if err != nil || len(got) != 2 || got[0].Content != "发货了吗" {
		t.Fatalf("stored %+v %v", got, err)
	}
	if out := h.stderr.String(); strings.Contains(out, p.Token) || strings.Contains(out, p.EncodingAESKey) || strings.Contains(out, "发货了吗") {
		t.Fatalf("serve printed a secret or a message: %q", out)
	}
}

func TestServeForgetUnfollowers(t *testing.T) {
	h, _ := shopHarness(t)
	a, err := h.ws.CurrentAccount(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		arg  string
		want bool
	}{{"on", true}, {"off", false}} {
		if err := h.run("", "serve", "forget-unfollowers", c.arg); err != nil {
			t.Fatal(err)
		}
		if on, err := h.ws.ForgetUnfollowers(context.Background(), a); err != nil || on != c.want {
			t.Fatalf("%s: %v %v", c.arg, on, err)
		}
	}
	if err := h.run("", "serve", "forget-unfollowers", "yes"); !errors.Is(err, ErrUsage) {
		t.Fatalf("a wrong word: %v", err)
	}
}
