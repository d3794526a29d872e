package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// benchRecords is the archive size of BenchmarkRecordList (KFDESK_BENCH_RECORDS overrides).
func benchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("KFDESK_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// fillArchive writes n records over the last 30 days straight into SQLite (one
// statement; the storage benchmark measures syncing, this one the window). Ids
// follow the archive's scheme: time<<20 | sequence.
func fillArchive(b *testing.B, db *storage.DB, accountID int64, n int) {
	b.Helper()
	end := clock.Now().Unix()
	start := end - 30*24*3600
	_, err := db.Writer().Exec(`
		WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1 - 1),
		gen AS (SELECT i, ?2 + i * (?3 - ?2) / ?1 AS t FROM seq)
		INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
		SELECT (t << 20) | (i & 1048575), ?4, t, printf('oBench%022d', (i * 7919) % 20011),
			CASE WHEN i % 50 = 0 THEN 1004 WHEN i % 2 = 0 THEN 2003 ELSE 2002 END,
			CASE WHEN i % 2 = 0 AND i % 50 <> 0 THEN '' ELSE printf('kf%02d@teashop', i % 8) END,
			CASE WHEN i % 50 = 0 THEN '' ELSE printf('%s #%d', json_extract('["你好，请问这款茶叶还有货吗","我要退款，包装破损了","亲，已为您查询，明天发货","Where is my parcel? tracking ID please","满减优惠和会员积分可以一起用吗","好的，谢谢"]', printf('$[%d]', i % 6)), i) END,
			randomblob(16), 0
		FROM gen`, n, start, end, accountID)
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecordList opens the chat-record browser on an archive of 1,000,000
// records (all of them match: no filter) and measures, per operation:
//   - build: the screen built, first page shown and the count known;
//   - refresh: one list refresh with its page cached (what a frame redraws);
//   - scroll: one wheel step of 3 rows, loading the next page from SQLite when one is crossed;
//   - jump: dragging the scrollbar to a random row, until that row's page is shown;
//   - jump-filtered: the same with a worker filter (125,000 results).
//
// ui-ns/op is the part spent on the UI thread; the rest is SQLite in the background.
func BenchmarkRecordList(b *testing.B) {
	n := benchRecords()
	b.Setenv("KFDESK_SECRETS", "file")
	a := test.NewTempApp(b)
	a.Settings().SetTheme(NewTheme(test.Theme()))
	ws, err := workspace.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	acct, err := ws.DB.AddAccount(context.Background(), storage.Account{Name: "bench", Kind: storage.KindOA, AppID: "wx0123456789abcdef", TokenMode: storage.TokenStable})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	fillArchive(b, ws.DB, acct.ID, n)
	b.Logf("%d records written in %v", n, time.Since(t0).Round(time.Millisecond))

	ownUIThread(b)
	m := NewMainWindow(a, ws)
	m.Window().Resize(fyne.NewSize(1100, 720))
	defer m.Window().Close()
	m.SelectAccount("bench")
	waitIdle(b, m)

	m.showPage(PageRecords)
	waitIdle(b, m)
	s := m.records
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			m.showPage(PageRecords)
			s = m.records
			waitIdle(b, m)
		}
		if s.total != n {
			b.Fatalf("%d rows, want %d", s.total, n)
		}
	})
	rowH := s.list.MinSize().Height // one row (List's MinSize is one item)
	b.Run("refresh", func(b *testing.B) {
		for b.Loop() {
			s.list.Refresh()
		}
	})
	b.Run("scroll", func(b *testing.B) {
		var ui time.Duration
		s.list.ScrollToTop()
		waitIdle(b, m)
		for b.Loop() {
			t := time.Now()
			s.list.ScrollToOffset(s.list.GetScrollOffset() + 3*rowH)
			ui += time.Since(t)
			waitIdle(b, m)
		}
		b.ReportMetric(float64(ui.Nanoseconds())/float64(b.N), "ui-ns/op")
		b.ReportMetric(float64(len(s.pages.pages)), "pages-cached")
	})
	jump := func(b *testing.B, rows int) {
		var ui time.Duration
		r := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			row := r.IntN(rows)
			t := time.Now()
			s.list.ScrollTo(row)
			ui += time.Since(t)
			waitIdle(b, m)
			if _, ok := s.pages.row(row); !ok {
				b.Fatalf("row %d not loaded", row)
			}
		}
		b.ReportMetric(float64(ui.Nanoseconds())/float64(b.N), "ui-ns/op")
		b.ReportMetric(float64(len(s.pages.pages)), "pages-cached")
	}
	b.Run("jump", func(b *testing.B) { jump(b, n) })
	s.worker.SetOptions([]string{T("All KF workers"), "kf03@teashop"})
	s.worker.SetSelectedIndex(1)
	waitIdle(b, m)
	want, _ := ws.DB.CountRecords(context.Background(), acct.ID, s.filter)
	if s.total != want || want == 0 {
		b.Fatalf("worker filter: %d rows, want %d", s.total, want)
	}
	b.Run(fmt.Sprintf("jump-filtered-%d", want), func(b *testing.B) { jump(b, want) })
}
