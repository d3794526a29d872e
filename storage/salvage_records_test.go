package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

// archivedRecord is a records row as stored, every column.
type archivedRecord struct {
	ID, Account, Time int64
	OpenID            string
	OperCode          int
	Worker, Text      string
	Key               string
	Occ               int
}

func allRecords(t *testing.T, db *DB) map[int64]archivedRecord {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT id, account_id, time, openid, opercode, worker, text, rkey, occ FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]archivedRecord{}
	for rows.Next() {
		var r archivedRecord
		var key []byte
		if err := rows.Scan(&r.ID, &r.Account, &r.Time, &r.OpenID, &r.OperCode, &r.Worker, &r.Text, &key, &r.Occ); err != nil {
			t.Fatal(err)
		}
		r.Key = string(key)
		out[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// salvageEnv is a synced archive (days 1–6 before today, 1,200 records each, texts
// unique: "D<day>-<n>"), closed, with the fake WeChat that still holds the records.
func salvageEnv(t *testing.T, kfOnly bool) (e *syncEnv, path string, orig map[int64]archivedRecord) {
	t.Helper()
	e = newSyncEnv(t)
	for d := 1; d <= 6; d++ {
		recs := make([]wechattest.Record, 1200)
		for i := range recs {
			op := 2002 + i%2
			if kfOnly {
				op = 2002
			}
			recs[i] = wechattest.Record{OpenID: fmt.Sprintf("oUser%03d", i%17), OperCode: op,
				Text: fmt.Sprintf("D%d-%04d 您好，这是第%d条记录 record", d, i, i), Time: e.at(d, 3600+int64(i)*7), Worker: "kf1@teashop"}
		}
		e.srv.AddRecords(recs...)
	}
	if _, err := e.syncer().Incremental(context.Background()); err != nil {
		t.Fatal(err)
	}
	orig = allRecords(t, e.db)
	path = e.db.Path()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	return e, path, orig
}

// tableRows walks the table b-tree of file b from its root page
// (https://www.sqlite.org/fileformat.html#b_tree_pages) and calls leaf with each leaf
// page's number, the deepest page number on its path from the root, and its rowids.
func tableRows(b []byte, page, deepest int64, leaf func(page, deepest int64, ids []int64)) {
	p := b[(page-1)*4096 : page*4096]
	deepest = max(deepest, page)
	n := int(binary.BigEndian.Uint16(p[3:5]))
	switch p[0] {
	case 0x0D:
		var ids []int64
		for i := range n {
			off := int(binary.BigEndian.Uint16(p[8+2*i:]))
			_, k := sqliteVarint(p[off:]) // the payload's size, then the rowid
			id, _ := sqliteVarint(p[off+k:])
			ids = append(ids, id)
		}
		leaf(page, deepest, ids)
	case 0x05:
		for i := range n {
			off := int(binary.BigEndian.Uint16(p[12+2*i:]))
			tableRows(b, int64(binary.BigEndian.Uint32(p[off:])), deepest, leaf)
		}
		tableRows(b, int64(binary.BigEndian.Uint32(p[8:12])), deepest, leaf)
	}
}

// sqliteVarint reads SQLite's big-endian varint (not Go's encoding/binary one).
func sqliteVarint(b []byte) (int64, int) {
	var v uint64
	for i := range 8 {
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return int64(v), i + 1
		}
	}
	return int64(v<<8 | uint64(b[8])), 9
}

// startEmpty sets path aside and salvages it into a new archive there, as the
// recovery window's "start with an empty archive" does.
func startEmpty(t *testing.T, path string) (*DB, string, RecordSalvage) {
	t.Helper()
	aside, err := SetAside(path, time.Date(2026, 11, 23, 16, 0, 0, 0, Beijing))
	if err != nil {
		t.Fatal(err)
	}
	damaged := readFile(t, aside)
	tmp := t.TempDir() // the copies of a file cut short go here: other test binaries make theirs meanwhile
	t.Setenv("TMPDIR", tmp)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Salvage(ctx, aside); err != nil {
		t.Fatal(err)
	}
	var last SalvageProgress
	got, err := db.SalvageRecords(ctx, aside, func(p SalvageProgress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if got.Stopped || last.Phase != SalvageIndexing || last.Records != got.Records {
		t.Fatalf("salvage %+v, last progress %+v", got, last)
	}
	if !bytes.Equal(readFile(t, aside), damaged) {
		t.Fatal("salvage changed the damaged file")
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "kfdesk-damaged-read-*")); len(left) != 0 {
		t.Fatalf("copies left behind: %v", left)
	}
	return db, aside, got
}

// A garbage page in the middle of one day's records: every other record is carried
// over as it was, that day is not marked synced (the others are), the next sync fills
// it from WeChat without a duplicate, and search finds what was carried.
func TestSalvageKeepsEveryReadableRecord(t *testing.T) {
	t.Run("in the middle", func(t *testing.T) { salvageAroundAGarbagePage(t, "D3-0600 ", 3) })
	// The first leaf of the table: the file cannot say its first record (min(id)).
	t.Run("the first records", func(t *testing.T) { salvageAroundAGarbagePage(t, "D6-0000 ", 6) })
}

// salvageAroundAGarbagePage overwrites the page of the record whose text starts
// with marker, daysAgo days before today.
func salvageAroundAGarbagePage(t *testing.T, marker string, daysAgo int) {
	e, path, orig := salvageEnv(t, false)
	b := readFile(t, path)
	var markerID int64
	for id, r := range orig {
		if r.Text[:8] == marker {
			markerID = id
		}
	}
	var lost []int64
	tableRows(b, rootPage(t, path, "records"), 0, func(page, _ int64, ids []int64) {
		if slices.Contains(ids, markerID) {
			lost = ids
			overwritePage(t, path, page)
		}
	})
	if lost == nil {
		t.Fatal("the record's page was not found")
	}
	ctx := context.Background()
	// What doctor and the recovery window say is readable: what the salvage carries.
	readable, err := ReadableRecords(ctx, path)
	if err != nil || readable.Records != int64(len(orig)-len(lost)) || len(readable.LostDays) != 1 {
		t.Fatalf("readable %+v, %v; want %d", readable, err, len(orig)-len(lost))
	}
	db, _, got := startEmpty(t, path)

	want := map[int64]archivedRecord{}
	for id, r := range orig {
		if !slices.Contains(lost, id) {
			want[id] = r
		}
	}
	have := allRecords(t, db)
	if len(have) != len(want) || got.Records != int64(len(want)) {
		t.Fatalf("%d records carried over (reported %d), want %d of %d", len(have), got.Records, len(want), len(orig))
	}
	for id, r := range want {
		if have[id] != r {
			t.Fatalf("record %d: %+v, want %+v", id, have[id], r)
		}
	}
	lostDay := e.today.AddDate(0, 0, -daysAgo)
	if len(got.LostDays) != 1 || !got.LostDays[0].Equal(lostDay) || !got.First.Equal(e.today.AddDate(0, 0, -6)) ||
		!got.Last.Equal(e.today.AddDate(0, 0, -1)) {
		t.Fatalf("salvage %+v", got)
	}
	done, err := db.completeDays(ctx, e.acct)
	if err != nil {
		t.Fatal(err)
	}
	for d := 1; d <= 29; d++ {
		if k := dayKey(e.today.AddDate(0, 0, -d)); done[k] != (d != daysAgo) {
			t.Errorf("day %s marked complete: %v", k, done[k])
		}
	}

	// Search by the index, not a scan: the index was built.
	if pending, err := db.RecordsIndexing(ctx, e.acct); err != nil || pending {
		t.Fatalf("index pending %v %v", pending, err)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM records_fts WHERE records_fts MATCH '"D5-0123"'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("fts finds %d, %v", n, err)
	}
	page, err := db.SearchRecords(ctx, e.acct, RecordFilter{Text: "D5-0123"}, 0, 10)
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("search %+v %v", page, err)
	}
	if err := db.Reader().QueryRow(`SELECT count(*) FROM inbox_conversations WHERE account_id = ?`, e.acct).Scan(&n); err != nil || n != 17 {
		t.Fatalf("%d conversations, %v", n, err)
	}

	// The next sync fetches day 3 again (and only the days not complete), adding
	// exactly the records that could not be read.
	e.db = db
	p, err := e.syncer().Incremental(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Added != len(lost) || p.Days != 2 { // the damaged day, and today (not over)
		t.Fatalf("sync %+v, want %d added", p, len(lost))
	}
	e.exactlyOnce()
	if done, _ := db.completeDays(ctx, e.acct); !done[dayKey(lostDay)] {
		t.Fatal("the damaged day is not complete after the sync")
	}
}

// A file cut short: the records in the pages before the cut are carried over.
func TestSalvageOfATruncatedFileKeepsTheRecordsBeforeTheCut(t *testing.T) {
	_, path, orig := salvageEnv(t, true) // KF messages only: their texts are nowhere else than in their records
	b := readFile(t, path)
	cut := bytes.Index(b, []byte("D3-0600 ")) / 4096 * 4096 // in the middle of the records
	root := rootPage(t, path, "records")
	if err := os.WriteFile(path, b[:cut+1000], 0o600); err != nil {
		t.Fatal(err)
	}
	db, _, got := startEmpty(t, path)
	have := allRecords(t, db)
	before := 0
	tableRows(b, root, 0, func(page, deepest int64, ids []int64) {
		if deepest*4096 > int64(cut) { // a page on the way to this one is (partly) gone
			return
		}
		for _, id := range ids {
			before++
			if have[id] != orig[id] {
				t.Errorf("record %d (%s) before the cut was not carried over", id, orig[id].Text)
			}
		}
	})
	for id, r := range have {
		if orig[id] != r {
			t.Fatalf("record %d is not the original: %+v", id, r)
		}
	}
	if before < len(orig)/4 || got.Records != int64(len(have)) || len(have) == len(orig) || len(got.LostDays) == 0 {
		t.Fatalf("%d of %d before the cut, %d carried over, salvage %+v", before, len(orig), len(have), got)
	}
}

// A customer message archived from a push, that getmsglist has not returned yet:
// its push and link come along, so the next sync matches it instead of archiving it
// twice. Salvage, then cancel: what was copied stays, and the next sync finishes.
func TestSalvageCarriesPushesAndTheirRecords(t *testing.T) {
	e := newSyncEnv(t)
	const alice = "oAlice00000000000000000000001"
	at := time.Unix(e.at(2, 5000), 0)
	e.srv.AddRecords(wechattest.Record{OpenID: alice, OperCode: 2002, Text: "欢迎光临", Time: at.Unix() - 60, Worker: "kf1@teashop"})
	if _, err := e.syncer().Incremental(context.Background()); err != nil {
		t.Fatal(err)
	}
	archivePush(t, e.db, e.acct, textPush(alice, at, "1", "还有货吗"))
	path := e.db.Path()
	e.db.Close()
	db, _, got := startEmpty(t, path)
	if got.Records != 2 || len(got.LostDays) != 0 {
		t.Fatalf("salvage %+v", got)
	}
	// WeChat now returns the message too: it takes over the pushed one's record.
	e.srv.AddRecords(wechattest.Record{OpenID: alice, OperCode: 2003, Text: "还有货吗", Time: at.Unix(), Worker: "kf1@teashop"})
	e.db = db
	s := e.syncer()
	s.Force = true
	if _, err := s.Range(context.Background(), e.today.AddDate(0, 0, -2), e.today); err != nil {
		t.Fatal(err)
	}
	if a := archived(t, db, e.acct, alice); !slices.Equal(a, []string{"2002 kf1@teashop 欢迎光临", "2003 kf1@teashop 还有货吗 +"}) {
		t.Fatalf("archived %q", a)
	}
}

// Stopped midway: the days copied so far stay, with their synced marks; the days
// after are not marked, and the next sync fetches them and builds the search index.
func TestSalvageStoppedMidwayKeepsWhatWasCopied(t *testing.T) {
	e, path, orig := salvageEnv(t, false)
	aside, err := SetAside(path, time.Date(2026, 11, 23, 16, 0, 0, 0, Beijing))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := db.Salvage(ctx, aside); err != nil {
		t.Fatal(err)
	}
	got, err := db.SalvageRecords(ctx, aside, func(p SalvageProgress) {
		if p.DaysDone == 3 {
			cancel()
		}
	})
	if err != nil || !got.Stopped || got.Records != 3*1200 || !got.Last.Equal(e.today.AddDate(0, 0, -4)) {
		t.Fatalf("salvage %+v, %v", got, err)
	}
	done, err := db.completeDays(context.Background(), e.acct)
	if err != nil {
		t.Fatal(err)
	}
	for d := 1; d <= 29; d++ {
		if k := dayKey(e.today.AddDate(0, 0, -d)); done[k] != (d > 3) {
			t.Errorf("day %s marked complete: %v", k, done[k])
		}
	}
	e.db = db
	if p, err := e.syncer().Incremental(context.Background()); err != nil || p.Added != len(orig)-3*1200 {
		t.Fatalf("sync %+v %v", p, err)
	}
	e.exactlyOnce()
	if pending, err := db.RecordsIndexing(context.Background(), e.acct); err != nil || pending {
		t.Fatalf("index pending %v %v", pending, err)
	}
}
