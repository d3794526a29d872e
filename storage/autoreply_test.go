package storage

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func textReply(s string) string {
	return `{"msgtype":"text","text":{"content":"` + s + `"}}`
}

func TestAutoReplyRules(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	add := func(r AutoReplyRule) AutoReplyRule {
		t.Helper()
		got, err := db.AddAutoReply(ctx, acct, r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		return got
	}
	hours := OfficeHours{Weekdays: Weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), From: 9 * 60, To: 18 * 60}
	follow := add(AutoReplyRule{Kind: AutoReplyFollow, Body: textReply("欢迎关注"), Enabled: true})
	price := add(AutoReplyRule{Kind: AutoReplyKeyword, Keyword: " 价格 ", Body: textReply("见菜单"), Enabled: true})
	refund := add(AutoReplyRule{Kind: AutoReplyKeyword, Keyword: "退款", Match: MatchContains, Body: textReply("请留下订单号"), Enabled: true})
	add(AutoReplyRule{Kind: AutoReplyDefault, Body: textReply("稍后回复您"), Enabled: true})
	add(AutoReplyRule{Kind: AutoReplyHours, Hours: hours, Body: textReply("现在是下班时间"), Enabled: true})
	// msgmenu as a reply: any custom-service type an Official Account may send.
	add(AutoReplyRule{Kind: AutoReplyKeyword, Keyword: "评价", Body: menuBody("", "101", "满意", "102", "不满意"), Enabled: false})

	if price.Keyword != "价格" || price.Match != MatchExact || price.Position != 2 || refund.Position != 3 {
		t.Fatalf("added %+v %+v", price, refund)
	}
	// One follow greeting: a second replaces it, keeping its place.
	again := add(AutoReplyRule{Kind: AutoReplyFollow, Body: textReply("欢迎光临茶叶小铺"), Enabled: true})
	if again.ID != follow.ID || again.Position != follow.Position {
		t.Fatalf("replaced follow %+v, was %+v", again, follow)
	}
	if _, err := db.AddAutoReply(ctx, acct, AutoReplyRule{Kind: AutoReplyKeyword, Keyword: "价格", Body: textReply("x")}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate keyword: %v", err)
	}
	rules, err := db.AutoReplyRules(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range rules {
		kinds = append(kinds, r.Kind+":"+r.Keyword)
	}
	if strings.Join(kinds, " ") != "follow: keyword:价格 keyword:退款 default: hours: keyword:评价" {
		t.Fatalf("rules %v", kinds)
	}
	if rules[0].Body != textReply("欢迎光临茶叶小铺") || rules[4].Hours != hours || rules[5].Enabled {
		t.Fatalf("rules %+v", rules)
	}

	refund.Keyword, refund.Position = "退货", 1
	if err := db.UpdateAutoReply(ctx, acct, refund); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAutoReplyEnabled(ctx, acct, price.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveAutoReply(ctx, acct, follow.ID); err != nil {
		t.Fatal(err)
	}
	rules, _ = db.AutoReplyRules(ctx, acct)
	if len(rules) != 5 || rules[0].Keyword != "退货" || rules[1].Keyword != "价格" || rules[1].Enabled {
		t.Fatalf("after changes %+v", rules)
	}
	for _, err := range []error{
		db.RemoveAutoReply(ctx, acct, follow.ID),
		db.SetAutoReplyEnabled(ctx, acct, 999, true),
		db.UpdateAutoReply(ctx, acct, AutoReplyRule{ID: 999, Kind: AutoReplyDefault, Body: textReply("x")}),
		db.RemoveAutoReply(ctx, acct+1, price.ID), // another account's id
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing rule: %v", err)
		}
	}
}

func TestAutoReplyRefusesBadRules(t *testing.T) {
	db, oa := pushEnv(t)
	ctx := context.Background()
	mp, err := db.AddAccount(ctx, Account{Name: "bakery", Kind: KindMP, AppID: "wxabcdef0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	ok := textReply("好")
	for _, c := range []struct {
		acct  int64
		r     AutoReplyRule
		field string
	}{
		{oa, AutoReplyRule{Kind: "greeting", Body: ok}, "kind"},
		{oa, AutoReplyRule{Kind: AutoReplyKeyword, Keyword: "  ", Body: ok}, "keyword"},
		{oa, AutoReplyRule{Kind: AutoReplyKeyword, Keyword: strings.Repeat("茶", 31), Body: ok}, "keyword"},
		{oa, AutoReplyRule{Kind: AutoReplyKeyword, Keyword: "茶", Match: "regex", Body: ok}, "match"},
		{oa, AutoReplyRule{Kind: AutoReplyHours, Hours: OfficeHours{From: 540, To: 1080}, Body: ok}, "weekdays"},
		{oa, AutoReplyRule{Kind: AutoReplyHours, Hours: OfficeHours{Weekdays: 1, From: 1080, To: 540}, Body: ok}, "hours"},
		{oa, AutoReplyRule{Kind: AutoReplyHours, Hours: OfficeHours{Weekdays: 1, From: 0, To: 1441}, Body: ok}, "hours"},
		{oa, AutoReplyRule{Kind: AutoReplyFollow, Body: ""}, "body"},
		{oa, AutoReplyRule{Kind: AutoReplyFollow, Body: "欢迎"}, "body"},                                           // not JSON
		{oa, AutoReplyRule{Kind: AutoReplyFollow, Body: `{"msgtype":"text","txt":{"content":"x"}}`}, "body"},     // misspelt field
		{oa, AutoReplyRule{Kind: AutoReplyFollow, Body: `{"msgtype":"text","text":{"content":""}}`}, "body"},     // empty text
		{mp.ID, AutoReplyRule{Kind: AutoReplyFollow, Body: menuBody("", "1", "a")}, "body"},                      // an MP cannot send msgmenu
		{oa, AutoReplyRule{Kind: AutoReplyDefault, Body: `{"msgtype":"image","image":{"media_id":""}}`}, "body"}, // no image
	} {
		_, err := db.AddAutoReply(ctx, c.acct, c.r)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || ve.Chinese == "" || ve.English == "" {
			t.Errorf("%+v: %v, want a %s error", c.r, err, c.field)
		}
	}
	if rules, _ := db.AutoReplyRules(ctx, oa); len(rules) != 0 {
		t.Fatalf("stored %+v", rules)
	}
	if _, err := db.AddAutoReply(ctx, 999, AutoReplyRule{Kind: AutoReplyFollow, Body: ok}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestOfficeHoursInBeijingTime(t *testing.T) {
	h := OfficeHours{Weekdays: Weekdays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday), From: 9 * 60, To: 18 * 60}
	for at, want := range map[string]bool{
		"2026-11-30T01:00:00Z": true,  // Monday 09:00 Beijing
		"2026-11-30T00:59:00Z": false, // Monday 08:59
		"2026-11-30T09:59:00Z": true,  // Monday 17:59
		"2026-11-30T10:00:00Z": false, // Monday 18:00: the end is excluded
		"2026-11-29T17:30:00Z": false, // Monday 01:30 Beijing, still Sunday in UTC
		"2026-12-04T09:00:00Z": true,  // Friday 17:00
		"2026-12-05T03:00:00Z": false, // Saturday 11:00
		"2026-11-29T01:30:00Z": false, // Sunday 09:30
	} {
		tm, _ := time.Parse(time.RFC3339, at)
		if got := h.Open(tm.In(time.FixedZone("PST", -8*3600))); got != want {
			t.Errorf("%s: open %v, want %v", at, got, want)
		}
	}
	if all := (OfficeHours{Weekdays: 0x7f, From: 0, To: 24 * 60}); !all.Open(time.Date(2026, 12, 6, 23, 59, 59, 0, Beijing)) {
		t.Error("round the clock is not open at 23:59")
	}
}

func TestForwardingOnByDefault(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	if f, err := db.Forward(ctx, acct); err != nil || f != (Forwarding{On: true}) {
		t.Fatalf("default %+v %v", f, err)
	}
	if err := db.SetForward(ctx, acct, Forwarding{On: false}); err != nil {
		t.Fatal(err)
	}
	if f, _ := db.Forward(ctx, acct); f.On {
		t.Fatal("still on")
	}
	if err := db.SetForward(ctx, acct, Forwarding{On: true, KFAccount: " xiaomei@teashop "}); err != nil {
		t.Fatal(err)
	}
	if f, _ := db.Forward(ctx, acct); f != (Forwarding{On: true, KFAccount: "xiaomei@teashop"}) {
		t.Fatalf("%+v", f)
	}
	if err := db.SetOAWeChatID(ctx, acct, "teashop"); err != nil {
		t.Fatal(err)
	}
	for _, kf := range []string{"xiaomei", "xiao mei@teashop", "xiaomei@bakery"} {
		var ie *ValidationError
		if err := db.SetForward(ctx, acct, Forwarding{On: true, KFAccount: kf}); !errors.As(err, &ie) || ie.Field != "kf_account" {
			t.Errorf("%q: %v", kf, err)
		}
	}
	if f, _ := db.Forward(ctx, acct); f.KFAccount != "xiaomei@teashop" {
		t.Fatalf("a refused setting changed it: %+v", f)
	}
}

func TestDefaultReplyAtMostOncePerHour(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	now := pushT0
	if due, err := db.DefaultReplyDue(ctx, acct, custA, now); err != nil || !due {
		t.Fatalf("never replied: due %v %v", due, err)
	}
	// Quick messages answered by several workers at once: one default reply.
	var wg sync.WaitGroup
	var won atomic.Int32
	start := make(chan struct{})
	db.Reader().SetMaxIdleConns(4) // every reader connection open and ready: the reads can overlap
	var warm sync.WaitGroup
	for range 8 {
		warm.Add(1)
		go func() { defer warm.Done(); _, _ = db.DefaultReplyDue(ctx, acct, custB, now) }()
	}
	warm.Wait()
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := db.ClaimDefaultReply(ctx, acct, custA, now)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d default replies claimed at once", won.Load())
	}
	for _, c := range []struct {
		after time.Duration
		due   bool
	}{{time.Minute, false}, {59*time.Minute + 59*time.Second, false}, {time.Hour, true}} {
		if due, err := db.DefaultReplyDue(ctx, acct, custA, now.Add(c.after)); err != nil || due != c.due {
			t.Fatalf("after %v: due %v %v", c.after, due, err)
		}
		if ok, err := db.ClaimDefaultReply(ctx, acct, custA, now.Add(c.after)); err != nil || ok != c.due {
			t.Fatalf("claim after %v: %v %v", c.after, ok, err)
		}
	}
	// Counted from the last reply, per customer.
	if due, _ := db.DefaultReplyDue(ctx, acct, custA, now.Add(90*time.Minute)); due {
		t.Fatal("due 30 minutes after the second reply")
	}
	if due, _ := db.DefaultReplyDue(ctx, acct, custB, now); !due {
		t.Fatal("another customer is not due")
	}
}
