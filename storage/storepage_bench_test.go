package storage

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"kfdesk/api"
)

// BenchmarkStorePage stores 300,000 generated records in pages of 10,000 like a first
// sync (no HTTP), then builds the search index: the SQLite side of a sync alone, with
// its CPU time. KFDESK_STOREPAGE_RECORDS and KFDESK_STOREPAGE_SIZE change the sizes.
func BenchmarkStorePage(b *testing.B) {
	pageSize := 10_000
	if v, err := strconv.Atoi(os.Getenv("KFDESK_STOREPAGE_SIZE")); err == nil && v > 0 {
		pageSize = v
	}
	n := int64(300_000)
	if v, err := strconv.Atoi(os.Getenv("KFDESK_STOREPAGE_RECORDS")); err == nil && v > 0 {
		n = int64(v)
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, Beijing).Unix()
	src := genSource(n, from, 30*86400)
	var pages [][]pendingRecord
	var days []time.Time
	for d := range 30 {
		start := from + int64(d)*86400
		recs := src(start, start+86399)
		var pr []pendingRecord
		var last, in int64 = -1, 0
		for _, r := range recs {
			if r.Time != last {
				last, in = r.Time, 0
			}
			ar := api.Record{OpenID: r.OpenID, OperCode: r.OperCode, Text: r.Text, Time: r.Time, Worker: r.Worker}
			pr = append(pr, pendingRecord{Record: ar, key: recordKey(ar), n: in})
			in++
			if len(pr) == pageSize {
				pages, days = append(pages, pr), append(days, BeijingDay(time.Unix(start, 0)))
				pr = nil
			}
		}
		pages, days = append(pages, pr), append(days, BeijingDay(time.Unix(start, 0)))
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db, err := Open(filepath.Join(b.TempDir(), DBFileName))
		if err != nil {
			b.Fatal(err)
		}
		acct, _ := db.AddAccount(ctx, Account{Name: "bench", Kind: KindOA, AppID: "wx0123456789abcdef"})
		if _, err := db.deferIndexIfEmpty(ctx, acct.ID, time.Now()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0, c0 := time.Now(), cpuTime()
		for i, p := range pages {
			if _, err := db.storePage(ctx, acct.ID, days[i], p, true, true, len(p), time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		t1, c1 := time.Now(), cpuTime()
		if err := db.buildPendingIndex(ctx, acct.ID, func(int, int) {}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(t1.Sub(t0).Seconds(), "s/store")
		b.ReportMetric((c1 - c0).Seconds(), "cpu-s/store")
		b.ReportMetric(time.Since(t1).Seconds(), "s/index")
		b.ReportMetric((cpuTime() - c1).Seconds(), "cpu-s/index")
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
