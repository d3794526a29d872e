package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// The desktop API (issue 11 §5) over real HTTP on 127.0.0.1, the fake WeChat pushing.

// desktopKey adds a desktop key.
func (e *env) desktopKey(t *testing.T, name string) string {
	t.Helper()
	k, err := e.ws.AddDesktopKey(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// get does GET base+path with the Authorization header auth ("" none).
func get(t *testing.T, base, path, auth string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func bearer(key string) string { return "Bearer " + key }

func basic(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("desktop:"+key))
}

// feed reads the feed and decodes it.
func (e *env) feed(t *testing.T, key, query string) feedAnswer {
	t.Helper()
	status, _, b := get(t, e.base, "/api/v1/feed?"+query, bearer(key))
	if status != http.StatusOK {
		t.Fatalf("feed?%s: %d %s", query, status, b)
	}
	var a feedAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("feed?%s: %v in %s", query, err, b)
	}
	if bytes.Contains(b, []byte("<xml>")) || bytes.Contains(b, []byte("raw")) {
		t.Errorf("the feed shows the raw body: %s", b)
	}
	return a
}

// Nothing of the API answers without a valid, unrevoked key: every endpoint (and a
// path that does not exist) is 401 with nothing said, for no key, a wrong one, a
// revoked one, as Bearer or as Basic; a valid key gets through both ways.
func TestDesktopAPINeedsAValidKey(t *testing.T) {
	noDelay(t) // this test is refused on purpose, many times
	logs := captureLog(t)
	e := newEnv(t)
	e.push(t, wechattest.Text(customer, "在吗"))
	key := e.desktopKey(t, "前台电脑")
	revoked := e.desktopKey(t, "旧电脑")
	if err := e.ws.RevokeDesktopKey(context.Background(), "旧电脑"); err != nil {
		t.Fatal(err)
	}
	wrong := storage.DesktopKeyPrefix + strings.Repeat("A", 43)
	paths := []string{"/api/v1/feed?cursor=0", "/api/v1/media/1", "/api/v1/autoreplies", "/api/v1/token?account=" + appID,
		"/api/v1/nothing", "/api/"}
	for _, p := range paths {
		for name, auth := range map[string]string{"no key": "", "wrong key": bearer(wrong), "revoked key": bearer(revoked),
			"key without prefix": bearer(strings.TrimPrefix(key, storage.DesktopKeyPrefix)), "wrong basic": basic(wrong),
			"revoked basic": basic(revoked), "other scheme": "Token " + key} {
			status, h, b := get(t, e.base, p, auth)
			if status != http.StatusUnauthorized || len(b) != 0 {
				t.Errorf("%s %s: %d %q, want 401 and nothing", name, p, status, b)
			}
			if h.Get("Content-Type") != "" {
				t.Errorf("%s %s: says it is %s", name, p, h.Get("Content-Type"))
			}
		}
	}
	for name, auth := range map[string]string{"bearer": bearer(key), "basic": basic(key)} {
		if status, _, b := get(t, e.base, "/api/v1/feed?cursor=0", auth); status != http.StatusOK {
			t.Errorf("%s: the valid key gets %d %s", name, status, b)
		}
	}
	// Revoked while in use: refused from the next request on.
	if err := e.ws.RevokeDesktopKey(context.Background(), "前台电脑"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, e.base, "/api/v1/feed?cursor=0", bearer(key)); status != http.StatusUnauthorized {
		t.Errorf("a key revoked since: %d", status)
	}
	out := logs.String()
	if !strings.Contains(out, "without a valid key refused") {
		t.Errorf("refusals are not logged: %q", out)
	}
	for _, secret := range []string{key, revoked, wrong, strings.TrimPrefix(key, storage.DesktopKeyPrefix)} {
		if strings.Contains(out, secret) {
			t.Fatalf("a key is in the log: %q", out)
		}
	}
}

// captureLog sends the log to a buffer until the test ends.
func captureLog(t *testing.T) *bytes.Buffer {
	var b bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&b, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &b
}

// A push WeChat sends shows in the feed with what the CLI's inbox list shows;
// reading on from the answer's cursor gives nothing twice, and a read with
// nothing new waits for the wait and answers an empty list with the same cursor.
func TestFeedGivesEveryPushOnce(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false)
	key := e.desktopKey(t, "前台电脑")
	first := e.feed(t, key, "cursor=0")
	if len(first.Items) != 0 || first.Cursor != 0 {
		t.Fatalf("an empty feed: %+v", first)
	}
	d := e.push(t, wechattest.Text(customer, "退款到账了吗？"))
	e.push(t, wechattest.Click(customer, "MENU_HELP"))
	got := e.feed(t, key, "cursor=0&account="+appID)
	if len(got.Items) != 2 {
		t.Fatalf("feed: %+v", got)
	}
	it := got.Items[0]
	wantTime := workspace.FormatTime(d.Message.CreateTime, time.RFC3339)
	if it.OpenID != customer || it.MsgType != "text" || it.Text != "退款到账了吗？" || it.MsgID != d.Message.MsgID ||
		it.Time != wantTime || !strings.HasSuffix(it.Time, "+08:00") || it.Account != appID || it.Media != "" {
		t.Errorf("the text reads %+v (time want %s)", it, wantTime)
	}
	if ev := got.Items[1]; ev.MsgType != "event" || ev.Event != "CLICK" || ev.EventKey != "MENU_HELP" {
		t.Errorf("the click reads %+v", ev)
	}
	if got.Cursor != got.Items[1].ID || got.Items[0].ID >= got.Items[1].ID {
		t.Errorf("cursor %d after ids %d, %d", got.Cursor, got.Items[0].ID, got.Items[1].ID)
	}
	again := e.feed(t, key, "cursor="+strconv.FormatInt(got.Cursor, 10)+"&wait=50ms")
	if len(again.Items) != 0 || again.Cursor != got.Cursor {
		t.Errorf("read on with nothing new: %+v, want no items and cursor %d", again, got.Cursor)
	}
	e.push(t, wechattest.Text(customer, "第三条"))
	third := e.feed(t, key, "cursor="+strconv.FormatInt(got.Cursor, 10))
	if len(third.Items) != 1 || third.Items[0].Text != "第三条" {
		t.Errorf("the next read: %+v", third)
	}
	for q, want := range map[string]int{"cursor=x": 400, "cursor=-1": 400, "cursor=0&wait=soon": 400,
		"cursor=0&account=wxnotserved": 404} {
		if status, _, b := get(t, e.base, "/api/v1/feed?"+q, bearer(key)); status != want || !bytes.Contains(b, []byte("error_zh")) {
			t.Errorf("feed?%s: %d %s, want %d with a message", q, status, b, want)
		}
	}
}

// A long poll that is waiting answers with the push that arrives.
func TestFeedLongPollAnswersWithTheNewPush(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false)
	key := e.desktopKey(t, "前台电脑")
	answer := make(chan feedAnswer, 1)
	go func() {
		status, _, b := get(t, e.base, "/api/v1/feed?cursor=0&wait=30s", bearer(key))
		var a feedAnswer
		if status != http.StatusOK || json.Unmarshal(b, &a) != nil {
			t.Errorf("long poll: %d %s", status, b)
		}
		answer <- a
	}()
	e.push(t, wechattest.Text(customer, "刚刚发的"))
	a := <-answer
	if len(a.Items) != 1 || a.Items[0].Text != "刚刚发的" || a.Cursor != a.Items[0].ID {
		t.Fatalf("the long poll answered %+v", a)
	}
}

// An image's media is served once the media job downloaded it, with its type; a
// push without media, an unknown push, and the push of an account this server
// does not serve are 404.
func TestMediaIsServedAfterTheDownload(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false)
	key := e.desktopKey(t, "前台电脑")
	e.push(t, wechattest.Text(customer, "看图"))
	e.push(t, wechattest.Image(customer, nil))
	ps := e.stored(t)
	text, img := ps[0], ps[1]
	mediaPath := "/api/v1/media/" + strconv.FormatInt(img.ID, 10)
	if status, _, _ := get(t, e.base, mediaPath, bearer(key)); status != http.StatusNotFound {
		t.Errorf("before the download: %d", status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.ws.RunJobs(ctx, workspace.JobOptions{Idle: 10 * time.Millisecond}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var item workspace.PushItem
	for deadline := time.Now().Add(20 * time.Second); item.Media == ""; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the media was never downloaded")
		}
		item = e.feed(t, key, "cursor="+strconv.FormatInt(text.ID, 10)).Items[0]
	}
	if item.Media != mediaPath {
		t.Errorf("the feed gives the media as %q, want %q", item.Media, mediaPath)
	}
	saved, err := e.ws.DB.Push(context.Background(), img.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(saved.MediaPath)
	if err != nil {
		t.Fatal(err)
	}
	status, h, b := get(t, e.base, mediaPath, bearer(key))
	if status != http.StatusOK || !bytes.Equal(b, want) || len(b) == 0 || h.Get("Content-Type") != "image/jpeg" {
		t.Errorf("media: %d, %d bytes (want %d), %s", status, len(b), len(want), h.Get("Content-Type"))
	}
	for _, p := range []string{"/api/v1/media/" + strconv.FormatInt(text.ID, 10), "/api/v1/media/999999", "/api/v1/media/x"} {
		if status, _, _ := get(t, e.base, p, bearer(key)); status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, status)
		}
	}
	// The same data folder served for no account: its pushes are not this server's.
	none := httptest.NewServer(Handler(nil, DesktopAPI(context.Background(), e.ws)))
	defer none.Close()
	if status, _, _ := get(t, none.URL, mediaPath, bearer(key)); status != http.StatusNotFound {
		t.Errorf("media of an account not served: %d", status)
	}
}

// The rules read as JSON, per account, with the forwarding setting.
func TestAutoRepliesAreListed(t *testing.T) {
	e := newEnv(t)
	key := e.desktopKey(t, "前台电脑")
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: "退款", Match: storage.MatchContains,
		Body: workspace.TextReplyBody("退款请看置顶"), Enabled: true})
	e.rule(t, storage.AutoReplyRule{Kind: storage.AutoReplyHours, Hours: storage.OfficeHours{Weekdays: storage.Weekdays(time.Monday, time.Friday),
		From: 9 * 60, To: 17*60 + 30}, Body: workspace.TextReplyBody("下班了"), Enabled: true})
	status, _, b := get(t, e.base, "/api/v1/autoreplies?account="+appID, bearer(key))
	var got []accountRules
	if status != http.StatusOK || json.Unmarshal(b, &got) != nil || len(got) != 1 {
		t.Fatalf("autoreplies: %d %s", status, b)
	}
	rs := got[0]
	if rs.Account != appID || !rs.Forward.On || len(rs.Rules) != 2 {
		t.Fatalf("autoreplies: %s", b)
	}
	if k := rs.Rules[0]; k.Kind != storage.AutoReplyKeyword || k.Keyword != "退款" || k.Match != storage.MatchContains ||
		!strings.Contains(string(k.Body), "退款请看置顶") {
		t.Errorf("keyword rule: %+v", k)
	}
	if h := rs.Rules[1]; h.From != "09:00" || h.To != "17:30" || len(h.Weekdays) != 2 || h.Weekdays[0] != 1 || h.Weekdays[1] != 5 {
		t.Errorf("hours rule: %+v", h)
	}
}

// The token endpoint hands out the token this server's own calls use (fetched from
// WeChat once), and a desktop with no AppSecret, in the token URL mode with the key
// in the URL, sends a message with it.
func TestDesktopSendsWithTheServersToken(t *testing.T) {
	logs := captureLog(t)
	e := newEnv(t)
	e.forward(t, false)
	key := e.desktopKey(t, "前台电脑")
	e.push(t, wechattest.Text(customer, "在吗")) // opens the customer's reply window
	status, _, b := get(t, e.base, "/api/v1/token?account="+appID, bearer(key))
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" || tok.ExpiresIn <= 300 || tok.ExpiresIn > 7200 {
		t.Fatalf("token: %d %s", status, b)
	}
	for q, want := range map[string]int{"": 400, "?account=wxnotserved": 404} {
		if status, _, _ := get(t, e.base, "/api/v1/token"+q, bearer(key)); status != want {
			t.Errorf("token%s: %d, want %d", q, status, want)
		}
	}

	desk, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	u, _ := url.Parse(e.base + "/api/v1/token?account=" + appID)
	u.User = url.UserPassword("desktop", key)
	a, err := desk.AddAccount(context.Background(), storage.Account{Name: "茶叶小铺", Kind: storage.KindOA, AppID: appID,
		APIBase: e.wechat.URL, TokenMode: storage.TokenURL, TokenURL: u.String()}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Send(context.Background(), a, &api.Message{ToUser: customer, MsgType: api.TypeText, Text: &api.Text{Content: "到账了"}}); err != nil {
		t.Fatalf("the desktop's send: %v", err)
	}
	if got := sentTexts(e.wechat); len(got) != 1 || got[0] != customer+" 到账了" {
		t.Errorf("WeChat got %v", got)
	}
	sends := e.wechat.Requests("/cgi-bin/message/custom/send")
	if len(sends) != 1 || sends[0].Query.Get("access_token") != tok.AccessToken {
		t.Errorf("the desktop did not send with the server's token")
	}
	if n := e.wechat.TokenFetches(); n != 1 {
		t.Errorf("%d tokens fetched from WeChat, want 1 (the server's, shared)", n)
	}
	if out := logs.String(); strings.Contains(out, tok.AccessToken) || strings.Contains(out, key) {
		t.Errorf("the token or the key is in the log: %q", out)
	}
}

func noDelay(t *testing.T) {
	was := failureDelay
	failureDelay = 0
	t.Cleanup(func() { failureDelay = was })
}

// Refusals from one address beyond the burst are slowed down, another address is
// not, and an address that stops failing earns its tries back.
func TestRefusalsAreSlowedPerAddress(t *testing.T) {
	noDelay(t)
	f := newFailureLimit()
	ctx := context.Background()
	for i := range failureBurst {
		if f.refused(ctx, "192.0.2.1") {
			t.Fatalf("refusal %d is slowed already", i+1)
		}
	}
	if !f.refused(ctx, "192.0.2.1") {
		t.Error("the refusal after the burst is not slowed")
	}
	if f.refused(ctx, "192.0.2.2") {
		t.Error("another address is slowed too")
	}
	f.mu.Lock()
	b := f.buckets["192.0.2.1"]
	b.at = b.at.Add(-2 * failureEvery) // two tries earned back
	f.buckets["192.0.2.1"] = b
	f.mu.Unlock()
	var slowed []bool
	for range 3 {
		slowed = append(slowed, f.refused(ctx, "192.0.2.1"))
	}
	if slowed[0] || slowed[1] || !slowed[2] {
		t.Errorf("after waiting, slowed %v, want the two tries earned back and then slowed again", slowed)
	}
}

// A tap on a menu this account sent reads with the option chosen.
func TestFeedNamesTheMenuChoice(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false)
	key := e.desktopKey(t, "前台电脑")
	e.push(t, wechattest.Text(customer, "我要评价"))
	menu := &api.Message{ToUser: customer, MsgType: api.TypeMsgMenu, MsgMenu: &api.MsgMenu{HeadContent: "满意吗？",
		List: []api.MenuOption{{ID: "101", Content: "满意"}, {ID: "102", Content: "不满意"}}}}
	if _, err := e.ws.Send(context.Background(), e.acct, menu); err != nil {
		t.Fatal(err)
	}
	e.push(t, wechattest.MenuAnswer(customer, "101"))
	got := e.feed(t, key, "cursor=0").Items
	if len(got) != 2 {
		t.Fatalf("feed: %+v", got)
	}
	if tap := got[1]; tap.MenuID != "101" || tap.MenuChoice != "满意" {
		t.Errorf("the tap reads %+v, want menu_choice 满意", tap)
	}
}

// The reply window from the pushes: a menu click opens 3 sends in a minute, a
// customer's message 5 in 48 hours, and the sends logged count down each.
func TestReplyWindowFromThePushes(t *testing.T) {
	e := newEnv(t)
	e.forward(t, false)
	key := e.desktopKey(t, "前台电脑")
	window := func() map[string]any {
		t.Helper()
		status, _, b := get(t, e.base, "/api/v1/window?account="+appID+"&openid="+customer, bearer(key))
		var out map[string]any
		if status != http.StatusOK || json.Unmarshal(b, &out) != nil {
			t.Fatalf("window: %d %s", status, b)
		}
		return out
	}
	send := func(n int) {
		t.Helper()
		for range n {
			if _, err := e.ws.Send(context.Background(), e.acct, &api.Message{ToUser: customer, MsgType: api.TypeText, Text: &api.Text{Content: "好的"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if w := window(); w["state"] != "unknown" {
		t.Fatalf("before any push: %v", w)
	}
	e.push(t, wechattest.Click(customer, "MENU_HELP"))
	if w := window(); w["state"] != "open" || w["left"] != float64(3) || w["until"] == nil {
		t.Fatalf("after a click: %v", w)
	}
	send(3)
	if w := window(); w["state"] != "closed" {
		t.Fatalf("after 3 sends on a click: %v", w)
	}
	// Sends count from the second of a CreateTime on (one too many rather than too few):
	// let the next second begin so the click's sends are not counted against the message.
	now := clock.Now() // the app's clock: a test run may shift it by a fraction of a second
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))
	e.push(t, wechattest.Text(customer, "还有问题"))
	if w := window(); w["state"] != "open" || w["left"] != float64(5) {
		t.Fatalf("after a message: %v", w)
	}
	send(5)
	if w := window(); w["state"] != "used_up" || w["left"] != float64(0) {
		t.Fatalf("after 5 sends: %v", w)
	}
	if status, _, _ := get(t, e.base, "/api/v1/window?account="+appID, bearer(key)); status != http.StatusBadRequest {
		t.Fatalf("no openid: %d", status)
	}
	if status, _, _ := get(t, e.base, "/api/v1/window?account="+appID+"&openid="+customer, ""); status != http.StatusUnauthorized {
		t.Fatalf("no key: %d", status)
	}
}

// send does an authenticated request with a JSON body.
func send(t *testing.T, method, url, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", bearer(key))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// A desktop edits the same rules as `kfdesk autoreply`, and they apply to the next push.
func TestDesktopEditsTheAutoReplies(t *testing.T) {
	e := newEnv(t)
	key := e.desktopKey(t, "前台电脑")
	rulesURL := e.base + "/api/v1/autoreplies"
	status, b := send(t, http.MethodPost, rulesURL+"?account="+appID, key,
		`{"kind":"keyword","keyword":"地址","match":"contains","body":{"msgtype":"text","text":{"content":"我们在西湖路 8 号"}}}`)
	if status != http.StatusCreated {
		t.Fatalf("add: %d %s", status, b)
	}
	var added struct{ ID int64 }
	if err := json.Unmarshal(b, &added); err != nil || added.ID == 0 {
		t.Fatalf("add answered %s", b)
	}
	d := e.push(t, wechattest.Text(customer, "请问店铺地址在哪"))
	if d.Verdict != wechattest.PassiveReply || !strings.Contains(string(d.Reply), "我们在西湖路 8 号") {
		t.Fatalf("after the desktop added the rule: %s %s", d.Verdict, d.Reply)
	}
	if status, b := send(t, http.MethodPut, rulesURL+"/forward?account="+appID, key, `{"on":false}`); status != http.StatusNoContent {
		t.Fatalf("forward off: %d %s", status, b)
	}
	if status, b := send(t, http.MethodDelete, rulesURL+"/"+strconv.FormatInt(added.ID, 10)+"?account="+appID, key, ""); status != http.StatusNoContent {
		t.Fatalf("remove: %d %s", status, b)
	}
	if d := e.push(t, wechattest.Text(customer, "请问店铺地址在哪")); d.Verdict != wechattest.Accepted {
		t.Fatalf("after the rule was removed and forwarding switched off: %s %s", d.Verdict, d.Reply)
	}
	for _, c := range []struct {
		method, url, body string
		want              int
	}{
		{http.MethodPost, rulesURL + "?account=" + appID, `{"kind":"keyword","keyword":"","body":{"msgtype":"text","text":{"content":"x"}}}`, http.StatusBadRequest},
		{http.MethodPost, rulesURL + "?account=" + appID, `not json`, http.StatusBadRequest},
		{http.MethodPost, rulesURL + "?account=" + appID, `{"kind":"hours","weekdays":[9],"from":"09:00","to":"18:00","body":{"msgtype":"text","text":{"content":"x"}}}`, http.StatusBadRequest},
		{http.MethodDelete, rulesURL + "/999999?account=" + appID, "", http.StatusNotFound},
		{http.MethodPost, rulesURL + "?account=wxffffffffffffffff", `{}`, http.StatusNotFound},
	} {
		if status, b := send(t, c.method, c.url, key, c.body); status != c.want {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.url, c.body, status, b, c.want)
		}
	}
	if status, _ := send(t, http.MethodPost, rulesURL+"?account="+appID, "", `{}`); status != http.StatusUnauthorized {
		t.Errorf("no key: %d", status)
	}
	if rules, _, err := e.ws.AutoReplies(context.Background(), e.acct); err != nil || len(rules) != 0 {
		t.Fatalf("rules left: %+v %v", rules, err)
	}
}
