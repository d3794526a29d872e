package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"kfdesk/api"
)

// backfillRecords: 2,500 generated records over 12 days for 30 customers, whose
// conversations are mostly one message hours apart, so a KF reply often comes on a
// later day than the conversation began; and by hand, a conversation across
// midnight, one answered a week later and again by another worker, one answered a
// minute after midnight.
func backfillRecords() []api.Record {
	var all []api.Record
	for i := range int64(2500) {
		r := genRecord(i, 2500, repDay.Unix(), 12*86400)
		all = append(all, api.Record{OpenID: fmt.Sprintf("o%02d", mix(uint64(i))%30), OperCode: r.OperCode, Time: r.Time, Worker: r.Worker, Text: r.Text})
	}
	all = append(all,
		in("oNight", at(1, 23, 50, 0), "在吗"), in("oNight", at(2, 0, 10, 0), "有人吗"),
		out("oNight", "kf09", at(2, 0, 20, 0)), out("oNight", "kf10", at(2, 1, 0, 0)),
		in("oWeek", at(2, 9, 0, 0), "退货 怎么 退货"), out("oWeek", "kf09", at(9, 9, 0, 0)), out("oWeek", "kf10", at(11, 9, 0, 0)),
		in("oMidnight", at(4, 23, 59, 0), "发票"), out("oMidnight", "kf11", at(5, 0, 1, 0)),
	)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	return all
}

// storedPart is a stored day merged alone, every reply counted.
type storedPart struct {
	Rep   *Report
	Last  []partCust
	Han   map[uint64]*gramCount
	Words map[string]*gramCount
}

func storedParts(t *testing.T, db *DB, acct int64) map[int64]storedPart {
	t.Helper()
	rows, err := db.r.Query(`SELECT day, data FROM report_days WHERE account_id = ?`, acct)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	parts := map[int64]storedPart{}
	for rows.Next() {
		var day int64
		var b []byte
		if err := rows.Scan(&day, &b); err != nil {
			t.Fatal(err)
		}
		rep := &Report{Days: make([]DayFigures, 1)}
		m := newPartMerger(rep, day, 1<<62)
		if err := m.add(day, b); err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		m.finish()
		slices.SortFunc(m.last, func(a, b partCust) int { return int(a.id - b.id) })
		parts[day] = storedPart{rep, m.last, m.words.han, m.words.words}
	}
	return parts
}

// setStoreBatch: a store once n bytes wait, of all days but the last keep.
func setStoreBatch(t *testing.T, n, keep int, hook func(*daySink)) {
	bytes, kept := reportStoreBatch, reportStoreKeep
	reportStoreBatch, reportStoreKeep, reportStoredHook = n, keep, hook
	t.Cleanup(func() { reportStoreBatch, reportStoreKeep, reportStoredHook = bytes, kept, nil })
}

// The first report stores the walked days in batches as it goes, each day dropped
// once stored: a worker's first reply in a conversation of a day stored before
// rewrites that day. The stored days are those of a walk that stores them all at
// the end, and the report is the brute force's.
func TestReportBackfillInBatches(t *testing.T) {
	all := backfillRecords()
	now := time.Unix(at(11, 18, 0, 0), 0)
	whole, last := repDay, repDay.AddDate(0, 0, 11)
	var parts []map[int64]storedPart
	for _, batch := range []struct{ n, keep int }{{1, 0}, {1, 2}, {1 << 40, 0}} {
		db, acct := pushEnv(t)
		putRecords(t, db, acct, all)
		stores, rewrites := 0, 0
		setStoreBatch(t, batch.n, batch.keep, func(s *daySink) { stores, rewrites = s.stores, s.rewrites })
		o := ReportOptions{From: whole, To: last, Now: now, UnansweredAfter: time.Hour}
		got, err := db.Report(context.Background(), acct, o)
		if err != nil {
			t.Fatal(err)
		}
		if d := storedDays(t, db, acct); len(d) != 11 || d[0] != beijingDayNumber(whole.Unix()) {
			t.Fatalf("batch %v: stored days %v", batch, d)
		}
		if batch.keep == 0 && batch.n == 1 && (stores < 11 || rewrites < 10) || batch.n > 1 && stores != 1 {
			t.Errorf("batch %v: %d stores, %d days rewritten with late workers", batch, stores, rewrites)
		}
		parts = append(parts, storedParts(t, db, acct))
		again, err := db.Report(context.Background(), acct, o)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("batch %v: from the stored days %v\n%+v\nwhile storing them\n%+v", batch, err, again, got)
		}
		checkStored(t, db, acct, all, whole, last, now, fmt.Sprint("batch ", batch))
		checkStored(t, db, acct, all, repDay.AddDate(0, 0, 2), repDay.AddDate(0, 0, 5), now, fmt.Sprint("batch ", batch, ", days 2–5"))
	}
	for i, batch := range parts[:2] {
		for day, p := range parts[2] {
			if !reflect.DeepEqual(batch[day], p) {
				t.Errorf("day %d stored in batches (%d)\n%+v\nall at the end\n%+v", day, i, batch[day].Rep, p.Rep)
			}
		}
	}
}

// A walk cancelled after storing some days leaves nothing the next report reads
// (those days may miss replies the walk had not reached yet): the first report's,
// and one after a change to an old day.
func TestReportBackfillCancelled(t *testing.T) {
	db, acct := pushEnv(t)
	all := backfillRecords()
	putRecords(t, db, acct, all)
	now := time.Unix(at(11, 18, 0, 0), 0)
	whole, last := repDay, repDay.AddDate(0, 0, 11)
	day0 := beijingDayNumber(whole.Unix())
	cancelled := func(what string) []int64 {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		setStoreBatch(t, 1, 0, func(s *daySink) {
			if s.stores == 3 {
				cancel()
			}
		})
		if _, err := db.Report(ctx, acct, ReportOptions{From: whole, To: last, Now: now}); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: %v", what, err)
		}
		reportStoredHook = nil
		return storedDays(t, db, acct)
	}
	if d := cancelled("first report"); !slices.Equal(d, []int64{day0 + 1, day0 + 2}) {
		t.Fatalf("first report: stored days %v", d)
	}
	checkStored(t, db, acct, all, whole, last, now, "after a cancelled first report")

	// A new customer on day 3: the days from 3 on go; the next walk is cancelled too.
	late := []api.Record{in("oNew", at(3, 12, 0, 0), "你好")}
	storeLate(t, db, acct, late)
	all = append(all, late...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time < all[j].Time })
	if d := cancelled("after a change"); !slices.Equal(d, []int64{day0, day0 + 1, day0 + 2, day0 + 4, day0 + 5}) {
		t.Fatalf("after a change: stored days %v", d)
	}
	checkStored(t, db, acct, all, whole, last, now, "after a cancelled walk from a change")
}

// Of two walks storing the same days (two processes, or a cancelled report not yet
// stopped), the later one's first store stops the earlier: the earlier one's days
// are not final until it ends, and it would write them over the later one's.
func TestReportBackfillOvertaken(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	putRecords(t, db, acct, []api.Record{in("oA", at(0, 9, 0, 0), "在吗"), out("oA", "kf01", at(1, 9, 0, 0))})
	var gen int64
	if err := db.r.QueryRow(`SELECT gen FROM report_days_gen WHERE account_id = ?`, acct).Scan(&gen); err != nil {
		t.Fatal(err)
	}
	day := beijingDayNumber(repDay.Unix())
	older := db.newDaySink(acct, day, day+2, gen, nil, 0, -1)
	newer := db.newDaySink(acct, day, day+2, gen, nil, 0, -1)
	want := encodeDayPart(newDayPart(), day+1)
	newer.held[day+1] = want
	if err := newer.store(ctx, true); err != nil {
		t.Fatal(err)
	}
	older.held[day+1] = []byte{1, 2, 3}
	if err := older.store(ctx, true); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := db.r.QueryRow(`SELECT data FROM report_days WHERE account_id = ? AND day = ?`, acct, day+1).Scan(&got); err != nil || !slices.Equal(got, want) || older.gen != -1 {
		t.Errorf("stored %v %v (older walk's gen %d)", got, err, older.gen)
	}
}
