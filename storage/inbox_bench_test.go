package storage

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// BenchmarkInboxSummary: the one-pass conversation summary at the end of a first
// sync (summariseInbox) over benchSize() records of 10,000 customers, beside one
// plain grouping pass over the same records. `make inbox-bench`; docs/BENCHMARKS.md.
func BenchmarkInboxSummary(b *testing.B) {
	ctx := context.Background()
	n := benchSize()
	db := openTemp(b)
	a, err := db.AddAccount(ctx, Account{Name: "bench", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Unix()
	if _, err := db.w.Exec(`INSERT INTO record_index_pending(account_id, since) VALUES (?, ?)`, a.ID, now); err != nil {
		b.Fatal(err)
	}
	if _, err := db.w.Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
		INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
		SELECT ((?2 + i * 2592000 / ?1) << 20) | (i & 1048575), ?3, ?2 + i * 2592000 / ?1, 'oBench' || printf('%022d', (i * 7919) % 10000),
			CASE i % 3 WHEN 0 THEN 2002 ELSE 2003 END, 'kf0' || (i % 4) || '@shop', '你好', randomblob(16), 0 FROM n`, n, now-2592000, a.ID); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var groups int
	if err := db.r.QueryRow(`SELECT count(*) FROM (SELECT openid, max(id) FROM records WHERE account_id = ? GROUP BY openid)`, a.ID).Scan(&groups); err != nil {
		b.Fatal(err)
	}
	base := time.Since(start)
	start = time.Now()
	if err := db.WriteTx(ctx, func(tx *sql.Tx) error { return summariseInbox(ctx, tx, a.ID) }); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	rows, err := db.InboxRows(ctx, a.ID, InboxQuery{Limit: 20000})
	if err != nil || len(rows) != groups {
		b.Fatalf("%d conversations, want %d: %v", len(rows), groups, err)
	}
	b.Logf("\n| summary of %d records, %d conversations | %.2f s | one grouping pass: %.2f s | %.1f× |\n",
		n, groups, took.Seconds(), base.Seconds(), took.Seconds()/base.Seconds())
}
