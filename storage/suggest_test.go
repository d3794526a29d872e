package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
)

var suggestT0 = time.Date(2026, 11, 20, 10, 0, 0, 0, Beijing)

// chat is one customer's conversation: lines starting "> " are the customer's, others the KF's,
// one minute apart, starting at start.
func chat(openid string, start time.Time, lines ...string) []api.Record {
	var out []api.Record
	for i, l := range lines {
		r := api.Record{OpenID: openid, Time: start.Unix() + int64(i)*60, OperCode: 2002, Worker: "kf1@teashop", Text: l}
		if t, ok := strings.CutPrefix(l, "> "); ok {
			r.OperCode, r.Worker, r.Text = 2003, "", t
		}
		out = append(out, r)
	}
	return out
}

func suggestDB(t *testing.T, convs ...[]api.Record) (*DB, int64) {
	t.Helper()
	db, acct := unbuiltSuggestDB(t, convs...)
	if err := db.BuildSuggestIndex(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	return db, acct
}

// unbuiltSuggestDB stores the conversations, their customers marked for the exchange build.
func unbuiltSuggestDB(t *testing.T, convs ...[]api.Record) (*DB, int64) {
	t.Helper()
	db := openTemp(t)
	a, err := db.AddAccount(context.Background(), Account{Name: "shop", Kind: KindOA, AppID: "wx0000000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	var all []api.Record
	for _, c := range convs {
		all = append(all, c...)
	}
	storeRecords(t, db, a.ID, all...)
	return db, a.ID
}

func suggestTexts(t *testing.T, db *DB, acct int64, q string) []string {
	t.Helper()
	ss, err := db.Suggest(context.Background(), acct, q, suggestT0.AddDate(0, 0, 1), SuggestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range ss {
		out = append(out, s.Text)
	}
	return out
}

const shipReply = "今天下午顺丰发出，明天就能到～"

// shopHistory: several customers asked when their order ships, in different words,
// and got (nearly) the same answer; others asked about invoices.
func shopHistory() [][]api.Record {
	var convs [][]api.Record
	asks := []string{"什么时候发货？", "请问什么时候发货呀", "我的订单什么时候能发货", "几时发货？", "什么时候发货", "昨天下的单 什么时候发货"}
	for i, q := range asks {
		reply := shipReply
		if i%2 == 1 {
			reply = "今天下午顺丰发出, 明天就能到" // nearly the same: other punctuation
		}
		convs = append(convs, chat(fmt.Sprintf("oShip%02d", i), suggestT0.Add(time.Duration(i)*time.Hour), "> "+q, reply))
	}
	for i, q := range []string{"可以开发票吗", "能开发票吗？", "发票怎么开"} {
		convs = append(convs, chat(fmt.Sprintf("oInv%02d", i), suggestT0.Add(time.Duration(10+i)*time.Hour), "> "+q, "可以的，下单时备注抬头和税号就行。"))
	}
	return convs
}

func TestSuggestFindsTheAnswerToTheSameQuestionInOtherWords(t *testing.T) {
	db, acct := suggestDB(t, shopHistory()...)
	for _, q := range []string{"什么时候能发货啊？", "亲 几时发货", "订单什么时候发货呢"} {
		got := suggestTexts(t, db, acct, q)
		if len(got) == 0 || suggestNorm(got[0]) != suggestNorm(shipReply) && got[0] != "今天下午顺丰发出, 明天就能到" {
			t.Errorf("%q: suggestions %q, want the shipping answer first", q, got)
		}
	}
	ss, err := db.Suggest(context.Background(), acct, "什么时候发货", suggestT0.AddDate(0, 0, 1), SuggestOptions{})
	if err != nil || len(ss) != 1 {
		t.Fatalf("%+v %v: want one suggestion (the two wordings grouped)", ss, err)
	}
	s := ss[0]
	// Six answers, five to questions alike enough: 几时发货 shares only 发货 with it.
	if s.Count != 5 || len(s.Sources) != 3 || !s.LastUsed.Equal(time.Unix(suggestT0.Add(5*time.Hour).Unix()+60, 0)) {
		t.Errorf("count %d, %d sources, last used %v: want 5, 3, the last shipping answer", s.Count, len(s.Sources), s.LastUsed)
	}
	for _, src := range s.Sources {
		if !strings.HasPrefix(src.OpenID, "oShip") || src.Question == "" || src.Time.IsZero() {
			t.Errorf("source %+v: want a shipping exchange", src)
		}
	}
	if got := suggestTexts(t, db, acct, "可以开发票吗？"); len(got) != 1 || got[0] != "可以的，下单时备注抬头和税号就行。" {
		t.Errorf("invoice: %q", got)
	}
}

// A word no past question has cannot find one: the search must not rest on it alone.
// In a small archive every known word is common, and 货呀 was the message's only rare one.
func TestSuggestFindsAKnownQuestionWithANewWordInIt(t *testing.T) {
	var convs [][]api.Record
	for i := range 4 {
		convs = append(convs, chat(fmt.Sprintf("oPast%d", i), suggestT0.Add(time.Duration(i)*time.Hour),
			"> 请问什么时候发货？", "今天下午发出，单号稍后发您。"))
	}
	db, acct := suggestDB(t, convs...)
	for _, q := range []string{"请问什么时候发货呀？", "请问什么时候发货呢亲"} {
		if got := suggestTexts(t, db, acct, q); len(got) == 0 || got[0] != "今天下午发出，单号稍后发您。" {
			t.Errorf("%s: %q", q, got)
		}
	}
	if got := suggestTexts(t, db, acct, "呀呢"); len(got) != 0 {
		t.Errorf("words never asked: %q", got)
	}
}

func TestSuggestNothingForAQuestionNeverSeen(t *testing.T) {
	db, acct := suggestDB(t, shopHistory()...)
	for _, q := range []string{"你们卖轮胎吗", "Do you ship to Canada?", "请问", "吗", "😊", ""} {
		if got := suggestTexts(t, db, acct, q); len(got) != 0 {
			t.Errorf("%q: suggestions %q, want none", q, got)
		}
	}
}

func TestSuggestNeverOffersAnotherCustomersPersonalData(t *testing.T) {
	convs := shopHistory()
	// The most frequent answers to "where is my parcel" carry that customer's data.
	personal := []string{
		"您的手机号 13812345678 已登记",
		"单号 SF1234567890，请查收",
		"已改为 浙江省杭州市西湖区文三路 100 号",
		"寄到 北京市朝阳区 对吗",
		"订单 202611201234 已发出",
		"请联系 amy@example.com",
	}
	for i := range 12 {
		convs = append(convs, chat(fmt.Sprintf("oParcel%02d", i), suggestT0.Add(time.Duration(20+i)*time.Hour),
			"> 我的快递到哪里了", personal[i%len(personal)]))
	}
	convs = append(convs, chat("oParcelOK", suggestT0.Add(40*time.Hour), "> 快递到哪里了？", "已经在派送了，请留意电话"))
	db, acct := suggestDB(t, convs...)
	got := suggestTexts(t, db, acct, "我的快递到哪里了？")
	if len(got) != 1 || got[0] != "已经在派送了，请留意电话" {
		t.Errorf("suggestions %q: want only the answer without personal data", got)
	}
	// The customer who got one of them may get it again: it is their own.
	ss, err := db.Suggest(context.Background(), acct, "我的快递到哪里了？", suggestT0.AddDate(0, 0, 3), SuggestOptions{OpenID: "oParcel01"})
	if err != nil || len(ss) != 2 || ss[0].Text != personal[1] {
		t.Errorf("to oParcel01: %+v %v, want its own answer first, then the one without personal data", ss, err)
	}
	for _, p := range personal {
		if !HasPersonalData(p) {
			t.Errorf("HasPersonalData(%q) = false", p)
		}
		if m := MaskPersonalData(p); HasPersonalData(m) || !strings.Contains(m, "＊＊＊") {
			t.Errorf("MaskPersonalData(%q) = %q", p, m)
		}
	}
	for _, ok := range []string{shipReply, "满 199 减 30，优惠券在首页领取", "250g 礼盒装 ¥368", "可以的，下单时备注抬头和税号就行。"} {
		if HasPersonalData(ok) {
			t.Errorf("HasPersonalData(%q) = true", ok)
		}
	}
}

func TestExchangesPairMessagesWithTheNextReplyOfTheConversation(t *testing.T) {
	at := func(min int64) int64 { return suggestT0.Unix() + min*60 }
	recs := []exchangeRec{
		{id: 1, time: at(0), in: true, text: "在吗"},
		{id: 2, time: at(1), in: true, text: "退款到账了吗"},
		{id: 3, time: at(5), text: "已经原路退回"}, // answers both
		{id: 4, time: at(6), text: "还有别的吗"},  // a second reply answers nothing new
		{id: 5, time: at(10), in: true, text: "好的"},
		{id: 6, time: at(50), text: "亲还在吗"},              // 40 minutes later: another conversation
		{id: 7, time: at(60), in: true, text: "[image]"}, // "image" is words: a question
		{id: 8, time: at(61), text: ""},                  // a reply without text answers, is not kept
		{id: 9, time: at(62), in: true, text: "😊"},       // no words: nothing to match
		{id: 10, time: at(63), text: "谢谢"},
	}
	var got []string
	for _, e := range exchanges(recs) {
		got = append(got, fmt.Sprint(e.question.id, "→", e.reply.id))
	}
	if want := "[1→3 2→3]"; fmt.Sprint(got) != want {
		t.Errorf("exchanges %v, want %s", got, want)
	}
}

func TestSuggestIndexFollowsSyncAndForgetting(t *testing.T) {
	db, acct := suggestDB(t, shopHistory()...)
	ctx := context.Background()
	// A later page: a new customer's question and answer arrive; built at the end of a sync.
	storeRecords(t, db, acct, chat("oLate", suggestT0.AddDate(0, 0, 2), "> 有优惠吗", "满 199 减 30，优惠券在首页领取")...)
	if n, _ := db.SuggestPending(ctx, acct); n != 1 {
		t.Errorf("%d customers pending after a page, want 1", n)
	}
	if got := suggestTexts(t, db, acct, "请问有优惠吗？"); len(got) != 0 {
		t.Errorf("before the build: %q", got)
	}
	if err := db.BuildSuggestIndex(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if got := suggestTexts(t, db, acct, "请问有优惠吗？"); len(got) != 1 {
		t.Errorf("after the build: %q, want the discount answer", got)
	}
	// Forgetting a customer takes their exchanges and their question's index entry.
	if _, err := db.DeleteCustomerData(ctx, acct, "oLate"); err != nil {
		t.Fatal(err)
	}
	if got := suggestTexts(t, db, acct, "请问有优惠吗？"); len(got) != 0 {
		t.Errorf("after forgetting the customer: %q", got)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM suggest_questions WHERE norm LIKE '%优惠%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d questions of the forgotten customer left (%v)", n, err)
	}
}

func TestSuggestBuildReadsOneCustomerThroughItsIndex(t *testing.T) {
	db, _ := suggestDB(t, shopHistory()...)
	rows, err := db.Reader().Query("EXPLAIN QUERY PLAN "+customerMessagesSQL, 1, "oShip01")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !strings.Contains(strings.Join(plan, "; "), "records_openid") {
		t.Errorf("plan %q: want a search of records_openid, not a walk of the account's records", plan)
	}
}
