package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kfdesk/api/push"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

const (
	appID    = "wx0123456789abcdef"
	token    = "kfdeskToken42"
	aesKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	customer = "oCustomer0000000000000000001"
)

// env is a data folder with one account whose push URL is served on 127.0.0.1, and
// the fake WeChat pushing to it in safe mode (安全模式).
type env struct {
	ws       *workspace.Workspace
	acct     storage.Account
	url      string
	base     string // the server's root URL (the desktop API is under it)
	wechat   *wechattest.Server
	pusher   *wechattest.Pusher
	receiver *workspace.Receiver
}

// envConfig varies newEnv: the fake's Config (Kind, Clock) and the push settings (Mode, Format).
type envConfig struct {
	wechat wechattest.Config
	push   wechattest.PushConfig
}

func newEnv(t testing.TB, options ...func(*envConfig)) *env {
	t.Helper()
	c := envConfig{wechat: wechattest.Config{AppID: appID, Secret: "s"}, push: wechattest.PushConfig{Token: token,
		EncodingAESKey: aesKey, Mode: wechattest.PushSafe, Timeout: time.Second, Retries: 3}}
	for _, o := range options {
		o(&c)
	}
	t.Setenv("KFDESK_SECRETS", "file")
	ws, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	wechat := wechattest.NewServer(c.wechat)
	t.Cleanup(wechat.Close)
	kind := storage.KindOA
	if c.wechat.Kind == wechattest.MiniProgram {
		kind = storage.KindMP
	}
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "茶叶小铺", Kind: kind, AppID: appID, APIBase: wechat.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ws.NewReceiver(a, push.Config{Token: token, EncodingAESKey: aesKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler([]*workspace.Receiver{r}, DesktopAPI(context.Background(), ws, r)))
	t.Cleanup(srv.Close)
	c.push.URL = srv.URL + workspace.PushPath(a)
	p, err := wechat.NewPusher(c.push)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &env{ws: ws, acct: a, url: srv.URL + workspace.PushPath(a), base: srv.URL, wechat: wechat, pusher: p, receiver: r}
}

func (e *env) stored(t testing.TB) []storage.Push {
	t.Helper()
	ps, err := e.ws.DB.PushesSince(context.Background(), e.acct.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (e *env) push(t *testing.T, m wechattest.Message) wechattest.Delivery {
	t.Helper()
	d, err := e.pusher.Push(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// WeChat's pushes, signed and encrypted as WeChat does it, are verified, stored once
// with what they carry, and answered "success"; a retry of a stored push stores nothing.
func TestPushesAreStoredOnceAndAnswered(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false) // auto-replies are autoreply_test.go's
	if v := e.pusher.VerifyURL(context.Background()); !v.OK {
		t.Fatalf("the console's URL check failed: %+v", v)
	}
	msgs := []wechattest.Message{
		wechattest.Text(customer, "退款到账了吗？"),
		wechattest.Image(customer, nil),
		wechattest.Click(customer, "MENU_HELP"),
		wechattest.Location(customer, "23.134521", "113.358803", 20, "广州市天河区"),
	}
	var sent []wechattest.Delivery
	for _, m := range msgs {
		d := e.push(t, m)
		if d.Verdict != wechattest.Accepted || len(d.Attempts) != 1 {
			t.Fatalf("%s: %s after %d attempts (%s)", m.MsgType, d.Verdict, len(d.Attempts), d.Reason)
		}
		sent = append(sent, d)
	}
	got := e.stored(t)
	if len(got) != len(msgs) {
		t.Fatalf("%d pushes stored, want %d", len(got), len(msgs))
	}
	if p := got[0]; p.MsgType != "text" || p.Content != "退款到账了吗？" || p.OpenID != customer || p.MsgID != sent[0].Message.MsgID ||
		!p.CreateTime.Equal(sent[0].Message.CreateTime.Truncate(time.Second)) || !strings.Contains(string(p.Raw), "退款到账了吗？") {
		t.Errorf("text stored as %+v", p)
	}
	if p := got[1]; p.MsgType != "image" || p.MediaID == "" || p.PicURL == "" {
		t.Errorf("image stored as %+v", p)
	}
	if jobs, err := e.ws.DB.Jobs(context.Background(), got[1].ID); err != nil || !hasJob(jobs, workspace.JobMedia) || hasJob(jobs, workspace.JobAutoReply) {
		t.Errorf("the image's jobs (media, and no auto-reply to send): %+v %v", jobs, err)
	}
	if p := got[2]; p.MsgType != "event" || p.Event != "CLICK" || p.EventKey != "MENU_HELP" {
		t.Errorf("click stored as %+v", p)
	}
	if p := got[3]; p.Location == nil || p.Location.X != 23.134521 || p.Location.Label != "广州市天河区" {
		t.Errorf("location stored as %+v", p.Location)
	}
	// WeChat resends a push it got no answer to: the same message again stores nothing.
	again := e.push(t, sent[0].Message)
	if again.Verdict != wechattest.Accepted || len(e.stored(t)) != len(msgs) {
		t.Fatalf("a repeated push: %s, %d stored", again.Verdict, len(e.stored(t)))
	}
}

func hasJob(jobs []storage.Job, kind storage.JobKind) bool {
	for _, j := range jobs {
		if j.Kind == kind {
			return true
		}
	}
	return false
}

// A push that cannot be stored is answered 500, so WeChat retries; once the archive
// can take it, the retried push is stored exactly once. Nothing is lost.
func TestAPushThatCannotBeStoredIsRetried(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false)
	if _, err := e.ws.DB.Writer().Exec("PRAGMA query_only = ON"); err != nil { // a full disk, say
		t.Fatal(err)
	}
	d := e.push(t, wechattest.Text(customer, "在吗"))
	if d.Verdict != wechattest.NoAnswer || len(d.Attempts) != 4 || d.Attempts[0].Status != http.StatusInternalServerError {
		t.Fatalf("while the archive is read-only: %s after %d attempts", d.Verdict, len(d.Attempts))
	}
	if _, err := e.ws.DB.Writer().Exec("PRAGMA query_only = OFF"); err != nil {
		t.Fatal(err)
	}
	if again := e.push(t, d.Message); again.Verdict != wechattest.Accepted {
		t.Fatalf("the retry: %s (%s)", again.Verdict, again.Reason)
	}
	if got := e.stored(t); len(got) != 1 || got[0].Content != "在吗" {
		t.Fatalf("stored %+v", got)
	}
}

// Anything reachable from the internet assumes a request is hostile until its
// signature says otherwise: forged, unsigned, oversized, misrouted or wrongly
// sent requests are refused and store nothing.
func TestRequestsThatAreNotWeChatsAreRefused(t *testing.T) {
	e := newEnv(t)
	d := e.push(t, wechattest.Text(customer, "真的"))
	genuine := d.Attempts[0]
	post := func(url, body string) int {
		t.Helper()
		resp, err := http.Post(url, "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	forged := strings.Replace(genuine.URL, "msg_signature=", "msg_signature=0", 1)
	for name, c := range map[string]struct {
		url, body string
		want      int
	}{
		"forged signature":   {forged, string(genuine.Body), http.StatusForbidden},
		"no signature":       {e.url, string(genuine.Body), http.StatusForbidden},
		"plaintext injected": {e.url + "?signature=x&timestamp=1&nonce=1", "<xml><MsgType>text</MsgType></xml>", http.StatusForbidden},
		"too large":          {genuine.URL, strings.Repeat("a", push.MaxBody+10), http.StatusRequestEntityTooLarge},
		"not a push":         {genuine.URL, "not xml at all", http.StatusBadRequest},
		"another path":       {strings.Replace(genuine.URL, "/wx/"+appID, "/wx/wxffffffffffffffff", 1), string(genuine.Body), http.StatusNotFound},
	} {
		if got := post(c.url, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	resp, err := http.Get(e.url + "?signature=bad&timestamp=1&nonce=2&echostr=hello")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, _ := resp.Body.Read(buf)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || n != 0 {
		t.Errorf("a forged URL check: %d %q (the echostr must not come back)", resp.StatusCode, buf[:n])
	}
	req, _ := http.NewRequest(http.MethodPut, genuine.URL, strings.NewReader(string(genuine.Body)))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %v %v", resp, err)
	}
	if got := e.stored(t); len(got) != 1 {
		t.Fatalf("%d pushes stored, want only the genuine one", len(got))
	}
}
