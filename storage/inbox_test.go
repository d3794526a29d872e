package storage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

// syncPage stores recs as one getmsglist page would: each with its occurrence
// among identical records of the page (records.go's identity).
func syncPage(t *testing.T, db *DB, acct int64, recs ...api.Record) int {
	t.Helper()
	seen := map[string]int{}
	var page []pendingRecord
	for i, r := range recs {
		k := recordKey(r)
		page = append(page, pendingRecord{Record: r, key: k, occ: seen[string(k)], n: int64(i)})
		seen[string(k)]++
	}
	added, err := db.storePage(context.Background(), acct, BeijingDay(pushT0), page, true, false, len(recs), pushT0)
	if err != nil {
		t.Fatal(err)
	}
	return added
}

// archived lists the customer's records as "opercode worker text", oldest first,
// each marked + when linked to a push.
func archived(t *testing.T, db *DB, acct int64, openid string) []string {
	t.Helper()
	items, err := db.InboxItems(context.Background(), acct, openid, time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Record.ID == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s %s", it.Record.OperCode, it.Record.Worker, it.Record.Text)
		if it.Push != nil {
			s += " +"
		}
		out = append(out, s)
	}
	return out
}

func archivePush(t *testing.T, db *DB, acct int64, p Push) {
	t.Helper()
	id := mustStore(t, db, acct, p)
	if _, err := db.ArchivePush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ArchivePush(context.Background(), id); err != nil { // a second time changes nothing
		t.Fatal(err)
	}
}

func imagePush(openid string, at time.Time, msgID string) Push {
	p := textPush(openid, at, msgID, "")
	p.MsgType, p.Content, p.MediaID, p.Raw = "image", "", "media"+msgID, []byte("<xml>image "+msgID+"</xml>")
	return p
}

// The no-double rule (inbox.go): a customer message that arrives as a push and as a
// getmsglist record is archived once, whichever comes first; identical messages of
// one second are matched as multisets; a KF message or another second never matches.
func TestPushAndRecordOfOneMessageAreArchivedOnce(t *testing.T) {
	const alice = "oAlice00000000000000000000001"
	t0 := pushT0
	rec := func(code int, text string, at time.Time) api.Record {
		worker := "kf1@teashop"
		return api.Record{OpenID: alice, OperCode: code, Text: text, Time: at.Unix(), Worker: worker}
	}
	for _, tc := range []struct {
		name    string
		pushes  []Push
		records [][]api.Record // getmsglist answers, one after the other (each the whole day so far)
		first   bool           // records before pushes
		want    []string
	}{
		{name: "push first", pushes: []Push{textPush(alice, t0, "1", "你好")},
			records: [][]api.Record{{rec(2003, "你好", t0)}, {rec(2003, "你好", t0)}},
			want:    []string{"2003 kf1@teashop 你好 +"}},
		{name: "record first", first: true, pushes: []Push{textPush(alice, t0, "1", "你好")},
			records: [][]api.Record{{rec(2003, "你好", t0)}},
			want:    []string{"2003 kf1@teashop 你好 +"}},
		{name: "an image is [image]", pushes: []Push{imagePush(alice, t0, "2")},
			records: [][]api.Record{{rec(2003, "[image]", t0)}},
			want:    []string{"2003 kf1@teashop [image] +"}},
		{name: "repeated in one second, both sources", pushes: []Push{textPush(alice, t0, "1", "好"), textPush(alice, t0, "2", "好")},
			records: [][]api.Record{{rec(2003, "好", t0)}, {rec(2003, "好", t0), rec(2003, "好", t0)}},
			want:    []string{"2003 kf1@teashop 好 +", "2003 kf1@teashop 好 +"}},
		{name: "three pushes, two records", pushes: []Push{textPush(alice, t0, "1", "好"), textPush(alice, t0, "2", "好"), textPush(alice, t0, "3", "好")},
			records: [][]api.Record{{rec(2003, "好", t0), rec(2003, "好", t0)}},
			want:    []string{"2003 kf1@teashop 好 +", "2003 kf1@teashop 好 +", "2001  好 +"}},
		{name: "two records, then one push", first: true, pushes: []Push{textPush(alice, t0, "1", "好")},
			records: [][]api.Record{{rec(2003, "好", t0), rec(2003, "好", t0)}},
			want:    []string{"2003 kf1@teashop 好 +", "2003 kf1@teashop 好"}},
		{name: "another second is another message", pushes: []Push{textPush(alice, t0, "1", "好")},
			records: [][]api.Record{{rec(2003, "好", t0.Add(time.Second))}},
			want:    []string{"2001  好 +", "2003 kf1@teashop 好"}},
		{name: "a KF message never matches", pushes: []Push{textPush(alice, t0, "1", "好")},
			records: [][]api.Record{{rec(2002, "好", t0)}},
			want:    []string{"2001  好 +", "2002 kf1@teashop 好"}},
		{name: "other text", pushes: []Push{textPush(alice, t0, "1", "好")},
			records: [][]api.Record{{rec(2003, "好的", t0)}},
			want:    []string{"2001  好 +", "2003 kf1@teashop 好的"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, acct := pushEnv(t)
			if !tc.first {
				for _, p := range tc.pushes {
					archivePush(t, db, acct, p)
				}
			}
			for _, page := range tc.records {
				syncPage(t, db, acct, page...)
			}
			if tc.first {
				for _, p := range tc.pushes {
					archivePush(t, db, acct, p)
				}
				syncPage(t, db, acct, tc.records[len(tc.records)-1]...) // a re-sync after the push adds nothing
			}
			got := archived(t, db, acct, alice)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("archived\n%q\nwant\n%q", got, tc.want)
			}
			rows, err := db.InboxRows(context.Background(), acct, InboxQuery{})
			if err != nil || len(rows) != 1 || rows[0].Unread != len(tc.want)-countKF(tc.want) {
				t.Fatalf("inbox rows %+v %v", rows, err)
			}
		})
	}
}

func countKF(lines []string) int {
	n := 0
	for _, l := range lines {
		if l[:4] == "2002" {
			n++
		}
	}
	return n
}

// The conversation summary follows the records whatever order they are stored in:
// the newest record, the customer's newest message and the KF replies since it,
// unread counts until marked read; a deleted customer leaves no conversation.
func TestInboxSummaryFollowsTheRecords(t *testing.T) {
	ctx := context.Background()
	db, acct := pushEnv(t)
	const alice, bob = "oAlice00000000000000000000001", "oBob0000000000000000000000001"
	t0 := pushT0.Unix()
	r := func(openid string, code int, text string, s int64, worker string) api.Record {
		return api.Record{OpenID: openid, OperCode: code, Text: text, Time: t0 + s, Worker: worker}
	}
	// Stored newest day first, as a sync of a range may: the older page comes second.
	syncPage(t, db, acct, r(alice, 2003, "还在吗", 100, "kf1@teashop"), r(alice, 2002, "在的", 110, "kf2@teashop"))
	syncPage(t, db, acct, r(alice, 2003, "你好", 10, "kf1@teashop"), r(alice, 2002, "您好", 20, "kf1@teashop"),
		r(bob, 2003, "发票怎么开", 50, "kf3@teashop"), r(bob, 1004, "", 60, "kf3@teashop"))
	rows, err := db.InboxRows(ctx, acct, InboxQuery{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%+v %v", rows, err)
	}
	a, b := rows[0], rows[1]
	if a.OpenID != alice || a.LastText != "在的" || a.LastOperCode != 2002 || a.KF != "kf2@teashop" || a.Unread != 2 ||
		a.CustomerAt.Unix() != t0+100 || a.Replies != 1 || a.LastAt.Unix() != t0+110 {
		t.Fatalf("alice %+v", a)
	}
	if b.OpenID != bob || b.LastOperCode != 1004 || b.Unread != 1 || b.Replies != 0 || b.KF != "kf3@teashop" {
		t.Fatalf("bob %+v", b)
	}
	if err := db.MarkInboxRead(ctx, acct, alice); err != nil {
		t.Fatal(err)
	}
	syncPage(t, db, acct, r(alice, 2003, "谢谢", 200, "kf2@teashop"))
	if n, err := db.InboxUnread(ctx, acct); err != nil || n != 2 {
		t.Fatalf("unread %d %v, want bob's 1 and alice's new 1", n, err)
	}
	for q, want := range map[string]InboxQuery{
		alice:                       {KF: "kf2@teashop"},
		bob + " (search)":           {Search: "发票"},
		alice + " " + bob:           {UnreadOnly: true},
		alice + " (from 150)":       {MessageFrom: time.Unix(t0+150, 0)},
		bob + " (search by openid)": {Search: "oBob"},
	} {
		rows, err := db.InboxRows(ctx, acct, want)
		var got string
		for _, r := range rows {
			got += r.OpenID + " "
		}
		if err != nil || len(rows) == 0 || got[:len(rows[0].OpenID)] != q[:len(rows[0].OpenID)] {
			t.Errorf("%+v: %q %v, want %s", want, got, err, q)
		}
	}
	if err := db.SetInboxWaiting(ctx, acct, []WaitCase{{OpenID: "oNew00000000000000000000000001", Since: time.Unix(t0+5, 0)}, {OpenID: bob, Since: time.Unix(t0+50, 0)}}); err != nil {
		t.Fatal(err)
	}
	rows, _ = db.InboxRows(ctx, acct, InboxQuery{})
	if len(rows) != 3 || rows[0].OpenID != "oNew00000000000000000000000001" || rows[0].WaitingSince.Unix() != t0+5 || rows[1].OpenID != bob || rows[2].OpenID != alice {
		t.Fatalf("waiting first, longest waiting on top: %+v", rows)
	}
	if rows, _ := db.InboxRows(ctx, acct, InboxQuery{WaitingOnly: true}); len(rows) != 2 {
		t.Fatalf("waiting only: %+v", rows)
	}
	if _, err := db.DeleteCustomerData(ctx, acct, alice); err != nil {
		t.Fatal(err)
	}
	if rows, _ := db.InboxRows(ctx, acct, InboxQuery{}); len(rows) != 2 {
		t.Fatalf("after deleting alice's data: %+v", rows)
	}
}

// A full page of a conversation never ends inside a second, so paging back with the
// first entry's time sees every entry once; pushed events come in time order.
func TestInboxItemsPageWithoutSkippingASecond(t *testing.T) {
	ctx := context.Background()
	db, acct := pushEnv(t)
	const alice = "oAlice00000000000000000000001"
	var recs []api.Record
	for i := range 30 {
		recs = append(recs, api.Record{OpenID: alice, OperCode: 2003, Text: fmt.Sprint(i), Time: pushT0.Unix() + int64(i/3), Worker: "k"})
	}
	syncPage(t, db, acct, recs...)
	mustStore(t, db, acct, eventPush(alice, pushT0.Add(4*time.Second), "CLICK", "menu1"))
	var got []string
	before := time.Time{}
	for range 20 {
		page, err := db.InboxItems(ctx, acct, alice, before, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		var texts []string
		for _, it := range page {
			if it.Record.ID == 0 {
				texts = append(texts, it.Push.Event)
			} else {
				texts = append(texts, it.Record.Text)
			}
		}
		got = append(texts, got...)
		before = page[0].At()
	}
	want := "[0 1 2 3 4 5 6 7 8 9 10 11 CLICK 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29]"
	if fmt.Sprint(got) != want {
		t.Fatalf("paged back:\n%v\nwant\n%s", got, want)
	}
}

// Upgrading an archive to the inbox (migration 0008) summarises the records already
// there: each customer's newest record, last message and replies since, all read.
func TestInboxMigrationSummarisesAnExistingArchive(t *testing.T) {
	ctx := context.Background()
	db, acct := pushEnv(t)
	const alice, bob = "oAlice00000000000000000000001", "oBob0000000000000000000000001"
	t0 := pushT0.Unix()
	syncPage(t, db, acct,
		api.Record{OpenID: alice, OperCode: 2003, Text: "你好", Time: t0, Worker: "kf1@teashop"},
		api.Record{OpenID: alice, OperCode: 2002, Text: "您好", Time: t0 + 1, Worker: "kf2@teashop"},
		api.Record{OpenID: alice, OperCode: 2002, Text: "在吗", Time: t0 + 2, Worker: "kf2@teashop"},
		api.Record{OpenID: bob, OperCode: 1000, Time: t0 + 3},
		api.Record{OpenID: bob, OperCode: 2003, Text: "发票", Time: t0 + 4})
	want, err := db.InboxRows(ctx, acct, InboxQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 0008, with the records kept, then open again.
	if _, err := db.Writer().Exec(`DROP TRIGGER inbox_record_insert; DROP TRIGGER inbox_record_delete;
		DROP TABLE inbox_conversations; DROP TABLE inbox_waiting; DROP TABLE record_pushes; DROP TABLE inbox_feed;
		DELETE FROM schema_migrations WHERE version = 8`); err != nil {
		t.Fatal(err)
	}
	if err := db.migrate(ctx, migrationFS); err != nil {
		t.Fatal(err)
	}
	got, err := db.InboxRows(ctx, acct, InboxQuery{})
	if err != nil || len(got) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	for i := range want {
		want[i].Unread = 0 // what was archived before counts as read
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("after the migration\n%+v\nwant\n%+v", got, want)
	}
	if got[1].Replies != 2 || got[1].KF != "kf2@teashop" || got[0].KF != "" {
		t.Fatalf("%+v", got)
	}
}

// A first sync builds the conversation summary in one pass at its end (the insert
// trigger skips it meanwhile), all read; a later sync updates it record by record.
func TestFirstSyncSummarisesTheInboxAtItsEnd(t *testing.T) {
	ctx := context.Background()
	e := newSyncEnv(t)
	e.fill(2, 300)
	if _, err := e.syncer().Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := e.db.InboxRows(ctx, e.acct, InboxQuery{Limit: 100})
	if err != nil || len(rows) != 17 {
		t.Fatalf("%d conversations %v, want 17", len(rows), err)
	}
	if n, _ := e.db.InboxUnread(ctx, e.acct); n != 0 {
		t.Fatalf("history of a first sync is unread: %d", n)
	}
	e.srv.AddRecords(wechattest.Record{OpenID: "oUser003", OperCode: 2003, Text: "新消息", Time: e.clock.Now().Unix() - 60, Worker: "kf1@teashop"})
	if _, err := e.syncer().Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _ = e.db.InboxRows(ctx, e.acct, InboxQuery{Limit: 1})
	if len(rows) != 1 || rows[0].OpenID != "oUser003" || rows[0].Unread != 1 || rows[0].LastText != "新消息" {
		t.Fatalf("after the next sync %+v", rows)
	}
}

// A pushed message is in the archive like any record: search finds it (both
// indexes: 1–2 characters and 3 or more), before and after getmsglist confirms it.
func TestPushedMessagesAreSearchable(t *testing.T) {
	const alice = "oAlice00000000000000000000001"
	db, acct := pushEnv(t)
	syncPage(t, db, acct, api.Record{OpenID: "oOther0000000000000000000001", OperCode: 2003, Text: "别的", Time: pushT0.Unix() - 100, Worker: "k"})
	archivePush(t, db, acct, textPush(alice, pushT0, "1", "明前龙井还有货吗"))
	for _, q := range []string{"龙井", "还有货", "明前龙井还有货吗"} {
		if ids := searchIDs(t, db, acct, RecordFilter{Text: q}); len(ids) != 1 {
			t.Errorf("search %q: %v", q, ids)
		}
	}
	syncPage(t, db, acct, api.Record{OpenID: alice, OperCode: 2003, Text: "明前龙井还有货吗", Time: pushT0.Unix(), Worker: "kf1@teashop"})
	if ids := searchIDs(t, db, acct, RecordFilter{Text: "龙井", Worker: "kf1@teashop"}); len(ids) != 1 {
		t.Errorf("after getmsglist: %v", ids)
	}
}

// CustomerWindows answers for many customers at once what CustomerWindow answers for each.
func TestCustomerWindowsAtOnce(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	const a, b, c = "oA000000000000000000000000001", "oB000000000000000000000000001", "oC000000000000000000000000001"
	mustStore(t, db, acct, textPush(a, pushT0, "1", "你好"))
	mustStore(t, db, acct, eventPush(b, pushT0.Add(time.Second), "subscribe", ""))
	logSend(t, db, acct, a, "text", "{}", SendOK, pushT0.Add(2*time.Second))
	logSend(t, db, acct, b, "text", "{}", SendOK, pushT0.Add(3*time.Second))
	logSend(t, db, acct, b, "text", "{}", SendOK, pushT0.Add(4*time.Second))
	ws, err := db.CustomerWindows(ctx, acct, []string{a, b, c})
	if err != nil || len(ws) != 3 {
		t.Fatalf("%+v %v", ws, err)
	}
	for _, id := range []string{a, b, c} {
		one, err := db.CustomerWindow(ctx, acct, id)
		if err != nil || one != ws[id] {
			t.Errorf("%s: alone %+v, at once %+v (%v)", id, one, ws[id], err)
		}
	}
	if ws[a].SendsSinceMessage != 1 || ws[b].Event != "subscribe" || ws[b].SendsSinceEvent != 2 || ws[c] != (PushWindow{}) {
		t.Fatalf("%+v", ws)
	}
}
