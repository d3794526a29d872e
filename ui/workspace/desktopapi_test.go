package workspace_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// The desktop feed (issue 11 §5) read straight from the workspace.

// A feed read that is waiting is woken by the push Receive stores — not by
// looking at the database again (the fallback is an hour here) — and one with
// nothing new answers an empty list and the same cursor when its wait ends.
func TestFeedWakesOnAStoredPush(t *testing.T) {
	waiting := make(chan struct{}, 1)
	workspace.FeedHooks(t, func() { waiting <- struct{}{} }, time.Hour)
	e := newPushEnv(t)
	ctx := context.Background()
	type answer struct {
		entries []workspace.FeedEntry
		cursor  int64
		err     error
	}
	got := make(chan answer, 1)
	go func() {
		es, c, err := e.ws.Feed(ctx, workspace.FeedQuery{Accounts: []int64{e.acct.ID}, Wait: workspace.FeedMaxWait})
		got <- answer{es, c, err}
	}()
	<-waiting // it read, found nothing, and waits
	e.push(t, wechattest.Text(jobCustomer, "刚到"))
	a := <-got
	if a.err != nil || len(a.entries) != 1 || a.entries[0].Content != "刚到" || a.cursor != a.entries[0].ID {
		t.Fatalf("the waiting read answered %+v", a)
	}
	es, c, err := e.ws.Feed(ctx, workspace.FeedQuery{Accounts: []int64{e.acct.ID}, Cursor: a.cursor, Wait: 20 * time.Millisecond})
	<-waiting
	if err != nil || len(es) != 0 || c != a.cursor {
		t.Fatalf("a read with nothing new: %d entries, cursor %d (want %d), %v", len(es), c, a.cursor, err)
	}
}

// Reading from cursor to cursor while pushes of two accounts are stored at once
// sees every push of the accounts asked for exactly once, in order, across pages,
// and none of another account.
func TestFeedCursorsNeverSkipOrRepeat(t *testing.T) {
	workspace.FeedHooks(t, nil, 5*time.Millisecond)
	e := newPushEnv(t)
	ctx := context.Background()
	b, err := e.ws.DB.AddAccount(ctx, storage.Account{Name: "second", Kind: storage.KindOA, AppID: "wxsecond0000000001", APIBase: e.wechat.URL})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.ws.DB.AddAccount(ctx, storage.Account{Name: "not served", Kind: storage.KindOA, AppID: "wxnotserved0000001", APIBase: e.wechat.URL})
	if err != nil {
		t.Fatal(err)
	}
	const each = 250 // more than a page (FeedLimit)
	var wg sync.WaitGroup
	for _, acct := range []int64{e.acct.ID, b.ID, c.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				p := storage.Push{CreateTime: time.Unix(1764547200+int64(i), 0), OpenID: jobCustomer, MsgType: "text",
					MsgID: fmt.Sprint(acct*1000 + int64(i)), Content: "m", Raw: []byte("<xml/>"), BodyFormat: storage.FormatXML}
				if _, _, err := e.ws.DB.StorePush(ctx, acct, p); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	stored := make(chan struct{})
	go func() { wg.Wait(); close(stored) }()
	seen := map[int64]bool{}
	var cursor, last int64
	served := []int64{e.acct.ID, b.ID}
	for done := false; ; {
		select {
		case <-stored:
			done = true
		default:
		}
		es, next, err := e.ws.Feed(ctx, workspace.FeedQuery{Accounts: served, Cursor: cursor, Wait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) > workspace.FeedLimit {
			t.Fatalf("%d entries in one answer", len(es))
		}
		for _, x := range es {
			if seen[x.ID] || x.ID <= last || x.AccountID == c.ID {
				t.Fatalf("push %d (account %d) again, out of order or not served", x.ID, x.AccountID)
			}
			seen[x.ID], last = true, x.ID
		}
		cursor = next
		if done && len(es) == 0 {
			break // read after the last store: everything is in
		}
	}
	if len(seen) != 2*each {
		t.Fatalf("%d pushes seen, want %d", len(seen), 2*each)
	}
}
