package storage

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

// searchAll pages through a search and returns the ids, and checks CountRecords agrees.
func searchAll(t *testing.T, e *syncEnv, f RecordFilter) []int64 {
	t.Helper()
	ctx := context.Background()
	var got []int64
	var cur RecordCursor
	for {
		p, err := e.db.SearchRecords(ctx, e.acct, f, cur, 700)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if !p.More {
			break
		}
		cur = p.Next
	}
	if n, err := e.db.CountRecords(ctx, e.acct, f); err != nil || n != len(got) {
		t.Fatalf("%+v: count %d, search %d (%v)", f, n, len(got), err)
	}
	return got
}

func TestFirstSyncIndexedAtEndAndSearchableWhileInterrupted(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()
	from := e.today.AddDate(0, 0, -4).Unix()
	e.srv.SetRecordSource(genSource(30000, from, e.clock.Now().Unix()-from))
	filters := []RecordFilter{{Text: "茶"}, {Text: "满意"}, {Text: "不满意"}, {Text: "REFUND"}, {Text: "ok"},
		{Text: "退款", Worker: "小王@teashop"}, {Text: "发货", OperCodes: api.DirectionOperCodes(api.DirIn)}}
	all := func() []Record {
		var out []Record
		if err := e.db.eachRecord(ctx, e.acct, RecordFilter{}, 0, false, 0, func(r Record) error { out = append(out, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(when string) {
		t.Helper()
		recs := all()
		fs := append(filters, RecordFilter{OpenID: recs[len(recs)/3].OpenID}, RecordFilter{OpenID: recs[len(recs)/3].OpenID, Text: "满意"})
		for _, f := range fs {
			if got, want := searchAll(t, e, f), bruteForce(recs, f); !slices.Equal(got, want) {
				t.Fatalf("%s, %+v: %d results, brute force %d", when, f, len(got), len(want))
			}
		}
	}

	// Interrupted by quota on the third page: pages stored, index pending, search still right.
	e.srv.FailNth(listPath, 3, wechattest.Errcode(45009, ""))
	var phases []SyncPhase
	s := e.syncer()
	s.Progress = func(p SyncProgress) { phases = append(phases, p.Phase) }
	first := e.today.AddDate(0, 0, -4)
	if _, err := s.Range(ctx, first, e.today); err == nil {
		t.Fatal("no error on 45009")
	}
	if slices.Contains(phases, PhaseIndexing) {
		t.Fatal("an interrupted sync reported indexing")
	}
	if on, err := e.db.RecordsIndexing(ctx, e.acct); err != nil || !on {
		t.Fatalf("index not pending after an interrupted first sync: %v %v", on, err)
	}
	var indexed int
	if err := e.db.Reader().QueryRow(`SELECT (SELECT count(*) FROM records_fts WHERE records_fts MATCH '"refund" OR "不满意"') +
		(SELECT count(*) FROM records_grams WHERE records_grams MATCH '"茶" OR "满意"')`).Scan(&indexed); err != nil || indexed != 0 {
		t.Fatalf("%d rows indexed before the end of the first sync (%v)", indexed, err)
	}
	if n, _ := e.db.RecordCount(ctx, e.acct); n == 0 {
		t.Fatal("nothing stored before the interruption")
	}
	if _, openidIndex, _ := searchState(ctx, e.db.Reader(), e.acct); openidIndex {
		t.Fatal("records_openid kept during a first sync into an empty archive")
	}
	check("interrupted")
	conv, err := e.db.Conversation(ctx, e.acct, all()[0].OpenID, 0, 1000)
	if err != nil || len(conv.Records) == 0 {
		t.Fatalf("conversation while indexing: %d records, %v", len(conv.Records), err)
	}

	// The resumed sync stores the rest and then builds the index, reporting it.
	var last SyncProgress
	s = e.syncer()
	s.Progress = func(p SyncProgress) { last = p }
	var p SyncProgress
	p, err = s.Range(ctx, first, e.today)
	if err != nil {
		t.Fatal(err)
	}
	if p.Phase < PhaseIndexing || p.ToIndex != 30000 || p.Indexed != p.ToIndex || last != p { // then the suggested replies
		t.Fatalf("final progress %+v, last report %+v", p, last)
	}
	if on, _ := e.db.RecordsIndexing(ctx, e.acct); on {
		t.Fatal("index still pending after a complete sync")
	}
	if _, openidIndex, _ := searchState(ctx, e.db.Reader(), e.acct); !openidIndex {
		t.Fatal("records_openid not created again at the end of the sync")
	}
	if n, _ := e.db.RecordCount(ctx, e.acct); n != 30000 {
		t.Fatalf("%d records after the resumed sync", n)
	}
	check("indexed")

	// Later syncs of a non-empty archive index page by page: no pending phase.
	e.srv.AddRecords(wechattest.Record{OpenID: "oLate", OperCode: 2003, Text: "普洱还有货吗", Time: e.at(0, 50000)})
	if p, err = e.syncer().Incremental(ctx); err != nil || p.Added != 1 || p.ToIndex != 0 {
		t.Fatalf("incremental %+v %v", p, err)
	}
	if got := searchAll(t, e, RecordFilter{Text: "普洱还有货"}); len(got) != 1 {
		t.Fatalf("new record found %d times", len(got))
	}
	check("incremental")
}

func TestDeletingAnUnindexedAccountKeepsTheIndexSound(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()
	e.fill(2, 300)
	if _, err := e.syncer().Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	// A second account whose first sync is cancelled before the index is built.
	other, err := e.db.AddAccount(ctx, Account{Name: "bakery", Kind: KindOA, AppID: "wxabcdef0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	e.fill(1, 200)
	cctx, cancel := context.WithCancel(ctx)
	s := e.syncer()
	s.AccountID = other.ID
	s.Progress = func(p SyncProgress) {
		if p.Pages > 0 && p.DaysDone == p.Days {
			cancel()
		}
	}
	if _, err := s.Incremental(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel during the index build: %v", err)
	}
	if on, _ := e.db.RecordsIndexing(ctx, other.ID); !on {
		t.Fatal("cancelled build left the index marked done")
	}
	if err := e.db.DeleteAccount(ctx, "bakery"); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"records_fts", "records_grams"} {
		if _, err := e.db.Writer().Exec(`INSERT INTO ` + table + `(` + table + `, rank) VALUES ('integrity-check', 1)`); err != nil {
			t.Fatalf("%s after deleting an unindexed account: %v", table, err)
		}
	}
	if got := searchAll(t, e, RecordFilter{Text: "满意"}); len(got) != 300 {
		t.Fatalf("first account finds %d", len(got))
	}
	// Deleting an indexed account removes its rows from both indexes.
	if err := e.db.DeleteAccount(ctx, "茶叶小铺"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`INSERT INTO records_fts(records_fts, rank) VALUES ('integrity-check', 1)`,
		`INSERT INTO records_grams(records_grams, rank) VALUES ('integrity-check', 1)`} {
		if _, err := e.db.Writer().Exec(q); err != nil {
			t.Fatalf("after deleting an indexed account: %v", err)
		}
	}
	var left int
	if err := e.db.Reader().QueryRow(`SELECT (SELECT count(*) FROM records_fts WHERE records_fts MATCH '"Refund"') +
		(SELECT count(*) FROM records_grams WHERE records_grams MATCH '"满意"')`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d index entries left after deleting every account (%v)", left, err)
	}
}

func TestMigration0006KeepsEarlierRecordsSearchable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DBFileName)
	// A database as issue 5 first shipped it: migrations up to 0004, records indexed page by page.
	old := fstest.MapFS{}
	for _, n := range []string{"0001_init.sql", "0003_kf.sql", "0004_records.sql"} {
		b, err := fs.ReadFile(migrationFS, "migrations/"+n)
		if err != nil {
			t.Fatal(err)
		}
		old["migrations/"+n] = &fstest.MapFile{Data: b}
	}
	conn, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	conn.SetMaxOpenConns(1)
	db := &DB{path: path, w: conn, r: conn}
	if err := db.migrate(ctx, old); err != nil {
		t.Fatal(err)
	}
	a, err := db.AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	text := "对服务不满意 Refund"
	id := idOfTime(1_790_000_000)
	for _, q := range []string{`INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ) VALUES (?, ?, 1790000000, 'o', 2003, '', ?, x'00', 0)`,
		`INSERT INTO records_fts(rowid, text) VALUES (?, ?)`, `INSERT INTO records_grams(rowid, grams) VALUES (?, ?)`} {
		args := []any{id, a.ID, text}
		switch {
		case strings.Contains(q, "records_fts"):
			args = []any{id, text}
		case strings.Contains(q, "records_grams"):
			args = []any{id, grams(text)}
		}
		if _, err := conn.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"不满意", "refund", "满意", "退"} {
		p, err := db.SearchRecords(ctx, a.ID, RecordFilter{Text: q}, 0, 10)
		want := 1
		if q == "退" {
			want = 0
		}
		if err != nil || len(p.Records) != want {
			t.Fatalf("%q after migrating: %d found, %v", q, len(p.Records), err)
		}
	}
	if _, err := db.Writer().Exec(`INSERT INTO records_fts(records_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Fatal(err)
	}
}
