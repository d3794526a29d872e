package storage

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"kfdesk/api"
)

// storeLate writes records the way a sync does (storePage: the invalidation hook runs in its transaction).
// A second's records are placed after 500 of the same second (storePage finds the next free id).
func storeLate(t *testing.T, db *DB, acct int64, recs []api.Record) {
	t.Helper()
	var page []pendingRecord
	for i, r := range recs {
		page = append(page, pendingRecord{Record: r, key: recordKey(r), n: int64(500 + i)})
	}
	if n, err := db.storePage(context.Background(), acct, BeijingDay(time.Unix(recs[0].Time, 0)), page, false, false, 0, time.Now()); err != nil || n != len(recs) {
		t.Fatal(n, err)
	}
}

func storedDays(t *testing.T, db *DB, acct int64) []int64 {
	t.Helper()
	rows, err := db.r.Query(`SELECT day FROM report_days WHERE account_id = ? ORDER BY day`, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var days []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		days = append(days, d)
	}
	return days
}

// checkStored compares the report from the stored days with a full walk (no stored
// day) and with the brute-force figures.
func checkStored(t *testing.T, db *DB, acct int64, all []api.Record, from, to, now time.Time, what string) {
	t.Helper()
	ctx := context.Background()
	o := ReportOptions{From: from, To: to, Now: now, UnansweredAfter: time.Hour}
	got, err := db.Report(ctx, acct, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`DELETE FROM report_days WHERE account_id = ?`, acct); err != nil {
		t.Fatal(err)
	}
	full, err := db.Report(ctx, acct, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, full) {
		t.Errorf("%s: from the stored days\n%+v\nwalking every day\n%+v", what, got, full)
	}
	want := bruteReport(all, BeijingDay(from), BeijingDay(to), now, time.Hour)
	workers := append([]WorkerFigures(nil), full.Workers...)
	sort.Slice(workers, func(i, j int) bool { return workers[i].Worker < workers[j].Worker })
	if !reflect.DeepEqual(full.Days, want.Days) || full.Answered != want.Answered || full.MedianFirst != want.MedianFirst ||
		full.P90First != want.P90First || !reflect.DeepEqual(workers, want.Workers) || len(full.Unanswered) != len(want.Unanswered) {
		t.Errorf("%s: days\n%+v\nbrute force\n%+v\nworkers %+v\nbrute force %+v", what, full.Days, want.Days, workers, want.Workers)
	}
}

func TestReportStoredDaysFollowChanges(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	var all []api.Record
	from := repDay.Unix()
	for i := range int64(2000) {
		r := genRecord(i, 2000, from, 4*86400)
		all = append(all, api.Record{OpenID: fmt.Sprintf("o%02d", mix(uint64(i))%40), OperCode: r.OperCode, Time: r.Time, Worker: r.Worker, Text: r.Text})
	}
	all = append(all,
		in("oLate", at(0, 10, 0, 0), "还没人回复吗"), // answered only two days later, by a late record
		in("oMid", at(2, 0, 5, 0), "在吗"),       // begins a conversation on day 2 … until a late message at 23:50 of day 1
		out("oMid", "kf09", at(2, 0, 6, 0)),
		in("oGone", at(0, 9, 0, 0), "退货 怎么 退货"), out("oGone", "kf09", at(1, 9, 0, 0)), in("oGone", at(3, 9, 0, 0), "退货"),
	)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	storeLate(t, db, acct, all) // with the search index: DeleteCustomerData's trigger takes records out of it
	now := time.Unix(at(3, 18, 0, 0), 0)
	whole, last := repDay, repDay.AddDate(0, 0, 3)
	if _, err := db.Report(ctx, acct, ReportOptions{From: whole, To: last, Now: now}); err != nil {
		t.Fatal(err)
	}
	// Days 0–2 are stored (day 3 is today).
	if d := storedDays(t, db, acct); len(d) != 3 || d[0] != beijingDayNumber(from) {
		t.Fatalf("stored days %v", d)
	}
	checkStored(t, db, acct, all, whole, last, now, "as stored")

	// A late reply, two days after the conversation began: day 0's part changes.
	late := []api.Record{out("oLate", "kf09", at(2, 9, 0, 0))}
	storeLate(t, db, acct, late)
	all = append(all, late...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	if d := storedDays(t, db, acct); len(d) != 0 {
		t.Errorf("after a late reply to a conversation of day 0, stored days %v", d)
	}
	checkStored(t, db, acct, all, whole, last, now, "late reply")
	checkStored(t, db, acct, all, whole, whole, now, "late reply, day 0 alone")

	// A late customer message before Beijing midnight: day 2's conversation began on day 1.
	late = []api.Record{in("oMid", at(1, 23, 50, 0), "你好 在吗")}
	storeLate(t, db, acct, late)
	all = append(all, late...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	if d := storedDays(t, db, acct); len(d) != 1 || d[0] != beijingDayNumber(from) {
		t.Errorf("after a late message on day 1, stored days %v", d)
	}
	checkStored(t, db, acct, all, whole, last, now, "across midnight")
	checkStored(t, db, acct, all, repDay.AddDate(0, 0, 2), last, now, "across midnight, from day 2")

	// A period starting mid-day is its whole day.
	checkStored(t, db, acct, all, repDay.AddDate(0, 0, 1).Add(14*time.Hour+30*time.Minute), last, now, "from mid-day")

	// A pushed customer message the desktop archives (ArchivePush, the inbox) on a stored day.
	if _, err := db.Report(ctx, acct, ReportOptions{From: whole, To: last, Now: now}); err != nil {
		t.Fatal(err)
	}
	pushed := time.Unix(at(1, 11, 0, 0), 0)
	archivePush(t, db, acct, textPush("oPushed", pushed, "900001", "推送来的问题"))
	all = append(all, in("oPushed", pushed.Unix(), "推送来的问题"))
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	checkStored(t, db, acct, all, whole, last, now, "pushed message")

	// A deleted customer (DeleteCustomerData, as forget-unfollowers does) leaves no figure behind.
	if _, err := db.Report(ctx, acct, ReportOptions{From: whole, To: last, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteCustomerData(ctx, acct, "oGone"); err != nil {
		t.Fatal(err)
	}
	var kept []api.Record
	for _, r := range all {
		if r.OpenID != "oGone" {
			kept = append(kept, r)
		}
	}
	checkStored(t, db, acct, kept, whole, last, now, "deleted customer")
}

// A damaged stored day is walked again, not reported.
func TestReportDamagedStoredDay(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	var all []api.Record
	for i := range int64(300) {
		r := genRecord(i, 300, repDay.Unix(), 3*86400)
		all = append(all, api.Record{OpenID: fmt.Sprintf("o%02d", mix(uint64(i))%20), OperCode: r.OperCode, Time: r.Time, Worker: r.Worker, Text: r.Text})
	}
	putRecords(t, db, acct, all)
	now := time.Unix(at(2, 18, 0, 0), 0)
	o := ReportOptions{From: repDay, To: repDay.AddDate(0, 0, 2), Now: now}
	want, err := db.Report(ctx, acct, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(`UPDATE report_days SET data = substr(data, 1, length(data) - 3) WHERE account_id = ? AND day = ?`, acct, beijingDayNumber(repDay.Unix())+1); err != nil {
		t.Fatal(err)
	}
	got, err := db.Report(ctx, acct, o)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("with a damaged day: %v\n%+v\nwant\n%+v", err, got, want)
	}
	if d := storedDays(t, db, acct); len(d) != 2 {
		t.Errorf("stored again: %v", d)
	}
}

// A report read before a write stores nothing after it: its days may miss the write.
func TestReportDaysNotStoredAfterAChange(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	putRecords(t, db, acct, []api.Record{in("oA", at(0, 9, 0, 0), "在吗")})
	var gen int64
	if err := db.r.QueryRow(`SELECT gen FROM report_days_gen WHERE account_id = ?`, acct).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	part := newDayPart()
	part.customerMessages = 1
	old := encodeDayPart(part, beijingDayNumber(repDay.Unix()))
	putRecords(t, db, acct, []api.Record{out("oA", "kf01", at(0, 9, 1, 0))}) // meanwhile, a sync
	day := beijingDayNumber(repDay.Unix())
	s := db.newDaySink(acct, day, day+1, gen, nil, 0, -1)
	s.held[day] = old
	if err := s.end(ctx); err != nil {
		t.Fatal(err)
	}
	if d := storedDays(t, db, acct); len(d) != 0 {
		t.Errorf("a day read before the change was stored: %v", d)
	}
	rep, err := db.Report(ctx, acct, ReportOptions{From: repDay, To: repDay, Now: time.Unix(at(1, 9, 0, 0), 0)})
	if err != nil || rep.Replies != 1 || rep.Answered != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
}
