package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkSuggestBuild: the exchanges of every customer of an archive of -records
// records (default 1M, suggestBenchRecords) built again, as the end of a sync does,
// in transactions of 500 customers (the build before the time bound) beside
// transactions of 500 customers or suggestHold; each twice, alternating. Meanwhile a
// small write every 10–100 ms, as a push into the inbox makes, measures how long a
// writer waits. go test -tags $TAGS -run '^$' -bench SuggestBuild -benchtime 1x ./storage/
func BenchmarkSuggestBuild(b *testing.B) {
	out := os.Stdout
	fmt.Fprintf(out, "\n%s, GOMAXPROCS %d\n", runtime.Version(), runtime.GOMAXPROCS(0))
	recs, _ := suggestBenchRecords(benchSize())
	start := time.Now()
	db, acct := suggestArchiveDB(b, recs)
	var customers int
	_ = db.Reader().QueryRow(`SELECT count(DISTINCT openid) FROM records WHERE account_id = ?`, acct).Scan(&customers)
	fmt.Fprintf(out, "%d records, %d customers, stored and built in %.1f s\n\n", len(recs), customers, time.Since(start).Seconds())
	fmt.Fprintln(out, "| transactions of | build | transactions | longest transaction | write waited p50 / p99 / max (writes) |\n|---|---|---|---|---|")
	var last time.Duration
	for _, run := range []struct {
		name string
		hold time.Duration
	}{{"500 customers", 0}, {"500 customers or " + suggestHold.String(), suggestHold}, {"500 customers", 0}, {"500 customers or " + suggestHold.String(), suggestHold}} {
		row, took := measureBuild(b, db, acct, run.hold)
		fmt.Fprintf(out, "| %s | %s |\n", run.name, row)
		last = took
	}
	// Cancel: how soon the build stops (inside a transaction: SQLite's interrupt rolls it back).
	for _, share := range []float64{0.2, 0.5} { // of the last build's time
		after := time.Duration(share * float64(last))
		markAllForSuggest(b, db)
		ctx, cancel := context.WithCancel(context.Background())
		fired := make(chan time.Time, 1)
		timer := time.AfterFunc(after, func() { fired <- time.Now(); cancel() })
		var done, total int
		err := db.buildSuggest(ctx, acct, suggestChunk, suggestHold, func(d, t int) { done, total = d, t })
		if timer.Stop() {
			cancel()
			fmt.Fprintf(out, "\nfinished before the cancel at %s", after.Round(100*time.Millisecond))
			continue
		}
		stopped := time.Since(<-fired)
		pending, _ := db.SuggestPending(context.Background(), acct)
		fmt.Fprintf(out, "\ncancelled %s in: stopped %s later (%v); %d of %d customers kept, %d still marked",
			after.Round(100*time.Millisecond), stopped.Round(10*time.Microsecond), err, done, total, pending)
	}
	fmt.Fprintln(out)
}

func markAllForSuggest(b *testing.B, db *DB) {
	if _, err := db.Writer().Exec(`INSERT OR IGNORE INTO suggest_dirty(account_id, openid) SELECT DISTINCT account_id, openid FROM records WHERE openid <> ''`); err != nil {
		b.Fatal(err)
	}
}

// measureBuild marks every customer and builds their exchanges while another writer
// writes a setting every 10–100 ms.
func measureBuild(b *testing.B, db *DB, acct int64, hold time.Duration) (string, time.Duration) {
	ctx := context.Background()
	markAllForSuggest(b, db)
	stop := make(chan struct{})
	var waits []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(10+rand.IntN(90)) * time.Millisecond): // not in step with the build
			}
			t0 := time.Now()
			if err := db.SetSetting(ctx, "bench_push", strconv.Itoa(i)); err != nil {
				b.Error(err)
				return
			}
			waits = append(waits, time.Since(t0))
		}
	}()
	var longest time.Duration
	last := time.Now()
	start, startCPU, txs := last, cpuTime(), -1
	err := db.buildSuggest(ctx, acct, suggestChunk, hold, func(done, total int) {
		longest, last = max(longest, time.Since(last)), time.Now()
		txs++
	})
	elapsed, cpu := time.Since(start), cpuTime()-startCPU
	close(stop)
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(waits)
	pct := func(p float64) time.Duration { return waits[int(p*float64(len(waits)-1))] }
	return fmt.Sprintf("%.1f s (CPU %.1f s) | %d | %s | %s / %s / %s (%d)", elapsed.Seconds(), cpu.Seconds(), txs, longest.Round(time.Millisecond),
		pct(0.5).Round(100*time.Microsecond), pct(0.99).Round(time.Millisecond), waits[len(waits)-1].Round(time.Millisecond), len(waits)), elapsed
}
