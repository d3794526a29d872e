package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

const (
	custA = "oCustomerAAAAAAAAAAAAAAAAAAA"
	custB = "oCustomerBBBBBBBBBBBBBBBBBBB"
)

// pushEnv is a database with one Official Account.
func pushEnv(t *testing.T) (*DB, int64) {
	t.Helper()
	db := openTemp(t)
	a, err := db.AddAccount(context.Background(), Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	return db, a.ID
}

var pushT0 = time.Unix(1764547200, 0) // 2025-12-01 08:00 Beijing

// textPush is a text message as an OA pushes it, its XML body as Raw.
func textPush(openid string, at time.Time, msgID, content string) Push {
	raw := fmt.Sprintf("<xml><ToUserName><![CDATA[gh_teashop]]></ToUserName>\n<FromUserName><![CDATA[%s]]></FromUserName>\n"+
		"<CreateTime>%d</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[%s]]></Content>\n<MsgId>%s</MsgId>\n</xml>",
		openid, at.Unix(), content, msgID)
	return Push{CreateTime: at, ToUser: "gh_teashop", OpenID: openid, MsgType: "text", MsgID: msgID, Content: content,
		Raw: []byte(raw), BodyFormat: FormatXML}
}

func eventPush(openid string, at time.Time, event, key string) Push {
	raw := fmt.Sprintf(`{"ToUserName":"gh_teashop","FromUserName":"%s","CreateTime":%d,"MsgType":"event","Event":"%s","EventKey":"%s"}`,
		openid, at.Unix(), event, key)
	return Push{CreateTime: at, ToUser: "gh_teashop", OpenID: openid, MsgType: MsgTypeEvent, Event: event, EventKey: key,
		Raw: []byte(raw), BodyFormat: FormatJSON}
}

func mustStore(t *testing.T, db *DB, acct int64, p Push, jobs ...JobKind) int64 {
	t.Helper()
	id, dup, err := db.StorePush(context.Background(), acct, p, jobs...)
	if err != nil || dup {
		t.Fatalf("StorePush: id %d duplicate %v: %v", id, dup, err)
	}
	return id
}

func pushCount(t *testing.T, db *DB) (pushes, jobs int) {
	t.Helper()
	if err := db.Reader().QueryRow(`SELECT (SELECT count(*) FROM pushes), (SELECT count(*) FROM push_jobs)`).Scan(&pushes, &jobs); err != nil {
		t.Fatal(err)
	}
	return pushes, jobs
}

func TestStorePushKeepsEveryField(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	pushes := []Push{
		// A MsgId beyond 2^53, as an MP's JSON push carries it: it must come back digit for digit.
		{CreateTime: pushT0, ToUser: "gh_teashop", OpenID: custA, MsgType: "location", MsgID: "9223372036854775807",
			Location: &Location{X: 23.134521, Y: 113.358803, Scale: 20, Label: "广州市天河区"},
			Raw:      []byte("<xml>\n<MsgType>location</MsgType>\n</xml>"), BodyFormat: FormatXML},
		{CreateTime: pushT0, ToUser: "gh_teashop", OpenID: custA, MsgType: "voice", MsgID: "1", MediaID: "m1", Format: "amr",
			Recognition: "我想退款", Raw: []byte("<xml/>"), BodyFormat: FormatXML},
		{CreateTime: pushT0, ToUser: "gh_teashop", OpenID: custA, MsgType: "link", MsgID: "2", Title: "标题", Description: "描述",
			URL: "https://example.com/a?b=c", Raw: []byte("<xml/>"), BodyFormat: FormatXML},
		{CreateTime: pushT0, ToUser: "wxabcdef0123456789", OpenID: custA, MsgType: "miniprogrampage", MsgID: "3", Title: "小程序卡片",
			ThumbMediaID: "t1", Extra: map[string]string{"AppId": "wxabcdef0123456789", "PagePath": "pages/index/index", "ThumbUrl": "https://x/y.jpg"},
			Raw: []byte(`{"MsgType":"miniprogrampage"}`), BodyFormat: FormatJSON},
		{CreateTime: pushT0, ToUser: "gh_teashop", OpenID: custA, MsgType: "text", MsgID: "4", Content: "满意", MenuID: "101",
			Raw: []byte("<xml/>"), BodyFormat: FormatXML},
		{CreateTime: pushT0, ToUser: "gh_teashop", OpenID: custA, MsgType: "event", Event: "kf_switch_session",
			Extra: map[string]string{"FromKfAccount": "a@teashop", "ToKfAccount": "b@teashop"}, Raw: []byte("<xml/>"), BodyFormat: FormatXML},
	}
	for i, p := range pushes {
		before := clock.Now().Add(-time.Second)
		id := mustStore(t, db, acct, p)
		got, err := db.Push(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ReceivedAt.Before(before) || got.AccountID != acct || got.ID != id {
			t.Errorf("%d: id %d account %d received %v", i, got.ID, got.AccountID, got.ReceivedAt)
		}
		p.ID, p.AccountID, p.ReceivedAt = got.ID, got.AccountID, got.ReceivedAt
		if !reflect.DeepEqual(got, p) {
			t.Errorf("%d: stored\n%+v\nread back\n%+v", i, p, got)
		}
	}
	if _, err := db.Push(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing push: %v", err)
	}
}

func TestStorePushDeduplicates(t *testing.T) {
	later := pushT0.Add(time.Second)
	noID := func(openid, content string) Push { p := textPush(openid, pushT0, "", content); p.MsgID = ""; return p }
	for _, c := range []struct {
		name  string
		a, b  Push
		twice bool // b is a:  stored once
	}{
		{"WeChat's retry of a message", textPush(custA, pushT0, "42", "你好"), textPush(custA, pushT0, "42", "你好"), true},
		{"same MsgId from two senders (WxJava#333)", textPush(custA, pushT0, "42", "语音"), textPush(custB, pushT0, "42", "语音"), false},
		{"same MsgId at another time", textPush(custA, pushT0, "42", "x"), textPush(custA, later, "42", "x"), false},
		{"retry of an event", eventPush(custA, pushT0, "subscribe", ""), eventPush(custA, pushT0, "subscribe", ""), true},
		{"unsubscribe pushed again", eventPush(custA, pushT0, "unsubscribe", ""), eventPush(custA, pushT0, "unsubscribe", ""), true},
		{"two events in one second", eventPush(custA, pushT0, "subscribe", "qrscene_7"), eventPush(custA, pushT0, "SCAN", "7"), false},
		{"two menu clicks in one second", eventPush(custA, pushT0, "CLICK", "V1"), eventPush(custA, pushT0, "CLICK", "V2"), false},
		{"one event from two senders", eventPush(custA, pushT0, "CLICK", "V1"), eventPush(custB, pushT0, "CLICK", "V1"), false},
		{"a message and an event", textPush(custA, pushT0, "", "hi"), eventPush(custA, pushT0, "CLICK", ""), false},
		{"retry of a message without MsgId", noID(custA, "甲"), noID(custA, "甲"), true},
		{"two messages without MsgId in one second", noID(custA, "甲"), noID(custA, "乙"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, acct := pushEnv(t)
			ctx := context.Background()
			id1 := mustStore(t, db, acct, c.a, "media", "autoreply")
			id2, dup, err := db.StorePush(ctx, acct, c.b, "media", "autoreply", "notify")
			if err != nil {
				t.Fatal(err)
			}
			pushes, jobs := pushCount(t, db)
			if c.twice {
				if !dup || id2 != id1 || pushes != 1 || jobs != 2 {
					t.Fatalf("retry: duplicate %v, id %d (first %d), %d pushes, %d jobs; want the first and nothing new", dup, id2, id1, pushes, jobs)
				}
				return
			}
			if dup || id2 == id1 || pushes != 2 || jobs != 5 {
				t.Fatalf("two pushes: duplicate %v, ids %d %d, %d pushes, %d jobs", dup, id1, id2, pushes, jobs)
			}
		})
	}
	t.Run("one message in two accounts", func(t *testing.T) {
		db, acct := pushEnv(t)
		b, err := db.AddAccount(context.Background(), Account{Name: "bakery", Kind: KindMP, AppID: "wxabcdef0123456789"})
		if err != nil {
			t.Fatal(err)
		}
		mustStore(t, db, acct, textPush(custA, pushT0, "42", "x"))
		mustStore(t, db, b.ID, textPush(custA, pushT0, "42", "x"))
	})
}

// failJobsTrigger makes the write of a "notify" job fail, as a full disk would,
// after the push and its first job are written in the same transaction.
const failJobsTrigger = `CREATE TRIGGER fail_notify BEFORE INSERT ON push_jobs WHEN NEW.kind = 'notify'
	BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`

func TestStorePushIsAllOrNothing(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	if _, err := db.Writer().Exec(failJobsTrigger); err != nil {
		t.Fatal(err)
	}
	p := textPush(custA, pushT0, "7", "你好")
	if _, _, err := db.StorePush(ctx, acct, p, "media", "notify"); err == nil {
		t.Fatal("the failing job write did not fail the push")
	}
	if pushes, jobs := pushCount(t, db); pushes != 0 || jobs != 0 {
		t.Fatalf("after a failed store: %d pushes, %d jobs; want none", pushes, jobs)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := db.StorePush(cancelled, acct, p, "media"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// WeChat's retry finds nothing half-stored: it is stored, as new, with its jobs.
	if _, err := db.Writer().Exec(`DROP TRIGGER fail_notify`); err != nil {
		t.Fatal(err)
	}
	if _, dup, err := db.StorePush(ctx, acct, p, "media", "notify"); err != nil || dup {
		t.Fatalf("retry: duplicate %v, %v", dup, err)
	}
	if pushes, jobs := pushCount(t, db); pushes != 1 || jobs != 2 {
		t.Fatalf("after the retry: %d pushes, %d jobs", pushes, jobs)
	}
}

func TestStorePushRefusesWhatIsNotAPush(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	good := textPush(custA, pushT0, "1", "x")
	for field, p := range map[string]Push{
		"openid":      func() Push { p := good; p.OpenID = ""; return p }(),
		"msgtype":     func() Push { p := good; p.MsgType = ""; return p }(),
		"event":       func() Push { p := eventPush(custA, pushT0, "", ""); return p }(),
		"create_time": func() Push { p := good; p.CreateTime = time.Time{}; return p }(),
		"body_format": func() Push { p := good; p.BodyFormat = "form"; return p }(),
		"raw":         func() Push { p := good; p.Raw = nil; return p }(),
		"push":        func() Push { p := good; p.Content = "\xff\xfe"; return p }(),
	} {
		_, _, err := db.StorePush(ctx, acct, p)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field || ve.Chinese == "" || ve.English == "" {
			t.Errorf("%s: %v", field, err)
		}
	}
	var ve *ValidationError
	if _, _, err := db.StorePush(ctx, acct, good, ""); !errors.As(err, &ve) || ve.Field != "job" {
		t.Errorf("empty job kind: %v", err)
	}
	if _, _, err := db.StorePush(ctx, acct+100, good); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if pushes, _ := pushCount(t, db); pushes != 0 {
		t.Fatalf("%d pushes stored", pushes)
	}
}

// readFeed reads every push after cursor, limit at a time, as the desktop feed does.
func readFeed(t *testing.T, db *DB, acct, cursor int64, limit int) ([]int64, int64) {
	t.Helper()
	var ids []int64
	for {
		page, err := db.PushesSince(context.Background(), acct, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return ids, cursor
		}
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		cursor = page[len(page)-1].ID
	}
}

func TestPushesSinceNeverSkipsOrRepeats(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	other, err := db.AddAccount(ctx, Account{Name: "bakery", Kind: KindMP, AppID: "wxabcdef0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	var mine, all []int64
	for i := range 7 {
		id := mustStore(t, db, acct, textPush(custA, pushT0.Add(time.Duration(i)*time.Second), "1", "x"))
		mine, all = append(mine, id), append(all, id)
		all = append(all, mustStore(t, db, other.ID, textPush(custB, pushT0.Add(time.Duration(i)*time.Second), "1", "y")))
	}
	if got, _ := readFeed(t, db, acct, 0, 2); !slices.Equal(got, mine) {
		t.Fatalf("account feed %v, want %v", got, mine)
	}
	got, cursor := readFeed(t, db, 0, 0, 3)
	if !slices.Equal(got, all) {
		t.Fatalf("all accounts %v, want %v", got, all)
	}
	// The newest push deleted (its customer's data), then a new one: a reader at the
	// deleted push's id must still get it (ids are never given out twice).
	if _, err := db.DeleteCustomerData(ctx, other.ID, custB); err != nil {
		t.Fatal(err)
	}
	id := mustStore(t, db, acct, textPush(custA, pushT0.Add(time.Hour), "9", "new"))
	if got, _ := readFeed(t, db, 0, cursor, 3); !slices.Equal(got, []int64{id}) {
		t.Fatalf("after deleting the newest push, the feed from %d gave %v, want [%d]", cursor, got, id)
	}
}

func TestPushesSinceWhileStoring(t *testing.T) {
	db, acct := pushEnv(t)
	const n = 300
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if _, _, err := db.StorePush(context.Background(), acct, textPush(custA, pushT0, fmt.Sprint(i), "x"), "notify"); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var seen []int64
	cursor := int64(0)
	done := false
	for !done {
		// Whether the writer was done before this read: then this read is the last.
		wg.Wait()
		done = true
		ids, next := readFeed(t, db, acct, cursor, 7)
		seen, cursor = append(seen, ids...), next
	}
	if len(seen) != n || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != n {
		t.Fatalf("read %d pushes while %d were stored (sorted %v)", len(seen), n, slices.IsSorted(seen))
	}
}

func TestPushCursorAtAndMedia(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	first := mustStore(t, db, acct, textPush(custA, pushT0, "1", "x"))
	mid := clock.Now().Add(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	second := mustStore(t, db, acct, textPush(custA, pushT0, "2", "y"))
	if c, err := db.PushCursorAt(ctx, acct, mid); err != nil || c != first {
		t.Fatalf("cursor at %v: %d %v, want %d", mid, c, err, first)
	}
	if c, err := db.PushCursorAt(ctx, 0, mid.Add(-time.Hour)); err != nil || c != 0 {
		t.Fatalf("cursor before everything: %d %v", c, err)
	}
	if err := db.SetPushMedia(ctx, second, "/data/media/2.jpg", 12345); err != nil {
		t.Fatal(err)
	}
	p, err := db.Push(ctx, second)
	if err != nil || p.MediaPath != "/data/media/2.jpg" || p.MediaSize != 12345 {
		t.Fatalf("media %q %d %v", p.MediaPath, p.MediaSize, err)
	}
	if err := db.SetPushMedia(ctx, 999, "x", 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing push: %v", err)
	}
}

func logSend(t *testing.T, db *DB, acct int64, to, msgtype, body, status string, at time.Time) int64 {
	t.Helper()
	id, err := db.LogSend(context.Background(), acct, SendLogEntry{Time: at, ToUser: to, MsgType: msgtype, Body: body, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func menuBody(to string, opts ...string) string {
	m := &api.Message{ToUser: to, MsgType: api.TypeMsgMenu, MsgMenu: &api.MsgMenu{HeadContent: "您对本次服务满意吗？"}}
	for i := 0; i < len(opts); i += 2 {
		m.MsgMenu.List = append(m.MsgMenu.List, api.MenuOption{ID: opts[i], Content: opts[i+1]})
	}
	b, err := m.JSON()
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestMenuChoice(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	logSend(t, db, acct, custA, "msgmenu", menuBody(custA, "101", "满意", "102", "不满意"), SendOK, pushT0)
	second := logSend(t, db, acct, custA, "msgmenu", menuBody(custA, "101", "非常满意", "103", "一般"), SendUnknown, pushT0.Add(time.Minute))
	// Newer but refused by WeChat: the customer never saw it.
	logSend(t, db, acct, custA, "msgmenu", menuBody(custA, "101", "从未送达"), SendFailed, pushT0.Add(2*time.Minute))
	logSend(t, db, acct, custA, "msgmenu", "not json", SendOK, pushT0.Add(3*time.Minute))
	logSend(t, db, acct, custA, "text", `{"touser":"x","msgtype":"text","text":{"content":"101"}}`, SendOK, pushT0.Add(4*time.Minute))
	// Written by hand with numeric ids: still found.
	logSend(t, db, acct, custB, "msgmenu", `{"touser":"b","msgtype":"msgmenu","msgmenu":{"list":[{"id":7,"content":"七"}]}}`, SendOK, pushT0)

	for _, c := range []struct {
		openid, id string
		want       string
		send       int64
	}{
		{custA, "101", "非常满意", second},
		{custA, "102", "不满意", 0},
		{custA, "103", "一般", second},
		{custA, "0", "", 0},
		{custA, "104", "", 0},
		{custB, "101", "", 0},
		{custB, "7", "七", 0},
	} {
		a, ok, err := db.MenuChoice(ctx, acct, c.openid, c.id)
		if err != nil || ok != (c.want != "") || a.Option != c.want || (c.send != 0 && a.SendID != c.send) {
			t.Errorf("%s %s: %+v %v %v; want %q", c.openid[:10], c.id, a, ok, err, c.want)
		}
	}
}

func TestCustomerWindowFromPushes(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	w, err := db.CustomerWindow(ctx, acct, custA)
	if err != nil || w != (PushWindow{}) {
		t.Fatalf("no pushes: %+v %v", w, err)
	}
	msgAt := pushT0
	logSend(t, db, acct, custA, "text", "{}", SendOK, msgAt.Add(-time.Minute)) // before: not counted
	mustStore(t, db, acct, textPush(custA, msgAt.Add(-time.Hour), "1", "earlier"))
	mustStore(t, db, acct, textPush(custA, msgAt, "2", "latest"))
	mustStore(t, db, acct, eventPush(custA, msgAt.Add(10*time.Second), "CLICK", "V1"))
	mustStore(t, db, acct, eventPush(custA, msgAt.Add(20*time.Second), "VIEW", "https://x")) // gives no sends
	mustStore(t, db, acct, textPush(custB, msgAt.Add(time.Hour), "3", "someone else"))
	logSend(t, db, acct, custA, "text", "{}", SendOK, msgAt.Add(5*time.Second))
	logSend(t, db, acct, custA, "text", "{}", SendFailed, msgAt.Add(6*time.Second)) // refused: not counted
	logSend(t, db, acct, custA, "text", "{}", SendUnknown, msgAt.Add(15*time.Second))
	logSend(t, db, acct, custB, "text", "{}", SendOK, msgAt.Add(16*time.Second))

	w, err = db.CustomerWindow(ctx, acct, custA)
	want := PushWindow{LastMessage: msgAt, SendsSinceMessage: 2, LastEvent: msgAt.Add(10 * time.Second), Event: "CLICK", SendsSinceEvent: 1}
	if err != nil || w != want {
		t.Fatalf("window\n%+v, want\n%+v (%v)", w, want, err)
	}
	// The facts feed the one rule.
	if s := api.ReplyWindowAt(w.LastMessage, w.SendsSinceMessage, msgAt.Add(time.Hour)); s.State != api.ReplyOpen || s.Left != 3 {
		t.Fatalf("reply window %+v", s)
	}
	// A tap on a menu message is a menu click for WeChat, not a customer message.
	tap := textPush(custA, msgAt.Add(30*time.Second), "5", "满意")
	tap.MenuID = "101"
	mustStore(t, db, acct, tap)
	w, err = db.CustomerWindow(ctx, acct, custA)
	want = PushWindow{LastMessage: msgAt, SendsSinceMessage: 2, LastEvent: msgAt.Add(30 * time.Second), Event: EventMenuTap}
	if err != nil || w != want {
		t.Fatalf("after a menu tap\n%+v, want\n%+v (%v)", w, want, err)
	}
	// A Mini Program customer entering the KF session.
	mustStore(t, db, acct, eventPush(custB, msgAt.Add(2*time.Hour), "user_enter_tempsession", ""))
	if w, err := db.CustomerWindow(ctx, acct, custB); err != nil || w.Event != "user_enter_tempsession" ||
		!w.LastEvent.Equal(msgAt.Add(2*time.Hour)) || w.SendsSinceEvent != 0 || w.SendsSinceMessage != 0 {
		t.Fatalf("MP window %+v %v", w, err)
	}
}

// searchIDs is every record id a search finds.
func searchIDs(t *testing.T, db *DB, acct int64, f RecordFilter) []int64 {
	t.Helper()
	var ids []int64
	var cur RecordCursor
	for {
		p, err := db.SearchRecords(context.Background(), acct, f, cur, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			ids = append(ids, r.ID)
		}
		if !p.More {
			return ids
		}
		cur = p.Next
	}
}

func storeRecords(t *testing.T, db *DB, acct int64, recs ...api.Record) {
	t.Helper()
	var page []pendingRecord
	for i, r := range recs {
		page = append(page, pendingRecord{Record: r, key: recordKey(r), n: int64(i)})
	}
	if _, err := db.storePage(context.Background(), acct, BeijingDay(pushT0), page, true, true, len(recs), pushT0); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteCustomerData(t *testing.T) {
	for _, deferred := range []bool{false, true} {
		t.Run(fmt.Sprintf("index deferred %v", deferred), func(t *testing.T) {
			db, acct := pushEnv(t)
			ctx := context.Background()
			if deferred { // a first sync whose index is not built yet: search scans the records
				if _, err := db.deferIndexIfEmpty(ctx, acct, pushT0); err != nil {
					t.Fatal(err)
				}
			}
			ts := pushT0.Unix()
			storeRecords(t, db, acct,
				api.Record{OpenID: custA, OperCode: 2003, Text: "请问退款多久到账", Time: ts},
				api.Record{OpenID: custA, OperCode: 2002, Worker: "kf1@teashop", Text: "退款三天到账", Time: ts + 1},
				api.Record{OpenID: custA, OperCode: 1000, Text: "", Time: ts + 2},
				api.Record{OpenID: custB, OperCode: 2003, Text: "退款到账了吗", Time: ts + 3})
			a1 := mustStore(t, db, acct, textPush(custA, pushT0, "1", "退款"), "media")
			a2 := mustStore(t, db, acct, textPush(custA, pushT0, "2", "图片"), "media")
			b1 := mustStore(t, db, acct, textPush(custB, pushT0, "1", "退款"), "media")
			for id, path := range map[int64]string{a1: "/m/a1.jpg", a2: "/m/a2.amr", b1: "/m/b1.jpg"} {
				if err := db.SetPushMedia(ctx, id, path, 10); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []string{custA, custB} {
				if err := db.SetNote(ctx, acct, c, "老顾客"); err != nil {
					t.Fatal(err)
				}
				logSend(t, db, acct, c, "text", "{}", SendOK, pushT0)
				if _, err := db.ClaimDefaultReply(ctx, acct, c, pushT0); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.ReplaceFollowers(ctx, acct, []string{custA, custB}, 2, pushT0); err != nil {
				t.Fatal(err)
			}
			for q, want := range map[string]int{"退款": 3, "退款多久": 1, "到账": 3} {
				if n := len(searchIDs(t, db, acct, RecordFilter{Text: q})); n != want {
					t.Fatalf("before: %q finds %d", q, n)
				}
			}

			d, err := db.DeleteCustomerData(ctx, acct, custA)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(d.MediaPaths)
			if d.Pushes != 2 || d.Records != 3 || d.Sends != 1 || !d.Note || !slices.Equal(d.MediaPaths, []string{"/m/a1.jpg", "/m/a2.amr"}) {
				t.Fatalf("deleted %+v", d)
			}
			// Search (the index, or the scan while the index is deferred) finds only B's record.
			for _, q := range []string{"退款", "退款多久", "请问", "三天", "到账", "款"} {
				got := searchIDs(t, db, acct, RecordFilter{Text: q})
				want := 0
				if q == "退款" || q == "到账" || q == "款" {
					want = 1
				}
				if len(got) != want {
					t.Fatalf("after deleting A, %q finds %d records, want %d", q, len(got), want)
				}
			}
			// And the indexes themselves hold nothing of A (the search's join would hide stale entries).
			for q, want := range map[string]int{`SELECT count(*) FROM records_fts WHERE records_fts MATCH '"退款多久"'`: 0,
				`SELECT count(*) FROM records_grams WHERE records_grams MATCH '"退款"'`: 1} {
				if deferred {
					want = 0
				}
				var n int
				if err := db.Reader().QueryRow(q).Scan(&n); err != nil || n != want {
					t.Fatalf("%s: %d %v, want %d", q, n, err, want)
				}
			}
			if n := len(searchIDs(t, db, acct, RecordFilter{OpenID: custA})); n != 0 {
				t.Fatalf("A's conversation: %d records", n)
			}
			if notes, _ := db.Notes(ctx, acct); len(notes) != 1 || notes[custB] == "" {
				t.Fatalf("notes %v", notes)
			}
			if f, _ := db.Followers(ctx, acct); !slices.Equal(f.OpenIDs, []string{custB}) {
				t.Fatalf("followers %v", f.OpenIDs)
			}
			if due, _ := db.DefaultReplyDue(ctx, acct, custA, pushT0); !due {
				t.Fatal("A's default-reply memory kept")
			}
			if due, _ := db.DefaultReplyDue(ctx, acct, custB, pushT0); due {
				t.Fatal("B's default-reply memory lost")
			}
			if pushes, jobs := pushCount(t, db); pushes != 1 || jobs != 1 {
				t.Fatalf("left %d pushes, %d jobs", pushes, jobs)
			}
			if deferred { // the index built later holds B's record only
				if err := db.buildPendingIndex(ctx, acct, func(int, int) {}); err != nil {
					t.Fatal(err)
				}
				if n := len(searchIDs(t, db, acct, RecordFilter{Text: "退款到"})); n != 1 {
					t.Fatalf("after building the index: %d", n)
				}
			}
			// The indexes stay sound for what remains (FTS5 integrity check).
			if _, err := db.Writer().Exec(`INSERT INTO records_fts(records_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
				t.Fatalf("trigram index after the delete: %v", err)
			}
		})
	}
	db, acct := pushEnv(t)
	var ve *ValidationError
	if _, err := db.DeleteCustomerData(context.Background(), acct, ""); !errors.As(err, &ve) {
		t.Fatalf("no openid: %v", err)
	}
}
