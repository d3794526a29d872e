package storage

import (
	"context"
	"slices"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

func TestSearchRecordsAtJumpsToAnyRow(t *testing.T) {
	e, all := searchEnv(t, 5000, 3)
	ctx := context.Background()
	for _, f := range []RecordFilter{{}, {Text: "满意"}, {Text: "退款发货"}, {Worker: "amy@teashop"}} {
		want := bruteForce(all, f)
		for _, off := range []int{0, 1, 199, 200, 1234, len(want) - 3, len(want), len(want) + 10} {
			p, err := e.db.SearchRecordsAt(ctx, e.acct, f, off, 200)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range p.Records {
				got = append(got, r.ID)
			}
			end := min(max(off, 0)+200, len(want))
			var exp []int64
			if off < len(want) {
				exp = want[off:end]
			}
			if !slices.Equal(got, exp) || p.More != (end < len(want)) {
				t.Errorf("%+v at %d: %d rows (more %v), want %d", f, off, len(got), p.More, len(exp))
			}
		}
	}
}

func TestSearchByManyCustomers(t *testing.T) {
	e, all := searchEnv(t, 3000, 2)
	ctx := context.Background()
	some := []string{all[10].OpenID, all[500].OpenID, all[2000].OpenID}
	for _, text := range []string{"", "满意", "ok"} {
		var want []int64
		for _, id := range bruteForce(all, RecordFilter{Text: text}) {
			i := slices.IndexFunc(all, func(r Record) bool { return r.ID == id })
			if slices.Contains(some, all[i].OpenID) {
				want = append(want, id)
			}
		}
		p, err := e.db.SearchRecords(ctx, e.acct, RecordFilter{Text: text, OpenIDs: some}, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, want) || text == "" && len(want) < 3 {
			t.Errorf("%q: %v, want %v", text, got, want)
		}
	}
}

func TestCustomerStateAndReplyWindow(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()
	if _, ok, err := e.db.LastRecordSync(ctx, e.acct); ok || err != nil {
		t.Fatalf("never synced: ok %v err %v", ok, err)
	}
	at := func(s int64) int64 { return e.at(1, s) }
	e.srv.AddRecords(
		wechattest.Record{OpenID: "alice", OperCode: 2003, Text: "在吗", Time: at(11)},
		wechattest.Record{OpenID: "alice", OperCode: 2002, Text: "在", Time: at(12), Worker: "kf"},
		wechattest.Record{OpenID: "alice", OperCode: 1004, Time: at(500), Worker: "kf"},
		wechattest.Record{OpenID: "bob", OperCode: 2002, Text: "您好", Time: at(100), Worker: "kf"},
	)
	for i := range 5 {
		e.srv.AddRecords(wechattest.Record{OpenID: "carol", OperCode: 2003, Text: "hi", Time: at(20)},
			wechattest.Record{OpenID: "carol", OperCode: 2002, Text: "reply", Time: at(30 + int64(i)), Worker: "kf"})
	}
	if _, err := e.syncer().Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := e.db.LastRecordSync(ctx, e.acct); !ok || err != nil || at.Unix() != e.clock.Now().Unix() {
		t.Fatalf("last sync %v %v %v", at, ok, err)
	}
	alice, err := e.db.CustomerState(ctx, e.acct, "alice")
	if err != nil || !alice.LastMessage.Equal(time.Unix(at(11), 0)) || alice.RepliesSince != 1 || !alice.LastActivity.Equal(time.Unix(at(500), 0)) {
		t.Fatalf("alice %+v %v", alice, err)
	}
	if w := alice.Reply(e.clock.Now()); w.State != api.ReplyOpen || !w.Until.Equal(time.Unix(at(11), 0).Add(48*time.Hour)) {
		t.Fatalf("alice's window: %+v", w)
	}
	if w := alice.Reply(time.Unix(at(11), 0).Add(48*time.Hour + time.Second)); w.State != api.ReplyClosed {
		t.Fatal("open after 48 hours")
	}
	bob, _ := e.db.CustomerState(ctx, e.acct, "bob")
	if w := bob.Reply(e.clock.Now()); w.State != api.ReplyUnknown || !bob.LastMessage.IsZero() {
		t.Fatalf("bob never wrote: %+v", bob)
	}
	carol, _ := e.db.CustomerState(ctx, e.acct, "carol")
	if w := carol.Reply(e.clock.Now()); w.State != api.ReplyUsedUp || carol.RepliesSince != 5 {
		t.Fatalf("carol used her 5 replies: %+v", carol)
	}
	nobody, err := e.db.CustomerState(ctx, e.acct, "nobody")
	if err != nil || !nobody.LastActivity.IsZero() {
		t.Fatalf("unknown customer %+v %v", nobody, err)
	}
}
