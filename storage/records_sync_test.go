package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

const listPath = "/customservice/msgrecord/getmsglist"

// syncEnv is a fake WeChat server with a client, and an archive with one account.
type syncEnv struct {
	t     *testing.T
	db    *DB
	srv   *wechattest.Server
	clock *wechattest.FakeClock
	cli   *api.Client
	acct  int64
	today time.Time // 00:00 Beijing of the clock's day
}

func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	// 15:00 Beijing: today is partly over, every earlier day is complete.
	clock := wechattest.NewFakeClock(time.Date(2026, 11, 23, 15, 0, 0, 0, Beijing))
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s3cr3t", Clock: clock})
	t.Cleanup(srv.Close)
	cli, err := api.New(api.Options{BaseURL: srv.URL, Timeout: 5 * time.Second,
		Tokens: api.TokenConfig{Mode: api.TokenClassic, AppID: "wx0123456789abcdef", Secret: "s3cr3t", Now: clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	db := openTemp(t)
	a, err := db.AddAccount(context.Background(), Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	return &syncEnv{t: t, db: db, srv: srv, clock: clock, cli: cli, acct: a.ID, today: BeijingDay(clock.Now())}
}

func (e *syncEnv) syncer() *RecordSync {
	return &RecordSync{DB: e.db, AccountID: e.acct, Fetcher: e.cli, Now: e.clock.Now, RetryWait: time.Millisecond}
}

// day returns the unix time of second s of the day d days before today.
func (e *syncEnv) at(daysAgo int, s int64) int64 { return e.today.AddDate(0, 0, -daysAgo).Unix() + s }

// stored returns the archive's records of the account in time order.
func (e *syncEnv) stored() []wechattest.Record {
	e.t.Helper()
	rows, err := e.db.Reader().Query(`SELECT openid, opercode, text, time, worker FROM records WHERE account_id = ? ORDER BY id`, e.acct)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []wechattest.Record
	for rows.Next() {
		var r wechattest.Record
		if err := rows.Scan(&r.OpenID, &r.OperCode, &r.Text, &r.Time, &r.Worker); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// exactlyOnce checks the archive holds exactly the server's records (as multisets, in time order).
func (e *syncEnv) exactlyOnce() {
	e.t.Helper()
	want, got := e.srv.Records(), e.stored()
	if len(got) != len(want) {
		e.t.Fatalf("archive has %d records, server %d", len(got), len(want))
	}
	key := func(r wechattest.Record) string {
		return fmt.Sprintf("%d|%s|%d|%s|%s", r.Time, r.OpenID, r.OperCode, r.Worker, r.Text)
	}
	count := map[string]int{}
	for i := range want {
		count[key(want[i])]++
		count[key(got[i])]--
		if got[i].Time != want[i].Time {
			e.t.Fatalf("record %d at %d, want %d (time order)", i, got[i].Time, want[i].Time)
		}
	}
	for k, n := range count {
		if n != 0 {
			e.t.Fatalf("record %s: %+d", k, n)
		}
	}
}

// fill adds n records to the day daysAgo, several per second, some identical.
func (e *syncEnv) fill(daysAgo, n int) {
	recs := make([]wechattest.Record, n)
	for i := range recs {
		recs[i] = wechattest.Record{OpenID: fmt.Sprintf("oUser%03d", i%17), OperCode: 2002 + i%2,
			Text: fmt.Sprintf("第%d条 满意 Refund", i), Time: e.at(daysAgo, 3600+int64(i)/3), Worker: "kf1@teashop"}
		if i%50 == 1 { // genuinely identical to the one before: same second, text and people
			recs[i] = recs[i-1]
		}
	}
	e.srv.AddRecords(recs...)
}

func TestSyncMultiPageDaysAndResyncAddsNothing(t *testing.T) {
	e := newSyncEnv(t)
	e.fill(3, 25000) // three pages
	e.fill(2, 10000) // exactly one full page, then an empty one
	e.fill(0, 123)   // today, not over yet
	e.fill(40, 10)   // gone from WeChat: never returned
	var reports []SyncProgress
	s := e.syncer()
	s.Progress = func(p SyncProgress) { reports = append(reports, p) }
	p, err := s.Incremental(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := 25000 + 10000 + 123
	if p.Added != want || p.Records != want || p.DaysDone != p.Days {
		t.Fatalf("progress %+v, want %d added", p, want)
	}
	// 31 windows (the retention edge day included), 3 + 2 pages on the filled days.
	if n := e.srv.Calls(listPath); n != p.Days+3 || p.Pages != n {
		t.Fatalf("%d calls, %d pages for %d days", n, p.Pages, p.Days)
	}
	if last := reports[len(reports)-1]; last != p || len(reports) < p.Pages {
		t.Fatalf("reports %d, last %+v", len(reports), last)
	}
	got := e.stored()
	if len(got) != want {
		t.Fatalf("%d stored", len(got))
	}
	identical := 0
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			identical++
		}
	}
	if identical != 500+200+3 {
		t.Fatalf("%d identical neighbours kept", identical)
	}
	// Yesterday is the last complete day; today is synced but not complete.
	if d, ok, err := e.db.LastCompleteDay(context.Background(), e.acct); err != nil || !ok || !d.Equal(e.today.AddDate(0, 0, -1)) {
		t.Fatalf("last complete day %v %v %v", d, ok, err)
	}

	// Incremental again: only today is fetched, and nothing is added.
	calls := e.srv.Calls(listPath)
	if p, err = e.syncer().Incremental(context.Background()); err != nil || p.Added != 0 || p.Days != 1 {
		t.Fatalf("second run %+v %v", p, err)
	}
	if e.srv.Calls(listPath) != calls+1 {
		t.Fatal("complete days were fetched again")
	}
	// A forced re-sync of everything adds nothing either.
	s = e.syncer()
	s.Force = true
	if p, err = s.Range(context.Background(), e.today.AddDate(0, 0, -5), e.today); err != nil || p.Added != 0 || p.Records != want {
		t.Fatalf("forced re-sync %+v %v", p, err)
	}
	e.srv.AddRecords(wechattest.Record{OpenID: "oLate", OperCode: 2003, Text: "还在吗", Time: e.at(0, 50000)})
	if p, err = e.syncer().Incremental(context.Background()); err != nil || p.Added != 1 {
		t.Fatalf("new record today %+v %v", p, err)
	}
}

func TestSyncResumesAfterEveryKindOfInterruption(t *testing.T) {
	faults := map[string]func(e *syncEnv) (context.Context, func()){
		"45009 quota": func(e *syncEnv) (context.Context, func()) {
			e.srv.FailNth(listPath, 3, wechattest.Errcode(45009, ""))
			return context.Background(), func() {}
		},
		"network drop": func(e *syncEnv) (context.Context, func()) {
			e.srv.FailAlways(listPath, wechattest.Drop())
			return context.Background(), e.srv.ClearFaults
		},
		"malformed page": func(e *syncEnv) (context.Context, func()) {
			e.srv.FailNth(listPath, 3, wechattest.Malformed())
			return context.Background(), func() {}
		},
		"HTTP 502 page": func(e *syncEnv) (context.Context, func()) {
			e.srv.FailAlways(listPath, wechattest.HTML502())
			return context.Background(), e.srv.ClearFaults
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			e := newSyncEnv(t)
			e.fill(2, 25000)
			e.fill(1, 5)
			ctx, clear := fault(e)
			p, err := e.syncer().Range(ctx, e.today.AddDate(0, 0, -2), e.today.AddDate(0, 0, -1))
			if err == nil {
				t.Fatalf("no error, %+v", p)
			}
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %T %v", err, err)
			}
			if name == "malformed page" && (ae.Kind != api.KindMalformed || p.Added != 20000) {
				t.Fatalf("malformed third page: %+v stored, %v", p, err)
			}
			clear()
			if _, ok, _ := e.db.LastCompleteDay(context.Background(), e.acct); ok {
				t.Fatal("a day was marked complete although its last page failed")
			}
			if _, err := e.syncer().Range(context.Background(), e.today.AddDate(0, 0, -2), e.today.AddDate(0, 0, -1)); err != nil {
				t.Fatal(err)
			}
			e.exactlyOnce()
		})
	}
}

func TestSyncCancelledMidwayResumes(t *testing.T) {
	e := newSyncEnv(t)
	e.fill(3, 20001)
	e.fill(2, 30)
	ctx, cancel := context.WithCancel(context.Background())
	s := e.syncer()
	s.Progress = func(p SyncProgress) {
		if p.Pages == 2 {
			cancel() // in the middle of a day: pages 1 and 2 of 3 are stored
		}
	}
	p, err := s.Range(ctx, e.today.AddDate(0, 0, -3), e.today.AddDate(0, 0, -2))
	if !errors.Is(err, context.Canceled) || p.Added != 20000 {
		t.Fatalf("%+v %v", p, err)
	}
	// A crash between pages leaves the same state as a cancel: committed pages only.
	p, err = e.syncer().Range(context.Background(), e.today.AddDate(0, 0, -3), e.today.AddDate(0, 0, -2))
	if err != nil || p.Added != 31 {
		t.Fatalf("resume %+v %v", p, err)
	}
	e.exactlyOnce()
}

func TestSyncRetriesTransientFailures(t *testing.T) {
	e := newSyncEnv(t)
	e.fill(1, 10)
	e.srv.FailNth(listPath, 1, wechattest.Drop())
	e.srv.FailNth(listPath, 2, wechattest.Errcode(-1, ""))
	if _, err := e.syncer().Range(context.Background(), e.today.AddDate(0, 0, -1), e.today.AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	e.exactlyOnce()
}

func TestSyncDateRangeValidation(t *testing.T) {
	e := newSyncEnv(t)
	var ve *ValidationError
	if _, err := e.syncer().Range(context.Background(), e.today, e.today.AddDate(0, 0, -1)); !errors.As(err, &ve) {
		t.Fatalf("reversed range: %v", err)
	}
	if _, err := e.syncer().Range(context.Background(), e.today.AddDate(0, 0, -90), e.today.AddDate(0, 0, -60)); !errors.As(err, &ve) {
		t.Fatalf("range older than 30 days: %v", err)
	}
	if _, err := ParseDay("2026-13-01"); !errors.As(err, &ve) {
		t.Fatalf("invalid date: %v", err)
	}
	// A range reaching into the future or the distant past is clipped to what WeChat keeps.
	p, err := e.syncer().Range(context.Background(), e.today.AddDate(0, 0, -400), e.today.AddDate(0, 0, 10))
	if err != nil || p.Days != 31 {
		t.Fatalf("clipped range %+v %v", p, err)
	}
	if e.srv.Calls(listPath) != 31 {
		t.Fatalf("%d calls", e.srv.Calls(listPath))
	}
}

// fakeFetcher serves canned pages, for answers the fake server never gives.
type fakeFetcher func(start, end, msgid int64, number int) (*api.MsgListPage, error)

func (f fakeFetcher) GetMsgList(_ context.Context, start, end, msgid int64, number int) (*api.MsgListPage, error) {
	return f(start, end, msgid, number)
}

func TestSyncOverlappingCursorAndOutOfWindowRecords(t *testing.T) {
	e := newSyncEnv(t)
	day := e.today.AddDate(0, 0, -1)
	recs := []api.Record{{OpenID: "o", OperCode: 2003, Text: "a", Time: day.Unix() + 1}, {OpenID: "o", OperCode: 2003, Text: "a", Time: day.Unix() + 1},
		{OpenID: "o", OperCode: 2002, Text: "b", Time: day.Unix() + 2}, {OpenID: "o", OperCode: 2002, Text: "c", Time: day.Unix() + 3}}
	// A server whose msgid is inclusive: each page starts with the previous page's last record.
	s := e.syncer()
	s.PageSize = 2
	s.Fetcher = fakeFetcher(func(start, end, msgid int64, number int) (*api.MsgListPage, error) {
		i := min(int(msgid-1), len(recs))
		j := min(i+number, len(recs))
		return &api.MsgListPage{Records: recs[i:j], Next: msgid + int64(j-i) - 1}, nil
	})
	p, err := s.Range(context.Background(), day, day)
	if err != nil || p.Added != 4 {
		t.Fatalf("%+v %v", p, err)
	}
	// A record outside the asked window is a malformed answer: nothing of that page is stored.
	s.Fetcher = fakeFetcher(func(start, end, msgid int64, number int) (*api.MsgListPage, error) {
		return &api.MsgListPage{Records: []api.Record{{OpenID: "o", OperCode: 2002, Text: "x", Time: start}, {OpenID: "o", OperCode: 2002, Time: end + 1}}, Next: 3}, nil
	})
	s.Force = true
	var ae *api.Error
	if _, err := s.Range(context.Background(), day, day); !errors.As(err, &ae) || ae.Kind != api.KindMalformed {
		t.Fatalf("out-of-window record: %v", err)
	}
	if n, _ := e.db.RecordCount(context.Background(), e.acct); n != 4 {
		t.Fatalf("%d records after a malformed page", n)
	}
}

func TestSameSecondRecordsKeepServerOrderAcrossAccounts(t *testing.T) {
	e := newSyncEnv(t)
	other, err := e.db.AddAccount(context.Background(), Account{Name: "bakery", Kind: KindOA, AppID: "wxabcdef0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	t1 := e.at(1, 100)
	var recs []wechattest.Record
	for i := range 5 {
		recs = append(recs, wechattest.Record{OpenID: "o", OperCode: 1000 + i, Text: fmt.Sprint(i), Time: t1})
	}
	e.srv.AddRecords(recs...)
	for _, acct := range []int64{other.ID, e.acct} { // the second account's ids collide and move on
		s := e.syncer()
		s.AccountID = acct
		if _, err := s.Range(context.Background(), e.today.AddDate(0, 0, -1), e.today.AddDate(0, 0, -1)); err != nil {
			t.Fatal(err)
		}
	}
	got := e.stored()
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].OperCode < got[j].OperCode }) || len(got) != 5 {
		t.Fatalf("order within the second lost: %+v", got)
	}
}

// WeChat's days are Beijing days: from 16:00 UTC on, Beijing is already on the next one.
func TestBeijingDayOfUTCTimes(t *testing.T) {
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 15, 59, 59, 0, time.UTC), "2026-11-23 00:00 +0800"},
		{time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC), "2026-11-24 00:00 +0800"},
		{time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), "2026-11-24 00:00 +0800"},
		{time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC), "2027-01-01 00:00 +0800"},
		{time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("PST", -8*3600)), "2026-11-24 00:00 +0800"},
	} {
		if got := BeijingDay(c.at).Format("2006-01-02 15:04 -0700"); got != c.want {
			t.Errorf("BeijingDay(%v) = %s, want %s", c.at, got, c.want)
		}
	}
}

// A sync whose clock answers in UTC after 16:00 syncs the Beijing day that has already begun.
func TestSyncWithUTCClockAfter1600(t *testing.T) {
	e := newSyncEnv(t)
	// 17:30 UTC on the 23rd = 01:30 Beijing on the 24th; the clock says it in UTC.
	e.clock.Set(time.Date(2026, 11, 23, 17, 30, 0, 0, time.UTC))
	e.today = time.Date(2026, 11, 24, 0, 0, 0, 0, Beijing)
	e.srv.AddRecords(
		wechattest.Record{OpenID: "oNight", OperCode: 2003, Text: "凌晨的消息", Time: e.at(0, 600), Worker: "kf1@teashop"},
		wechattest.Record{OpenID: "oNight", OperCode: 2002, Text: "昨晚的回复", Time: e.at(1, 23*3600), Worker: "kf1@teashop"})
	utc := func() time.Time { return e.clock.Now().UTC() }
	s := e.syncer()
	s.Now = utc
	p, err := s.Incremental(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Day.Equal(e.today) || p.Added != 2 {
		t.Fatalf("the sync ended on %v with %d new records; want the Beijing day %v and both records", p.Day, p.Added, e.today)
	}
	e.exactlyOnce()
	// The 23rd (Beijing) is over and complete; the 24th has begun, so it is not.
	if d, ok, err := e.db.LastCompleteDay(context.Background(), e.acct); err != nil || !ok || dayKey(d) != "2026-11-23" {
		t.Fatalf("last complete day %v %v %v, want 2026-11-23", d, ok, err)
	}
}
