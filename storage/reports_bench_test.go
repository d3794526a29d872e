package storage

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"kfdesk/api"
)

// -report-days: the same records per day over more days tells whether the first
// report's memory grows with the archive's length.
var benchReportDays = flag.Int("report-days", 30, "days the reports benchmark's records span")

// BenchmarkReports computes the Reports page's figures over an archive of n
// generated records (-records, default 1,000,000) spread over 30 days (-report-days), for each
// period the page offers, beside a plain count(*) of the same period's records as
// the baseline measured in the same run. Each round first deletes the stored days
// (reports_days.go): its first report walks every day and stores them, the others
// merge them. make bench; quick: -records 100000.
func BenchmarkReports(b *testing.B) {
	n, span := benchSize(), *benchReportDays
	ctx := context.Background()
	db, err := Open(filepath.Join(b.TempDir(), DBFileName))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	acct, _ := db.AddAccount(ctx, Account{Name: "bench", Kind: KindOA, AppID: "wx0123456789abcdef"})
	now := time.Date(2026, 11, 23, 23, 59, 0, 0, Beijing)
	from := BeijingDay(now).AddDate(0, 0, 1-span).Unix()
	gen := time.Now()
	const chunk = 100_000
	for lo := int64(0); lo < n; lo += chunk {
		recs := make([]api.Record, 0, chunk)
		for i := lo; i < min(n, lo+chunk); i++ {
			r := genRecord(i, n, from, now.Unix()-from)
			recs = append(recs, api.Record{OpenID: r.OpenID, OperCode: r.OperCode, Time: r.Time, Worker: r.Worker, Text: r.Text})
		}
		putRecords(b, db, acct.ID, recs)
	}
	// Menus sent to 2,000 customers, three quarters answered.
	for i := range 2000 {
		c := fmt.Sprintf("oGen%024d", i)
		sent := time.Unix(from+int64(i)*1200, 0)
		if _, err := db.LogSend(ctx, acct.ID, SendLogEntry{Time: sent, ToUser: c, MsgType: "msgmenu", Body: menuBody(c, "101", "满意", "102", "不满意"), Status: SendOK}); err != nil {
			b.Fatal(err)
		}
		if i%4 != 3 {
			p := textPush(c, sent.Add(time.Minute), fmt.Sprint(i), "满意")
			p.MenuID = []string{"101", "102"}[i%4/2]
			if _, _, err := db.StorePush(ctx, acct.ID, p); err != nil {
				b.Fatal(err)
			}
		}
	}
	out := &strings.Builder{}
	fmt.Fprintf(out, "\n%d records over %d days (generated and stored in %.1f s), %s, GOMAXPROCS %d\n\n", n, span, time.Since(gen).Seconds(), runtime.Version(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "| period | records | report (wall) | report (CPU, all threads) | count(*) of the period (wall) | × (wall) | heap in use after | peak heap in use (sampled) | allocated |\n|---|---|---|---|---|---|---|---|---|\n")
	today := BeijingDay(now)
	for range b.N {
		// The first report after the migration walks every day and stores the days before today.
		if _, err := db.w.ExecContext(ctx, `DELETE FROM report_days`); err != nil {
			b.Fatal(err)
		}
		for _, p := range []struct {
			name     string
			from, to time.Time
		}{
			{"everything, first report (stores the days)", time.Time{}, time.Time{}},
			{"today", today, today},
			{"7 days", today.AddDate(0, 0, -6), today},
			{"30 days", today.AddDate(0, 0, -29), today},
			{"everything", time.Time{}, time.Time{}},
		} {
			lo, hi := p.from, p.to
			if lo.IsZero() {
				lo, hi = time.Unix(0, 0), today
			}
			start := time.Now()
			var count int
			if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE account_id = ? AND id >= ? AND id < ?`,
				acct.ID, idOfTime(lo.Unix()), idOfTime(hi.AddDate(0, 0, 1).Unix())).Scan(&count); err != nil {
				b.Fatal(err)
			}
			base := time.Since(start)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			stop := sampleHeapPeak()
			start, cpu := time.Now(), cpuTime()
			rep, err := db.Report(ctx, acct.ID, ReportOptions{From: p.from, To: p.to, Now: now})
			dur, cpu := time.Since(start), cpuTime()-cpu
			peak := stop()
			if err != nil || rep.CustomerMessages == 0 || len(rep.Words) != 30 || (p.to.IsZero() && len(rep.Menus) != 1) {
				b.Fatalf("%s: %v %+v", p.name, err, rep.Menus)
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(dur.Milliseconds()), "ms/"+strings.NewReplacer(" ", "", ",", "", "(", "", ")", "").Replace(p.name))
			b.ReportMetric(float64(peak>>20), "MB-peak-heap/"+strings.NewReplacer(" ", "", ",", "", "(", "", ")", "").Replace(p.name))
			fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %.1f× | %d MB | %d MB | %d MB |\n", p.name, count, ms(dur), ms(cpu), ms(base),
				dur.Seconds()/base.Seconds(), m.HeapInuse>>20, peak>>20, (m.TotalAlloc-before.TotalAlloc)>>20)
		}
	}
	var days, size int64
	if err := db.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(data)), 0) FROM report_days`).Scan(&days, &size); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(out, "\n%d stored days, %.1f MB\n", days, float64(size)/1e6)
	fmt.Print(out.String())
}

// sampleHeapPeak samples the heap in use (runtime.MemStats.HeapInuse: objects and
// the unused part of their spans) every millisecond until the returned func is
// called, which returns the highest sample. runtime/metrics reads it without
// stopping the world, so the sampling barely disturbs what it measures.
func sampleHeapPeak() func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(s)
		peak = max(peak, s[0].Value.Uint64()+s[1].Value.Uint64())
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}
