package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"kfdesk/api"
)

// putRecords stores records straight into the archive (ids as the sync gives them: time<<20 | n).
func putRecords(t testing.TB, db *DB, acct int64, recs []api.Record) {
	t.Helper()
	ctx := context.Background()
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`)
		if err != nil {
			return err
		}
		defer st.Close()
		var sec, n int64
		key := make([]byte, 16)
		changed := reportChanges{} // as storePage does
		for _, r := range recs {
			changed.add(r.OpenID, r.Time)
			if r.Time != sec {
				sec, n = r.Time, 0
			}
			n++
			_, _ = rand.Read(key)
			if _, err := st.ExecContext(ctx, idOfTime(r.Time)|n, acct, r.Time, r.OpenID, r.OperCode, r.Worker, r.Text, key); err != nil {
				return err
			}
		}
		return changed.invalidate(ctx, tx, acct)
	})
	if err != nil {
		t.Fatal(err)
	}
}

var repDay = time.Date(2026, 11, 20, 0, 0, 0, 0, Beijing)

func at(day int, hh, mm, ss int) int64 {
	return repDay.AddDate(0, 0, day).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second).Unix()
}

func in(openid string, t int64, text string) api.Record {
	return api.Record{OpenID: openid, OperCode: 2003, Time: t, Text: text}
}

func out(openid, worker string, t int64) api.Record {
	return api.Record{OpenID: openid, OperCode: 2002, Time: t, Worker: worker, Text: "您好，这就为您查询"}
}

// A hand-made day whose figures are worked out below, one by one.
func TestReportByHand(t *testing.T) {
	db, acct := pushEnv(t)
	recs := []api.Record{
		{OpenID: "oA", OperCode: 1000, Time: at(0, 8, 59, 0)}, // a session event: no message
		in("oA", at(0, 9, 0, 0), "请问龙井还有货吗"),
		out("oA", "kf01", at(0, 9, 5, 0)),    // A's 1st conversation: answered after 300 s by kf01
		in("oA", at(0, 9, 29, 0), "好的，谢谢"),   // 29 min after: still the 1st conversation
		in("oA", at(0, 10, 30, 0), "龙井发货了吗"), // 61 min after: a 2nd one
		out("oA", "kf02", at(0, 10, 32, 0)),  // answered after 120 s by kf02 …
		out("oA", "kf01", at(0, 10, 33, 0)),  // … and kf01 writes in it too
		in("oB", at(0, 23, 59, 30), "龙井多少钱"),
		out("oB", "kf01", at(1, 0, 0, 30)), // the next Beijing day: B's conversation (day 0) answered after 60 s
		in("oC", at(1, 12, 0, 0), "退款"),    // never answered
		out("oD", "kf03", at(1, 13, 0, 0)), // a message to someone who did not write: no conversation
	}
	putRecords(t, db, acct, recs)
	now := time.Unix(at(1, 14, 0, 0), 0)
	rep, err := db.Report(context.Background(), acct, ReportOptions{From: repDay, To: repDay.AddDate(0, 0, 1), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.CustomerMessages != 5 || rep.Replies != 5 || rep.Conversations != 4 || rep.Answered != 3 {
		t.Errorf("totals %d in, %d out, %d conversations, %d answered", rep.CustomerMessages, rep.Replies, rep.Conversations, rep.Answered)
	}
	// First responses 60, 120, 300: median 120, p90 300.
	if rep.MedianFirst != 120 || rep.P90First != 300 {
		t.Errorf("first response median %d p90 %d", rep.MedianFirst, rep.P90First)
	}
	wantDays := []DayFigures{
		{Day: "2026-11-20", CustomerMessages: 4, Replies: 3, Conversations: 3, Answered: 3, MedianFirst: 120, P90First: 300},
		{Day: "2026-11-21", CustomerMessages: 1, Replies: 2, Conversations: 1},
	}
	if !reflect.DeepEqual(rep.Days, wantDays) {
		t.Errorf("days\n%+v\nwant\n%+v", rep.Days, wantDays)
	}
	wantWorkers := []WorkerFigures{
		{Worker: "kf01", Conversations: 3, Messages: 3, Answered: 2, MedianFirst: 60, P90First: 300},
		{Worker: "kf02", Conversations: 1, Messages: 1, Answered: 1, MedianFirst: 120, P90First: 120},
		{Worker: "kf03", Messages: 1},
	}
	if !reflect.DeepEqual(rep.Workers, wantWorkers) {
		t.Errorf("workers\n%+v\nwant\n%+v", rep.Workers, wantWorkers)
	}
	// 2026-11-20 is a Friday (4 from Monday).
	if rep.Heat[4][9] != 2 || rep.Heat[4][10] != 1 || rep.Heat[4][23] != 1 || rep.Heat[5][12] != 1 {
		t.Errorf("heat map %v", rep.Heat)
	}
	if len(rep.Unanswered) != 1 || rep.Unanswered[0].OpenID != "oC" || rep.Unanswered[0].Waiting != 7200 || rep.Unanswered[0].Last.Text != "退款" {
		t.Errorf("unanswered %+v", rep.Unanswered)
	}
	// 龙井 is in 3 messages; 井还, 井发, 井多 … only once.
	if len(rep.Words) == 0 || rep.Words[0] != (WordCount{"龙井", 3}) {
		t.Errorf("words %+v", rep.Words)
	}

	// The first day alone: B's answer came the next day, after the period; B wrote only
	// 30 s before the period ended, so is not counted as left without an answer.
	rep2, err := db.Report(context.Background(), acct, ReportOptions{From: repDay, To: repDay, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want0 := DayFigures{Day: "2026-11-20", CustomerMessages: 4, Replies: 3, Conversations: 3, Answered: 2, MedianFirst: 120, P90First: 300}
	if len(rep2.Days) != 1 || rep2.Days[0] != want0 || len(rep2.Unanswered) != 0 {
		t.Errorf("first day only: %+v, unanswered %+v", rep2.Days, rep2.Unanswered)
	}
}

func TestReportEmptyAndSingle(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	now := time.Unix(at(3, 12, 0, 0), 0)
	rep, err := db.Report(ctx, acct, ReportOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.From != "2026-11-23" || rep.To != "2026-11-23" || len(rep.Days) != 1 || rep.Days[0] != (DayFigures{Day: "2026-11-23"}) ||
		rep.Workers != nil || rep.Unanswered != nil || rep.Words != nil || len(rep.Menus) != 0 || rep.Heat != [7][24]int{} {
		t.Errorf("empty archive: %+v", rep)
	}
	putRecords(t, db, acct, []api.Record{in("oA", at(0, 0, 0, 0), "hello")})
	rep, err = db.Report(ctx, acct, ReportOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.From != "2026-11-20" || len(rep.Days) != 4 || rep.Days[0].Conversations != 1 || rep.Days[0].CustomerMessages != 1 ||
		rep.Days[1] != (DayFigures{Day: "2026-11-21"}) || len(rep.Unanswered) != 1 || rep.Answered != 0 || rep.MedianFirst != 0 {
		t.Errorf("one record: %+v", rep)
	}
	if _, err := db.Report(ctx, acct, ReportOptions{From: repDay.AddDate(0, 0, 2), To: repDay, Now: now}); err == nil {
		t.Error("a period ending before it starts is accepted")
	}
	// A newer choice of period cancels the computation under way.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Report(cancelled, acct, ReportOptions{Now: now}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	v := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if Percentile(v, 0.5) != 5 || Percentile(v, 0.9) != 9 || Percentile(v[:1], 0.9) != 1 || Percentile([]int64(nil), 0.5) != 0 ||
		Percentile(v[:3], 0.5) != 2 || Percentile(v[:4], 0.5) != 2 {
		t.Error("nearest rank")
	}
}

func TestReportWords(t *testing.T) {
	c := newWordCounter()
	for _, s := range []string{"铁观音多少钱", "铁观音有货吗", "要铁观音", "观音像", "退款退款", "我要退款", "iPhone OK", "iphone 128", "the 128 the",
		"什么时候发货", "已经发货了吗", "发货太慢", "这款茶叶", "这款茶叶呢"} {
		c.add(s)
	}
	// 铁观音 is in 3 of the 4 messages with 观音 (≥ 70%): it replaces 铁观 and 观音. 退款 counts once per
	// message; 128 is a number; the, ok, 什么, 时候, 已经 are stop words; 候发货 is in 1 message
	// only, 发货 in 3; 这款茶 and 款茶叶 overlap with the same count: one (the first in byte order) stands for 这款茶叶.
	want := []WordCount{{"发货", 3}, {"铁观音", 3}, {"iphone", 2}, {"款茶叶", 2}, {"退款", 2}}
	if got := c.top(30); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if got := c.top(2); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("top 2: %v", got)
	}
}

// bruteReport computes the figures the slow, obvious way: customer by customer over
// all their records up to the period's end.
func bruteReport(all []api.Record, from, to, now time.Time, unanswered time.Duration) *Report {
	start, end := from.Unix(), to.AddDate(0, 0, 1).Unix()
	rep := &Report{From: dayKey(from), To: dayKey(to)}
	dayOf := map[string]int{}
	for d := from; d.Unix() < end; d = d.AddDate(0, 0, 1) {
		dayOf[dayKey(d)] = len(rep.Days)
		rep.Days = append(rep.Days, DayFigures{Day: dayKey(d)})
	}
	byCustomer := map[string][]api.Record{}
	for _, r := range all {
		if r.Time < end && (r.OperCode == 2001 || r.OperCode == 2002 || r.OperCode == 2003) {
			byCustomer[r.OpenID] = append(byCustomer[r.OpenID], r)
		}
	}
	inPeriod := func(t int64) bool { return t >= start && t < end }
	day := func(t int64) int { return dayOf[time.Unix(t, 0).In(Beijing).Format("2006-01-02")] }
	dayFirst := make([][]int64, len(rep.Days))
	var allFirst []int64
	workers := map[string]*WorkerFigures{}
	wFirst := map[string][]int64{}
	worker := func(w string) *WorkerFigures {
		if workers[w] == nil {
			workers[w] = &WorkerFigures{Worker: w}
		}
		return workers[w]
	}
	asOf := min(now.Unix(), end)
	for openid, recs := range byCustomer {
		var lastIn int64 = -1 << 62
		convStart := int64(0)
		convCounted, answered := false, false
		seen := map[string]bool{}
		for _, r := range recs {
			if r.OperCode != 2002 {
				if r.Time-lastIn > int64(ConversationGap/time.Second) {
					convStart, convCounted, answered, seen = r.Time, inPeriod(r.Time), false, map[string]bool{}
					if convCounted {
						rep.Days[day(r.Time)].Conversations++
					}
				}
				lastIn = r.Time
				if inPeriod(r.Time) {
					rep.Days[day(r.Time)].CustomerMessages++
					bt := time.Unix(r.Time, 0).In(Beijing)
					rep.Heat[(int(bt.Weekday())+6)%7][bt.Hour()]++
				}
				continue
			}
			if !inPeriod(r.Time) {
				continue
			}
			rep.Days[day(r.Time)].Replies++
			worker(r.Worker).Messages++
			if !convCounted {
				continue
			}
			if !seen[r.Worker] {
				seen[r.Worker] = true
				worker(r.Worker).Conversations++
			}
			if !answered {
				answered = true
				s := r.Time - convStart
				dayFirst[day(convStart)] = append(dayFirst[day(convStart)], s)
				allFirst = append(allFirst, s)
				wFirst[r.Worker] = append(wFirst[r.Worker], s)
			}
		}
		var last *api.Record
		for i := range recs {
			if inPeriod(recs[i].Time) {
				last = &recs[i]
			}
		}
		if last != nil && last.OperCode != 2002 && last.Time <= asOf-int64(unanswered/time.Second) {
			rep.Unanswered = append(rep.Unanswered, UnansweredChat{OpenID: openid, Waiting: asOf - last.Time})
		}
	}
	nearest := func(v []int64, p float64) int64 {
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[int(math.Ceil(p*float64(len(v))))-1]
	}
	for i, f := range dayFirst {
		d := &rep.Days[i]
		d.Answered, d.MedianFirst, d.P90First = len(f), nearest(f, 0.5), nearest(f, 0.9)
		rep.CustomerMessages += d.CustomerMessages
		rep.Replies += d.Replies
		rep.Conversations += d.Conversations
	}
	rep.Answered, rep.MedianFirst, rep.P90First = len(allFirst), nearest(allFirst, 0.5), nearest(allFirst, 0.9)
	for w, f := range workers {
		f.Answered, f.MedianFirst, f.P90First = len(wFirst[w]), nearest(wFirst[w], 0.5), nearest(wFirst[w], 0.9)
		rep.Workers = append(rep.Workers, *f)
	}
	sort.Slice(rep.Workers, func(i, j int) bool { return rep.Workers[i].Worker < rep.Workers[j].Worker })
	sort.Slice(rep.Unanswered, func(i, j int) bool { return rep.Unanswered[i].OpenID < rep.Unanswered[j].OpenID })
	return rep
}

// messagesWith counts the customer messages of the period that contain word
// (a Han word as a substring, any other as one of the message's words).
func messagesWith(all []api.Record, start, end int64, word string) int {
	n := 0
	han := strings.IndexFunc(word, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
	for _, r := range all {
		if r.Time < start || r.Time >= end || (r.OperCode != 2001 && r.OperCode != 2003) {
			continue
		}
		text := strings.ToLower(r.Text)
		if han && strings.Contains(text, word) {
			n++
		}
		if !han && slices.Contains(strings.FieldsFunc(text, func(r rune) bool {
			return !(unicode.IsLetter(r) || unicode.IsDigit(r)) || unicode.Is(unicode.Han, r)
		}), word) {
			n++
		}
	}
	return n
}

func TestReportMatchesBruteForce(t *testing.T) {
	db, acct := pushEnv(t)
	// 3,000 generated records over 4 days, 60 customers (each in several conversations),
	// 8 workers (conversations served by two), and a burst just before and after a Beijing midnight.
	var all []api.Record
	from := repDay.Unix()
	for i := range int64(3000) {
		r := genRecord(i, 3000, from, 4*86400)
		all = append(all, api.Record{OpenID: fmt.Sprintf("o%02d", mix(uint64(i))%60), OperCode: r.OperCode, Time: r.Time, Worker: r.Worker, Text: r.Text})
	}
	for i := range int64(40) {
		r := in(fmt.Sprintf("o%02d", i%7), at(2, 0, 0, 0)-20+i, "半夜 留言")
		if i%3 == 0 {
			r = out(r.OpenID, genWorkers[i%3], r.Time)
		}
		all = append(all, r)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	putRecords(t, db, acct, all)
	now := time.Unix(at(3, 18, 0, 0), 0)
	for _, p := range []struct{ from, to int }{{0, 3}, {1, 1}, {2, 3}, {1, 2}, {5, 6}, {-2, -1}} {
		f, to := repDay.AddDate(0, 0, p.from), repDay.AddDate(0, 0, p.to)
		got, err := db.Report(context.Background(), acct, ReportOptions{From: f, To: to, Now: now, UnansweredAfter: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		want := bruteReport(all, f, to, now, time.Hour)
		if !reflect.DeepEqual(got.Days, want.Days) || got.Heat != want.Heat || got.Conversations != want.Conversations ||
			got.CustomerMessages != want.CustomerMessages || got.Replies != want.Replies || got.Answered != want.Answered ||
			got.MedianFirst != want.MedianFirst || got.P90First != want.P90First {
			t.Errorf("%v: days\n%+v\nwant\n%+v", p, got.Days, want.Days)
		}
		workers := slices.Clone(got.Workers)
		sort.Slice(workers, func(i, j int) bool { return workers[i].Worker < workers[j].Worker })
		if !reflect.DeepEqual(workers, want.Workers) {
			t.Errorf("%v: workers\n%+v\nwant\n%+v", p, workers, want.Workers)
		}
		var un []UnansweredChat
		for _, u := range got.Unanswered {
			un = append(un, UnansweredChat{OpenID: u.OpenID, Waiting: u.Waiting})
		}
		sort.Slice(un, func(i, j int) bool { return un[i].OpenID < un[j].OpenID })
		if !reflect.DeepEqual(un, want.Unanswered) {
			t.Errorf("%v: unanswered\n%+v\nwant\n%+v", p, un, want.Unanswered)
		}
		for i, w := range got.Words {
			if n := messagesWith(all, f.Unix(), to.AddDate(0, 0, 1).Unix(), w.Word); n != w.Messages || (i > 0 && w.Messages > got.Words[i-1].Messages) {
				t.Errorf("%v: word %q in %d messages, counted %d", p, w.Word, n, w.Messages)
			}
		}
		if want.CustomerMessages > 100 && len(got.Words) != 30 {
			t.Errorf("%v: %d words", p, len(got.Words))
		}
	}
}

func menuTap(openid string, at time.Time, id, text string) Push {
	p := textPush(openid, at, fmt.Sprint(at.UnixNano()), text)
	p.MenuID = id
	return p
}

// Two menus with the same option ids, sent to the same customers: each tap answers
// the latest menu with that option sent before it; a changed mind counts once, last.
func TestReportMenus(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	t0 := repDay.Add(10 * time.Hour)
	rate := menuBody("", "101", "满意", "102", "不满意")
	speed := menuBody("", "101", "很快", "102", "一般", "103", "太慢")
	for i, c := range []string{"oA", "oB", "oC", "oD"} {
		logSend(t, db, acct, c, "msgmenu", strings.Replace(rate, `"touser":""`, `"touser":"`+c+`"`, 1), SendOK, t0.Add(time.Duration(i)*time.Second))
	}
	logSend(t, db, acct, "oE", "msgmenu", rate, SendFailed, t0)                  // refused: never seen
	logSend(t, db, acct, "oA", "msgmenu", speed, SendOK, t0.Add(time.Hour))      // a second menu to A and B
	logSend(t, db, acct, "oB", "msgmenu", speed, SendUnknown, t0.Add(time.Hour)) // no clear answer: may have arrived
	logSend(t, db, acct, "oA", "msgmenu", rate, SendOK, t0.AddDate(0, 0, -3))    // before the period
	mustStore(t, db, acct, menuTap("oA", t0.Add(time.Minute), "101", "满意"))      // rate: A 满意
	mustStore(t, db, acct, menuTap("oB", t0.Add(time.Minute), "102", "不满意"))     // rate: B 不满意 …
	mustStore(t, db, acct, menuTap("oB", t0.Add(2*time.Minute), "101", "满意"))    // … then 满意: counts once, 满意
	mustStore(t, db, acct, menuTap("oC", t0.Add(time.Minute), "101", "满意"))      // rate: C 满意
	mustStore(t, db, acct, menuTap("oA", t0.Add(61*time.Minute), "103", "太慢"))   // speed: A 太慢
	mustStore(t, db, acct, menuTap("oB", t0.Add(62*time.Minute), "101", "很快"))   // speed (the later menu with 101): B 很快
	mustStore(t, db, acct, menuTap("oC", t0.Add(63*time.Minute), "109", "?"))    // no menu has 109
	rep, err := db.Report(ctx, acct, ReportOptions{From: repDay, To: repDay, Now: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := []MenuFigures{
		{Head: "您对本次服务满意吗？", Sent: 4, Answered: 3, HasSatisfaction: true, Satisfied: 1,
			Options: []MenuOption{{"101", "满意", 3}, {"102", "不满意", 0}}},
		{Head: "您对本次服务满意吗？", Sent: 2, Answered: 2,
			Options: []MenuOption{{"101", "很快", 1}, {"102", "一般", 0}, {"103", "太慢", 1}}},
	}
	if !reflect.DeepEqual(rep.Menus, want) {
		t.Errorf("menus\n%+v\nwant\n%+v", rep.Menus, want)
	}
	// D answers 不满意 later: 3 of 4 satisfied.
	mustStore(t, db, acct, menuTap("oD", t0.Add(5*time.Hour), "102", "不满意"))
	rep, _ = db.Report(ctx, acct, ReportOptions{From: repDay, To: repDay, Now: t0.Add(6 * time.Hour)})
	if len(rep.Menus) != 2 || rep.Menus[0].Satisfied != 0.75 || rep.Menus[0].Answered != 4 {
		t.Errorf("after D: %+v", rep.Menus)
	}
	if rep, _ := db.Report(ctx, acct, ReportOptions{From: repDay.AddDate(0, 0, 1), To: repDay.AddDate(0, 0, 1), Now: t0}); len(rep.Menus) != 0 {
		t.Errorf("a day without menus: %+v", rep.Menus)
	}
	if Satisfaction("非常满意") != 1 || Satisfaction("不满意") != -1 || Satisfaction("一般") != 0 {
		t.Error("Satisfaction")
	}
}
