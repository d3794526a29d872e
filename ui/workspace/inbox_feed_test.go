package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// fastAfter is time.After a thousand times faster: the watcher's own timing, kept in
// order, without the test waiting minutes.
func fastAfter(d time.Duration) <-chan time.Time { return time.After(d / 1000) }

// watchFast runs WatchInbox with fastAfter until the test ends.
func watchFast(t *testing.T, ws *workspace.Workspace, a storage.Account) <-chan workspace.InboxUpdate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ups := make(chan workspace.InboxUpdate, 1024)
	done := make(chan error, 1)
	go func() {
		done <- ws.WatchInbox(ctx, a, workspace.WatchOptions{Interval: time.Minute, After: fastAfter}, func(u workspace.InboxUpdate) { ups <- u })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("WatchInbox ended with %v", err)
		}
	})
	return ups
}

// until reads updates until one satisfies cond.
func until(t *testing.T, ups <-chan workspace.InboxUpdate, what string, cond func(workspace.InboxUpdate) bool) workspace.InboxUpdate {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case u := <-ups:
			if cond(u) {
				return u
			}
		case <-deadline:
			t.Fatalf("no update with %s", what)
		}
	}
}

func hasNew(text string) func(workspace.InboxUpdate) bool {
	return func(u workspace.InboxUpdate) bool {
		for _, m := range u.New {
			if m.Text == text || m.Kind == text {
				return true
			}
		}
		return false
	}
}

var desktops atomic.Int64 // names the desktops' keys

// desktop is a second data folder whose account is the server's, connected to the
// server with a fresh desktop key; secret "" means no AppSecret (tokens from the server).
func desktop(t testing.TB, e *pushEnv, secret string) (*workspace.Workspace, storage.Account) {
	t.Helper()
	workspace.AnyServerURL(t)
	ctx := context.Background()
	key, err := e.ws.AddDesktopKey(ctx, fmt.Sprintf("laptop %d", desktops.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	code := workspace.ConnectionCode(workspace.Connection{URL: e.serverURL, Key: key})
	ws := openWS(t)
	a := storage.Account{Name: "茶叶小铺", Kind: storage.KindOA, AppID: jobAppID, APIBase: e.wechat.URL}
	if secret == "" {
		// As a desktop set up before this issue: the key inside the token URL, in the accounts table.
		a.TokenMode, a.TokenURL = storage.TokenURL, strings.Replace(e.serverURL, "http://", "http://desktop:"+key+"@", 1)+"/api/v1/token?account="+jobAppID
	}
	a, err = ws.AddAccount(ctx, a, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.TestPushServer(ctx, code); err != nil {
		t.Fatal(err)
	}
	if err := ws.SetPushServer(ctx, a, code); err != nil {
		t.Fatal(err)
	}
	if a, err = ws.DB.Account(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(a.TokenURL, key) {
		t.Fatalf("the desktop key is still in the accounts table: %s", a.TokenURL)
	}
	for _, f := range []string{ws.DB.Path(), ws.DB.Path() + "-wal"} {
		if b, err := os.ReadFile(f); bytes.Contains(b, []byte(key)) {
			t.Fatalf("the desktop key is in %s (%v)", f, err)
		}
	}
	if u, ok, err := ws.PushServer(ctx, a); err != nil || !ok || u != e.serverURL {
		t.Fatalf("PushServer: %q %v %v", u, ok, err)
	}
	return ws, a
}

// With a push server a customer's message reaches the desktop through the feed, with
// its media; the desktop needs no AppSecret (the server is its token URL), and its
// key lives in the secret store only.
func TestInboxFromThePushServer(t *testing.T) {
	e := newFeedEnv(t)
	startWorker(t, e.ws, workspace.JobOptions{Handlers: noAutoReply})
	desk, a := desktop(t, e, "")
	ctx := context.Background()
	ups := watchFast(t, desk, a)
	until(t, ups, "the push source without errors", func(u workspace.InboxUpdate) bool {
		return u.Source.Mode == workspace.SourcePush && u.Source.Err == nil // the poll got tokens from the server
	})
	e.push(t, wechattest.Text(jobCustomer, "你好，在吗"))
	u := until(t, ups, "the pushed text", hasNew("你好，在吗"))
	if u.Source.Mode != workspace.SourcePush || len(u.OpenIDs) != 1 || u.OpenIDs[0] != jobCustomer || !u.New[0].FromCustomer {
		t.Fatalf("update %+v", u)
	}
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte("图"), 3000)...)
	e.push(t, wechattest.Image(jobCustomer, jpeg))
	until(t, ups, "the pushed image", hasNew("image"))
	var msgs []workspace.InboxMessage
	waitFor(t, "the image on the desktop", func() bool {
		var err error
		msgs, err = desk.InboxMessages(ctx, a, jobCustomer, time.Time{}, 10)
		return err == nil && len(msgs) == 2 && msgs[1].MediaPath != ""
	})
	if got, err := os.ReadFile(msgs[1].MediaPath); err != nil || !bytes.Equal(got, jpeg) || msgs[1].Kind != "image" {
		t.Fatalf("the image: %d bytes %v, kind %s", len(got), err, msgs[1].Kind)
	}
	convs, err := desk.InboxConversations(ctx, a, workspace.InboxFilter{})
	if err != nil || len(convs) != 1 || convs[0].Unread != 2 || !convs[0].Window.Exact || convs[0].Window.SendsLeft != 5 {
		t.Fatalf("conversations %+v %v", convs, err)
	}
	// A menu answer and a follow.
	const newcomer = "oNewcomer000000000000000000001"
	e.push(t, wechattest.Message{From: jobCustomer, MsgType: "text", Content: "满意", MenuID: "101"})
	u = until(t, ups, "the menu answer", hasNew("满意"))
	if m := u.New[len(u.New)-1]; m.Kind != workspace.KindMenu || m.MenuChoice != "满意" {
		t.Fatalf("menu answer %+v", m)
	}
	e.push(t, wechattest.Subscribe(newcomer, ""))
	u = until(t, ups, "the follow", func(u workspace.InboxUpdate) bool { return slices.Contains(u.OpenIDs, newcomer) })
	if len(u.New) != 0 {
		t.Fatalf("a follow is no customer message: %+v", u.New)
	}
	msgs, err = desk.InboxMessages(ctx, a, newcomer, time.Time{}, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Kind != workspace.KindEvent || msgs[0].Event != "subscribe" || msgs[0].EventText(true) != "关注了公众号" {
		t.Fatalf("the follow in the conversation: %+v %v", msgs, err)
	}
}

// When the push server is unreachable the inbox says so and polls WeChat; what
// arrived meanwhile by getmsglist is there, and when the server is back the feed
// catches up from its cursor: every message once, none lost.
func TestInboxFallsBackToPollingAndCatchesUp(t *testing.T) {
	e := newFeedEnv(t)
	desk, a := desktop(t, e, "s")
	ctx := context.Background()
	ups := watchFast(t, desk, a)
	e.push(t, wechattest.Text(jobCustomer, "第一条"))
	until(t, ups, "the first message", hasNew("第一条"))

	e.desktopDown.Store(true)
	e.server.CloseClientConnections() // the long poll under way too
	u := until(t, ups, "the fallback", func(u workspace.InboxUpdate) bool { return u.Source.Mode == workspace.SourcePolling })
	if u.Source.Err == nil || !strings.Contains(u.Source.Err.Error(), "接收服务器") {
		t.Fatalf("the fallback does not say why: %v", u.Source.Err)
	}
	e.push(t, wechattest.Text(jobCustomer, "服务器断了"))
	e.push(t, wechattest.Text(jobCustomer, "只有推送"))
	d := e.pusher.Deliveries()
	at := d[len(d)-2].Message.CreateTime
	// The KF system has the message too (the customer was transferred to it).
	e.wechat.AddRecords(wechattest.Record{OpenID: jobCustomer, OperCode: 2003, Text: "服务器断了", Time: at.Unix(), Worker: "kf1@teashop"})
	u = until(t, ups, "the polled message", hasNew("服务器断了"))
	if u.Source.Mode != workspace.SourcePolling {
		t.Fatalf("polled while %+v", u.Source)
	}

	e.desktopDown.Store(false)
	until(t, ups, "the push source again", func(u workspace.InboxUpdate) bool { return u.Source.Mode == workspace.SourcePush })
	waitFor(t, "the caught-up push", func() bool {
		msgs, _ := desk.InboxMessages(ctx, a, jobCustomer, time.Time{}, 10)
		return len(msgs) == 3
	})
	msgs, err := desk.InboxMessages(ctx, a, jobCustomer, time.Time{}, 10)
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text+"/"+m.Worker)
	}
	if err != nil || strings.Join(texts, " ") != "第一条/ 服务器断了/kf1@teashop 只有推送/" {
		t.Fatalf("after catching up: %q %v", texts, err)
	}
	if n, err := desk.DB.RecordCount(ctx, a.ID); err != nil || n != 3 {
		t.Fatalf("%d records %v, want 3", n, err)
	}
}

// Connecting to a push server: a garbled code is refused in both languages, a
// revoked key is named as such, and removing the server or the account forgets the
// code (then the inbox polls WeChat itself).
func TestPushServerConnection(t *testing.T) {
	e := newFeedEnv(t)
	ctx := context.Background()
	desk, a := desktop(t, e, "s")
	var in *api.InputError
	if err := desk.SetPushServer(ctx, a, "kfdesk1.bm90IGEgY29kZQ"); !errors.As(err, &in) || in.Chinese == "" || in.English == "" {
		t.Fatalf("a garbled code: %v", err)
	}
	key, err := e.ws.AddDesktopKey(ctx, "old laptop")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ws.RevokeDesktopKey(ctx, "old laptop"); err != nil {
		t.Fatal(err)
	}
	code := workspace.ConnectionCode(workspace.Connection{URL: e.serverURL, Key: key})
	if err := desk.TestPushServer(ctx, code); !errors.Is(err, workspace.ErrPushServerKey) {
		t.Fatalf("a revoked key: %v", err)
	}
	if err := desk.SetPushServer(ctx, a, code); !errors.Is(err, workspace.ErrPushServerKey) {
		t.Fatalf("set with a revoked key: %v", err)
	}
	if u, ok, _ := desk.PushServer(ctx, a); !ok || u != e.serverURL {
		t.Fatal("a refused code replaced the working one")
	}
	if err := desk.RemovePushServer(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := desk.PushServer(ctx, a); ok || err != nil {
		t.Fatalf("after removing: %v %v", ok, err)
	}
	desk2, a2 := desktop(t, e, "s")
	if err := desk2.RemoveAccount(ctx, a2.Name); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := desk2.PushServer(ctx, a2); ok || err != nil {
		t.Fatalf("after removing the account: %v %v", ok, err)
	}
}
