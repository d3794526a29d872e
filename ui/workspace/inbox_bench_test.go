package workspace_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Issue 12 §7, `make inbox-bench`: go test -run '^$' -bench Inbox -benchtime 1x ./ui/workspace/
// (KFDESK_BENCH_RECORDS=N for a smaller archive). Figures go to docs/BENCHMARKS.md.

const (
	benchConversations = 10_000
	benchBig           = "oBigCustomer00000000000000001" // the customer with 5,000 messages (1 record in 200)
)

func inboxBenchRecords() int {
	if n, err := strconv.Atoi(os.Getenv("KFDESK_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// fillArchive inserts slice part (of 10) of n records over the last 30 days for
// 10,000 customers straight into the records table (the summary trigger fires as for
// a sync) and returns how long that took.
func fillArchive(b *testing.B, ws *workspace.Workspace, acct int64, n, part int) time.Duration {
	b.Helper()
	now := clock.Now().Unix()
	span := int64(30 * 24 * 3600)
	start := time.Now()
	_, err := ws.DB.Writer().Exec(`WITH RECURSIVE n(i) AS (SELECT ?7 UNION ALL SELECT i + 1 FROM n WHERE i < ?8 - 1)
		INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
		SELECT ((?2 + i * ?3 / ?1) << 20) | (i & 1048575), ?4, ?2 + i * ?3 / ?1,
			CASE WHEN i % 200 = 0 THEN ?5 ELSE 'oBench' || printf('%022d', (i * 7919) % ?6) END,
			CASE WHEN i % 2 = 0 THEN 2003 ELSE 2002 END, 'kf0' || (i % 4) || '@shop',
			CASE i % 5 WHEN 0 THEN '你好，请问这款茶叶还有货吗' WHEN 1 THEN '亲，已为您查询' WHEN 2 THEN '[image]' WHEN 3 THEN '谢谢' ELSE '快递到哪里了' END,
			randomblob(16), 0
		FROM n`, n, now-span, span, acct, benchBig, benchConversations-1, part*n/10, (part+1)*n/10)
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

type latencies []time.Duration

func (l latencies) p(q float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

func (l latencies) String() string {
	return fmt.Sprintf("p50 %s, p95 %s, p99 %s", msOf(l.p(0.5)), msOf(l.p(0.95)), msOf(l.p(0.99)))
}

func msOf(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func sample(b *testing.B, n int, f func() int) (latencies, int) {
	b.Helper()
	var l latencies
	var got int
	for range n {
		t := time.Now()
		got = f()
		l = append(l, time.Since(t))
	}
	return l, got
}

// BenchmarkInboxOpen: the inbox list and a 5,000-message conversation with 10,000
// conversations, 1,000,000 records and 2,000 pushes (so reply windows are exact), beside the queries they replace (grouping the
// records per customer; the records browser's page of the conversation), and the
// summary triggers' cost on inserting the records beside the same insert without them.
func BenchmarkInboxOpen(b *testing.B) {
	ctx := context.Background()
	n := inboxBenchRecords()
	ws := openWS(b)
	a, err := ws.AddAccount(ctx, storage.Account{Name: "bench", Kind: storage.KindOA, AppID: jobAppID, APIBase: "http://127.0.0.1:9"}, "s")
	if err != nil {
		b.Fatal(err)
	}
	plain := openWS(b)
	pa, err := plain.AddAccount(ctx, storage.Account{Name: "bench", Kind: storage.KindOA, AppID: jobAppID, APIBase: "http://127.0.0.1:9"}, "s")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := plain.DB.Writer().Exec(`DROP TRIGGER inbox_record_insert`); err != nil {
		b.Fatal(err)
	}
	// In ten slices taken in turns, so a change in the machine's load hits both alike.
	var fill, fillPlain time.Duration
	for part := range 10 {
		fill += fillArchive(b, ws, a.ID, n, part)
		fillPlain += fillArchive(b, plain, pa.ID, n, part)
	}
	var waiting []storage.WaitCase
	for i := range 20 {
		waiting = append(waiting, storage.WaitCase{OpenID: fmt.Sprintf("oBench%022d", i*37), Since: clock.Now().Add(-time.Duration(i) * time.Minute)})
	}
	if err := ws.DB.SetInboxWaiting(ctx, a.ID, waiting); err != nil {
		b.Fatal(err)
	}
	// A push server feeds this account: every window is read from the pushes (exact).
	for i := range 2000 {
		p := storage.Push{CreateTime: clock.Now().Add(-time.Duration(i) * time.Minute), OpenID: fmt.Sprintf("oBench%022d", i%benchConversations),
			MsgType: "text", MsgID: strconv.Itoa(i), Content: "你好", Raw: []byte("{}"), BodyFormat: storage.FormatJSON}
		if _, _, err := ws.DB.StorePush(ctx, a.ID, p); err != nil {
			b.Fatal(err)
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\n%d records, %d conversations (one of %d messages), GOMAXPROCS %d, %s\n\n", n, benchConversations, n/200, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(&out, "| insert of the records | with the inbox triggers %.2f s | without them %.2f s | %.2f× |\n\n",
		fill.Seconds(), fillPlain.Seconds(), fill.Seconds()/fillPlain.Seconds())
	fmt.Fprintf(&out, "| 30 samples each | latency | rows | baseline |\n|---|---|---|---|\n")
	group := func() int {
		rows, err := ws.DB.Reader().QueryContext(ctx, `SELECT openid, max(id) AS last FROM records WHERE account_id = ? GROUP BY openid ORDER BY last DESC LIMIT 200`, a.ID)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		k := 0
		for rows.Next() {
			k++
		}
		return k
	}
	base, _ := sample(b, 5, group)
	for _, tc := range []struct {
		name string
		f    workspace.InboxFilter
	}{
		{"InboxConversations (200, waiting on top)", workspace.InboxFilter{}},
		{"  unread only", workspace.InboxFilter{UnreadOnly: true}},
		{"  one KF account", workspace.InboxFilter{KF: "kf01@shop"}},
		{"  window open", workspace.InboxFilter{OpenOnly: true}},
	} {
		l, rows := sample(b, 30, func() int {
			cs, err := ws.InboxConversations(ctx, a, tc.f)
			if err != nil {
				b.Fatal(err)
			}
			return len(cs)
		})
		fmt.Fprintf(&out, "| %s | %s | %d | GROUP BY over the records: %s |\n", tc.name, l, rows, base)
	}
	conv, _ := sample(b, 5, func() int {
		p, err := ws.DB.Conversation(ctx, a.ID, benchBig, 0, 5000)
		if err != nil {
			b.Fatal(err)
		}
		return len(p.Records)
	})
	for _, limit := range []int{100, 5000} {
		l, rows := sample(b, 30, func() int {
			ms, err := ws.InboxMessages(ctx, a, benchBig, time.Time{}, limit)
			if err != nil {
				b.Fatal(err)
			}
			return len(ms)
		})
		fmt.Fprintf(&out, "| InboxMessages, newest %d of the 5,000 | %s | %d | records browser's Conversation page of 5,000: %s |\n", limit, l, rows, conv)
	}
	l, _ := sample(b, 30, func() int {
		k, err := ws.UnreadTotal(ctx, a)
		if err != nil {
			b.Fatal(err)
		}
		return k
	})
	fmt.Fprintf(&out, "| UnreadTotal | %s | | |\n", l)
	b.Log(out.String())
}

// BenchmarkInboxPush: from the moment the fake sends a customer's message to the
// push server (ui/serve on loopback) to the desktop's WatchInbox handing it to
// onUpdate, beside the push's own round trip (WeChat to the server's answer,
// stored) measured in the same run.
func BenchmarkInboxPush(b *testing.B) {
	e := newFeedEnv(b)
	desk, a := desktop(b, e, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrived := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = desk.WatchInbox(ctx, a, workspace.WatchOptions{Interval: time.Hour}, func(u workspace.InboxUpdate) {
			for _, m := range u.New {
				arrived <- m.Text
			}
		})
	}()
	pushes := max(b.N, 200)
	var end, trip latencies
	for i := range pushes {
		text := fmt.Sprintf("第 %d 条消息", i)
		t := time.Now()
		e.push(b, wechattest.Text(jobCustomer, text))
		trip = append(trip, time.Since(t))
		for got := <-arrived; got != text; got = <-arrived {
		}
		end = append(end, time.Since(t))
	}
	cancel()
	<-done
	b.Logf("\n%d pushes one after the other\n\n| fake → server → feed → onUpdate | %s |\n| baseline: the push alone (stored and answered) | %s |\n",
		pushes, end, trip)
}
