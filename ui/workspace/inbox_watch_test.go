package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// stepper is WatchOptions.After under the test's control: each wait the watcher
// asks for is recorded, and it ends only when the test says so (no sleeping).
type stepper struct {
	asked chan time.Duration
	go_   chan time.Time
}

func newStepper() *stepper {
	return &stepper{asked: make(chan time.Duration, 16), go_: make(chan time.Time)}
}

func (s *stepper) after(d time.Duration) <-chan time.Time {
	s.asked <- d
	c := make(chan time.Time, 1)
	go func() { c <- <-s.go_ }()
	return c
}

// watch runs WatchInbox until the test ends; updates arrive on the returned channel.
func watch(t *testing.T, ws *workspace.Workspace, a storage.Account, s *stepper) <-chan workspace.InboxUpdate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ups := make(chan workspace.InboxUpdate, 64)
	done := make(chan error, 1)
	go func() {
		done <- ws.WatchInbox(ctx, a, workspace.WatchOptions{Interval: time.Minute, After: s.after}, func(u workspace.InboxUpdate) { ups <- u })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("WatchInbox ended with %v", err)
		}
	})
	return ups
}

func next(t *testing.T, ups <-chan workspace.InboxUpdate) workspace.InboxUpdate {
	t.Helper()
	select {
	case u := <-ups:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no inbox update")
	}
	return workspace.InboxUpdate{}
}

const (
	alice = "oAlice00000000000000000000001"
	bob   = "oBob0000000000000000000000001"
	carol = "oCarol000000000000000000000001"
)

// Without a push server the inbox polls today's chat records and the wait queue:
// what a customer wrote arrives as New, unread until marked read; the waiting
// customer is on top; the next poll comes after the interval.
func TestInboxPollsRecordsAndTheWaitQueue(t *testing.T) {
	ws, a, srv := shopWS(t)
	ctx := context.Background()
	now := clock.Now().Truncate(time.Second)
	srv.AddRecords(
		wechattest.Record{OpenID: alice, OperCode: 2003, Text: "你好，请问发货了吗", Time: now.Add(-3 * time.Minute).Unix(), Worker: "kf1@shop"},
		wechattest.Record{OpenID: alice, OperCode: 2003, Text: "[image]", Time: now.Add(-2 * time.Minute).Unix(), Worker: "kf1@shop"},
		wechattest.Record{OpenID: alice, OperCode: 2002, Text: "已经发了", Time: now.Add(-time.Minute).Unix(), Worker: "kf1@shop"},
		// Written long before the watch began: listed, not announced.
		wechattest.Record{OpenID: carol, OperCode: 2003, Text: "早上好", Time: now.Add(-20 * time.Minute).Unix(), Worker: "kf2@shop"})
	srv.AddWaitCase(bob, now.Add(-5*time.Minute))
	s := newStepper()
	ups := watch(t, ws, a, s)
	u := next(t, ups)
	if u.Source.Mode != workspace.SourcePolling || u.Source.Err != nil || len(u.New) != 2 || u.New[0].Text != "你好，请问发货了吗" ||
		u.New[1].Kind != "image" || !u.New[1].FromCustomer {
		t.Fatalf("first update %+v", u)
	}
	if d := <-s.asked; d != time.Minute {
		t.Fatalf("next poll after %v, want the interval", d)
	}
	convs, err := ws.InboxConversations(ctx, a, workspace.InboxFilter{})
	if err != nil || len(convs) != 3 || convs[2].OpenID != carol {
		t.Fatalf("conversations %+v %v", convs, err)
	}
	if c := convs[0]; c.OpenID != bob || !c.Waiting || !c.WaitingSince.Equal(now.Add(-5*time.Minute)) {
		t.Fatalf("the waiting customer is not on top: %+v", c)
	}
	// A first sync into an empty archive: unread is what came after the last KF message.
	c := convs[1]
	if c.OpenID != alice || c.Unread != 0 || c.LastText != "已经发了" || c.LastFromCustomer || c.KF != "kf1@shop" ||
		c.Window.Exact || c.Window.Closed || c.Window.SendsLeft != 4 || c.Name != workspace.ShortOpenID(alice) {
		t.Fatalf("alice's conversation %+v", c)
	}
	if convs[2].Unread != 1 || !convs[2].LastFromCustomer {
		t.Fatalf("carol's conversation %+v", convs[2])
	}
	if n, err := ws.UnreadTotal(ctx, a); err != nil || n != 1 {
		t.Fatalf("unread total %d %v", n, err)
	}
	if err := ws.MarkRead(ctx, a, carol); err != nil {
		t.Fatal(err)
	}
	if n, _ := ws.UnreadTotal(ctx, a); n != 0 {
		t.Fatalf("unread after marking read: %d", n)
	}
	msgs, err := ws.InboxMessages(ctx, a, alice, time.Time{}, 50)
	if err != nil || len(msgs) != 3 || msgs[2].FromCustomer || msgs[2].Worker != "kf1@shop" {
		t.Fatalf("messages %+v %v", msgs, err)
	}

	// A new message on WeChat arrives with the next poll, once.
	srv.AddRecords(wechattest.Record{OpenID: alice, OperCode: 2003, Text: "谢谢", Time: now.Unix(), Worker: "kf1@shop"})
	s.go_ <- time.Now()
	u = next(t, ups)
	if len(u.New) != 1 || u.New[0].Text != "谢谢" || len(u.OpenIDs) != 1 || u.OpenIDs[0] != alice {
		t.Fatalf("second update %+v", u)
	}
	<-s.asked
	if n, _ := ws.UnreadTotal(ctx, a); n != 1 {
		t.Fatalf("unread after a new message: %d", n)
	}
}

// shopWS is a workspace with one Official Account on its own fake WeChat.
func shopWS(t *testing.T) (*workspace.Workspace, storage.Account, *wechattest.Server) {
	t.Helper()
	ws := openWS(t)
	srv := wechattest.NewServer(wechattest.Config{AppID: jobAppID, Secret: "s"})
	t.Cleanup(srv.Close)
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA, AppID: jobAppID, APIBase: srv.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	return ws, a, srv
}

// A failing poll backs off (the interval doubled each time, at most 10 minutes) and
// says why; the first good poll goes back to the interval.
func TestInboxPollingBacksOffOnErrors(t *testing.T) {
	ws, a, srv := shopWS(t)
	srv.FailAlways("/customservice/msgrecord/getmsglist", wechattest.Errcode(40164, ""))
	s := newStepper()
	ups := watch(t, ws, a, s)
	u := next(t, ups)
	if u.Source.Mode != workspace.SourcePolling || u.Source.Err == nil || !strings.Contains(u.Source.Err.Error(), "40164") {
		t.Fatalf("first update %+v", u.Source)
	}
	var waits []time.Duration
	for i := range 5 {
		waits = append(waits, <-s.asked)
		if i == 4 {
			srv.ClearFaults()
		}
		s.go_ <- time.Now()
	}
	waits = append(waits, <-s.asked)
	if fmt.Sprint(waits) != "[2m0s 4m0s 8m0s 10m0s 10m0s 1m0s]" {
		t.Fatalf("waits %v", waits)
	}
	until(t, ups, "the error cleared", func(u workspace.InboxUpdate) bool { return u.Source.Err == nil })
}

// WeChat's daily quota used up (45009): polling stops until the next Beijing day and says so.
func TestInboxPollingStopsForTheDayOn45009(t *testing.T) {
	ws, a, srv := shopWS(t)
	srv.FailAlways("/customservice/msgrecord/getmsglist", wechattest.Errcode(45009, ""))
	s := newStepper()
	ups := watch(t, ws, a, s)
	u := next(t, ups)
	tomorrow := storage.BeijingDay(clock.Now()).AddDate(0, 0, 1)
	if u.Source.Mode != workspace.SourceStopped || !u.Source.Until.Equal(tomorrow) || !strings.Contains(u.Source.Err.Error(), "明天") {
		t.Fatalf("update %+v", u.Source)
	}
	if d := <-s.asked; d <= 0 || d > 24*time.Hour || d < tomorrow.Sub(clock.Now())-time.Minute {
		t.Fatalf("waits %v, want until %v", d, tomorrow)
	}
}

// On the demo account the fake's customers write in while the inbox is watched:
// what the simulator adds reaches the next poll as new messages.
func TestDemoInboxComesAlive(t *testing.T) {
	sims := workspace.DemoSims(t)
	ws := openWS(t)
	ctx := context.Background()
	a, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := newStepper()
	ups := watch(t, ws, a, s)
	sim := <-sims
	next(t, ups) // the first poll: the sample's history
	<-s.asked
	var want []string
	for range 5 {
		want = append(want, sim.Step(ctx).Text)
	}
	s.go_ <- time.Now()
	u := next(t, ups)
	var got []string
	for _, m := range u.New {
		if m.Kind == "image" {
			got = append(got, "[image]")
		} else {
			got = append(got, m.Text)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("new in the inbox %q, want what the customers wrote %q", got, want)
	}
	convs, err := ws.InboxConversations(ctx, a, workspace.InboxFilter{Waiting: true})
	if err != nil || len(convs) == 0 {
		t.Fatalf("nobody waiting in the demo: %v", err)
	}
}
