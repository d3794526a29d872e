package storage

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kfdesk/api"
)

// BenchmarkSalvage: go test -run '^$' -bench Salvage -benchtime 1x ./storage/ [-records N].
// An archive of n generated records over a year (genRecord), closed; then starting
// empty from it as the recovery window does (Salvage + SalvageRecords), whole and with
// one leaf page of the records overwritten, beside a plain count of the same file.
func BenchmarkSalvage(b *testing.B) {
	n := benchSize()
	ctx := context.Background()
	dir := b.TempDir()
	src := filepath.Join(dir, "source.db")
	db, err := Open(src)
	if err != nil {
		b.Fatal(err)
	}
	a, err := db.AddAccount(ctx, Account{Name: "bench", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	const span = 365 * 24 * 3600
	from := time.Date(2025, 12, 1, 0, 0, 0, 0, Beijing).Unix()
	start := time.Now()
	for lo := int64(0); lo < n; lo += 20000 {
		err := db.WriteTx(ctx, func(tx *sql.Tx) error {
			ins, err := tx.Prepare(`INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for i := lo; i < min(n, lo+20000); i++ {
				g := genRecord(i, n, from, span)
				r := api.Record{OpenID: g.OpenID, OperCode: g.OperCode, Worker: g.Worker, Text: g.Text, Time: g.Time}
				if _, err := ins.Exec(idOfTime(r.Time)|(i&(1<<idShift-1)), a.ID, r.Time, r.OpenID, r.OperCode, r.Worker, r.Text, recordKey(r)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// Every day synced, as a real archive's.
	if _, err := db.w.Exec(`INSERT INTO record_days(account_id, day, complete, records, synced_at)
		SELECT ?1, date(time, 'unixepoch', '+8 hours'), 1, count(*), ?2 FROM records GROUP BY 2`, a.ID, from+span); err != nil {
		b.Fatal(err)
	}
	var root int64
	if err := db.r.QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'records'`).Scan(&root); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(src)
	b.Logf("source: %d records, %d MB, written in %.1f s", n, fi.Size()>>20, time.Since(start).Seconds())

	count := func(query string) time.Duration {
		c, err := sql.Open("sqlite3", fileURI(src, "mode=ro"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		var got int64
		if err := c.QueryRow(query).Scan(&got); err != nil || got != n {
			b.Fatalf("%s: %d, %v", query, got, err)
		}
		return time.Since(start)
	}
	salvage := func(name string) {
		path := filepath.Join(b.TempDir(), DBFileName)
		start := time.Now()
		db, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Salvage(ctx, src); err != nil {
			b.Fatal(err)
		}
		var copied time.Duration
		got, err := db.SalvageRecords(ctx, src, func(p SalvageProgress) {
			if p.Phase == SalvageIndexing && copied == 0 {
				copied = time.Since(start)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.Logf("\n| %s: %d records, %d days unreadable | copy %.1f s | copy + indexes %.1f s |", name, got.Records, len(got.LostDays),
			copied.Seconds(), took.Seconds())
	}
	// The whole file read twice before: both baselines read from the OS cache, like the salvage.
	count(`SELECT count(*) FROM records`)
	b.Logf("\n| baseline: SELECT count(*) FROM records | %.3f s |\n| baseline: count(*) reading every row's text (ReadableTables) | %.3f s |",
		count(`SELECT count(*) FROM records`).Seconds(), count(`SELECT count(*) FROM records WHERE length(text) >= 0`).Seconds())
	salvage("whole file")

	// One leaf page of the records, halfway along the table's b-tree, overwritten.
	raw, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	var leaves []int64
	tableRows(raw, root, 0, func(page, _ int64, _ []int64) { leaves = append(leaves, page) })
	f, err := os.OpenFile(src, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(0xA5 ^ i)
	}
	if _, err := f.WriteAt(garbage, (leaves[len(leaves)/2]-1)*4096); err != nil {
		b.Fatal(err)
	}
	f.Close()
	start = time.Now()
	readable, err := ReadableRecords(ctx, src)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("\n| one records page overwritten: ReadableRecords (doctor, the recovery window) counts %d, %d days unreadable | %.2f s |",
		readable.Records, len(readable.LostDays), time.Since(start).Seconds())
	salvage("one records page overwritten")
}
