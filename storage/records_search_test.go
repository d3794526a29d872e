package storage

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

// searchEnv syncs n generated records over the last days days into a fresh archive.
func searchEnv(t *testing.T, n int64, days int) (*syncEnv, []Record) {
	return archiveEnv(t, n, days, nil)
}

// archiveEnv is searchEnv with each generated record passed through change first (if not nil).
func archiveEnv(t *testing.T, n int64, days int, change func(*wechattest.Record)) (*syncEnv, []Record) {
	t.Helper()
	e := newSyncEnv(t)
	from := e.today.AddDate(0, 0, 1-days).Unix()
	src := genSource(n, from, e.clock.Now().Unix()-from)
	e.srv.SetRecordSource(func(start, end int64) []wechattest.Record {
		recs := src(start, end)
		for i := range recs {
			if change != nil {
				change(&recs[i])
			}
		}
		return recs
	})
	if _, err := e.syncer().Incremental(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []Record
	if err := e.db.eachRecord(context.Background(), e.acct, RecordFilter{}, 0, false, 0, func(r Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if int64(len(all)) != n {
		t.Fatalf("%d records archived, want %d", len(all), n)
	}
	return e, all
}

// bruteForce filters in Go what the archive should find, newest first.
func bruteForce(all []Record, f RecordFilter) []int64 {
	var ids []int64
	q := parseSearch(f.Text)
	for _, r := range all {
		lacks := func(w string) bool { return !strings.Contains(strings.ToLower(r.Text), strings.ToLower(w)) }
		has := func(w string) bool { return !lacks(w) }
		if slices.ContainsFunc(q.words, lacks) || slices.ContainsFunc(q.not, has) ||
			f.OpenID != "" && r.OpenID != f.OpenID || len(f.OpenIDs) > 0 && !slices.Contains(f.OpenIDs, r.OpenID) || f.Worker != "" && r.Worker != f.Worker ||
			len(f.OperCodes) > 0 && !slices.Contains(f.OperCodes, r.OperCode) ||
			!f.From.IsZero() && r.Time.Before(BeijingDay(f.From)) || !f.To.IsZero() && !r.Time.Before(BeijingDay(f.To).AddDate(0, 0, 1)) {
			continue
		}
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

func TestSearchMatchesBruteForce(t *testing.T) {
	e, all := searchEnv(t, 20000, 5)
	ctx := context.Background()
	someone := all[len(all)/2].OpenID
	// Customers (as a note search finds them) of 2,000 records: the scan path over many records.
	var many []string
	for _, r := range all[:2000] {
		many = append(many, r.OpenID)
	}
	many = slices.Compact(slices.Sorted(slices.Values(many)))
	yesterday := e.today.AddDate(0, 0, -1)
	filters := []RecordFilter{
		{Text: "好"}, {Text: "茶"}, {Text: "满意"}, {Text: "退款"}, {Text: "不满意"}, {Text: "退款发货"}, {Text: "红包雨活动"},
		{Text: "refund"}, {Text: "REFUND PLEASE"}, {Text: "iphone"}, {Text: "Ok"}, {Text: "o"}, {Text: "#1"}, {Text: "，"},
		{Text: "=SUM"}, {Text: "😊"}, {Text: "¥12"}, {Text: "100%"}, {Text: `"`},
		{Text: "é"}, {Text: "É"}, {Text: "ü"}, {Text: "Ä"}, {Text: "éc"}, {Text: "ÉC"}, {Text: "Ün"}, {Text: "äp"}, {Text: "ÖL"},
		{Text: "ÉCLAIR"}, {Text: "münchen"}, {Text: "BRÛLÉE"}, {Text: "é!"},
		{}, {OpenID: someone}, {OpenID: someone, Text: "满意"}, {Worker: "小王@teashop", Text: "满意"},
		{OperCodes: api.DirectionOperCodes(api.DirIn), Text: "退款"}, {OperCodes: []int{1004}},
		{From: yesterday, To: yesterday, Text: "发货"}, {From: yesterday, Text: "ok", Worker: "amy@teashop"},
		{To: e.today.AddDate(0, 0, -3)},
		// Several words (parseSearch): 1, 2 and 3+ characters mixed, Chinese and English, phrases, exclusions.
		{Text: "退款 发货"}, {Text: "发货 退款"}, {Text: "退款　发货"}, {Text: "退款 退款"}, {Text: "好 茶"}, {Text: "o k"},
		{Text: "ok 谢谢"}, {Text: "不满意 退款"}, {Text: "refund 退款"}, {Text: "iphone wechat"}, {Text: "满意度调查 红包雨活动 好"},
		{Text: `"原路退回"`}, {Text: `“原路退回”`}, {Text: `"wechat pay" 谢谢`}, {Text: `"thanks a lot" -ok`}, {Text: `"pay ok"`},
		{Text: "退款 -发票"}, {Text: "-发票"}, {Text: "满意 -不满意"}, {Text: "-满意 -退款 -o"}, {Text: `茶 -"tracking id"`},
		{Text: "a-1"}, {Text: "型号 -a-1"}, {Text: "退款 ，"}, {Text: "， 。"}, {Text: "#1 满意"}, {Text: "😊 好"}, {Text: "-😊 -，"},
		{Text: "é 满意"}, {Text: "ÉCLAIR -münchen"}, {Text: "münchen öl"}, {Text: "-É"}, {Text: "ä -ÖL"}, {Text: "鑫 退款"}, {Text: "退款 鑫鑫"},
		{Text: "发货吗 好"}, {Text: "发货吗 谢谢"}, {Text: "发货吗 o"}, // bigrams of 发货吗 in two phrases, not the word
		{Text: `"thanks a lot" wechat`}, {Text: `"sf express" "tracking id"`}, {Text: "CRÈME BRÛLÉE"}, {Text: "brûlée münchen"},
		{Text: "thanks thanx"}, {Text: "退款发货 退款发票"}, {Text: "满意度调查 -满意度调"}, // the first 4 characters match, the word does not
		{Text: "-"}, {Text: "退款 -"}, {Text: `"退款`}, {Text: `""`}, {Text: `-""`}, {Text: "已原路 -退回"},
		{OpenID: someone, Text: "满意 -不满意"}, {OpenID: someone, Text: "-好"}, {OpenIDs: many, Text: "满意 -不满意"},
		{OpenIDs: many, Text: "好 ok"}, {OpenIDs: many, Text: `"原路退回" -，`}, {OpenIDs: many, Text: "ÉCLAIR -MÜNCHEN"},
		{OpenIDs: many, Text: "ü -ö"}, {OpenIDs: many, Text: "-É -😊"}, {OpenIDs: many, Text: "a-1 型号"},
		{Worker: "小王@teashop", Text: "退款 发货"}, {OperCodes: api.DirectionOperCodes(api.DirOut), Text: "亲 -已为您"},
		{From: yesterday, To: yesterday, Text: "发货 -什么 ok"},
	}
	// One customer's records are scanned (LIKE), not looked up: fold there too.
	for _, r := range all {
		if strings.Contains(r.Text, "Éclair") {
			filters = append(filters, RecordFilter{OpenID: r.OpenID, Text: "éCLAIR"}, RecordFilter{OpenID: r.OpenID, Text: "é"},
				RecordFilter{OpenID: r.OpenID, Text: "Éc"}, RecordFilter{OpenID: r.OpenID, Text: "é -ÉCLAIR"},
				RecordFilter{OpenID: r.OpenID, Text: "-éclair"}, RecordFilter{OpenID: r.OpenID, Text: "éc ü"})
			break
		}
	}
	for _, f := range filters {
		want := bruteForce(all, f)
		var got []int64
		var cur RecordCursor
		pages := 0
		for {
			p, err := e.db.SearchRecords(ctx, e.acct, f, cur, 500)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			for _, r := range p.Records {
				got = append(got, r.ID)
			}
			pages++
			if !p.More {
				break
			}
			cur = p.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: %d results, brute force %d", f, len(got), len(want))
		} else if testing.Verbose() {
			t.Logf("%+v: %d results", f, len(got))
		}
		if n, err := e.db.CountRecords(ctx, e.acct, f); err != nil || n != len(want) {
			t.Errorf("%+v: count %d, want %d (%v)", f, n, len(want), err)
		}
		if f.Text == "满意" && f.OpenID == "" && f.Worker == "" && len(want) < 1000 {
			t.Fatalf("the generated data should match 满意 often, got %d", len(want))
		}
	}
	// A trigram MATCH of 2 characters would silently find nothing: make sure the plan avoids it.
	for q, index := range map[string]string{"满意": "records_grams", "退款 发货": "records_grams", "不满意 退款": "records_grams",
		"不满意 iphone": "records_fts", "，": "", "-发票": "", "thanks wechat": "records_fts"} {
		if p := planText(parseSearch(q), false); p.index != index {
			t.Errorf("%q is answered by %q, want %q", q, p.index, index)
		}
	}
}

// TestParseSearch pins the search language's edge cases (searchQuery in records_search.go).
func TestParseSearch(t *testing.T) {
	for _, c := range []struct {
		in        string
		words, no []string
	}{
		{"退款 发货", []string{"退款", "发货"}, nil},
		{"  退款　发货\t", []string{"退款", "发货"}, nil}, // ASCII, full-width and tab separators, outer space
		{`"原路退回"`, []string{"原路退回"}, nil},
		{`"原路 退回" 退款`, []string{"原路 退回", "退款"}, nil},
		{`“原路 退回”`, []string{"原路 退回"}, nil}, // a Chinese IME's quotes
		{`＂原路退回＂`, []string{"原路退回"}, nil},
		{"退款 -发票", []string{"退款"}, []string{"发票"}},
		{"退款 －发票", []string{"退款"}, []string{"发票"}}, // full-width minus
		{`-"开 发票" ok`, []string{"ok"}, []string{"开 发票"}},
		{"A-1 -A-1", []string{"A-1"}, []string{"A-1"}}, // - inside a word is the word's
		{"--x", nil, []string{"-x"}},
		{"-", nil, nil}, {"退款 -", []string{"退款"}, nil}, {"- 退款", []string{"退款"}, nil},
		{`""`, nil, nil}, {`"  "`, nil, nil}, {`-""`, nil, nil}, {`"`, nil, nil},
		{`"原路退`, []string{"原路退"}, nil},         // open quote: to the end, while typing
		{`" 原路 退 `, []string{"原路 退"}, nil},     // a phrase's outer spaces dropped
		{`12" 屏幕`, []string{`12"`, "屏幕"}, nil}, // a quote inside a word is literal
		{`"ab"cd`, []string{"ab", "cd"}, nil},
		{"， ！ 😊", []string{"，", "！", "😊"}, nil},    // punctuation and emoji are words
		{"OK ok Ok", []string{"OK"}, nil},          // the same word (any case) once
		{"ok -ok", []string{"ok"}, []string{"ok"}}, // contradiction: finds nothing, as asked
	} {
		q := parseSearch(c.in)
		if !slices.Equal(q.words, c.words) || !slices.Equal(q.not, c.no) {
			t.Errorf("%q: words %q, not %q; want %q, %q", c.in, q.words, q.not, c.words, c.no)
		}
	}
}

func TestConversationWorkersAndOtherAccounts(t *testing.T) {
	e, all := searchEnv(t, 3000, 2)
	ctx := context.Background()
	someone := all[100].OpenID
	var want []int64
	for _, r := range all {
		if r.OpenID == someone {
			want = append(want, r.ID)
		}
	}
	var got []int64
	var cur RecordCursor
	for {
		p, err := e.db.Conversation(ctx, e.acct, someone, cur, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			got = append(got, r.ID)
		}
		if !p.More {
			break
		}
		cur = p.Next
	}
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Fatalf("conversation %v, want %v", got, want)
	}
	ws, err := e.db.RecordWorkers(ctx, e.acct)
	if err != nil || !slices.Equal(ws, slices.Sorted(slices.Values(genWorkers))) {
		t.Fatalf("workers %v %v", ws, err)
	}
	// Another account sees none of it.
	other, _ := e.db.AddAccount(ctx, Account{Name: "other", Kind: KindOA, AppID: "wxabcdef0123456789"})
	if p, _ := e.db.SearchRecords(ctx, other.ID, RecordFilter{Text: "满意"}, 0, 10); len(p.Records) != 0 {
		t.Fatal("records leaked across accounts")
	}
}

func TestRecentCustomers(t *testing.T) {
	e := newSyncEnv(t)
	ctx := context.Background()
	at := func(s int64) int64 { return e.at(1, s) }
	e.srv.AddRecords(
		// alice wrote, got two answers, then the session closed.
		wechattest.Record{OpenID: "alice", OperCode: 1001, Time: at(10), Worker: "kf"},
		wechattest.Record{OpenID: "alice", OperCode: 2003, Text: "在吗", Time: at(11)},
		wechattest.Record{OpenID: "alice", OperCode: 2002, Text: "在", Time: at(12), Worker: "kf"},
		wechattest.Record{OpenID: "alice", OperCode: 2002, Text: "请讲", Time: at(13), Worker: "kf"},
		wechattest.Record{OpenID: "alice", OperCode: 1004, Time: at(500), Worker: "kf"},
		// bob only ever got a KF message.
		wechattest.Record{OpenID: "bob", OperCode: 2002, Text: "您好", Time: at(100), Worker: "kf"},
		// carol wrote through the OA (2001) most recently; an older answer does not count.
		wechattest.Record{OpenID: "carol", OperCode: 2002, Text: "hi", Time: at(20), Worker: "kf"},
		wechattest.Record{OpenID: "carol", OperCode: 2001, Text: "hello", Time: at(300)},
	)
	if _, err := e.syncer().Incremental(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.db.RecentCustomers(ctx, e.acct, 10)
	if err != nil {
		t.Fatal(err)
	}
	u := func(s int64) time.Time { return time.Unix(at(s), 0) }
	want := []Customer{
		{OpenID: "alice", LastMessage: u(11), LastActivity: u(500), RepliesSince: 2},
		{OpenID: "carol", LastMessage: u(300), LastActivity: u(300), RepliesSince: 0},
		{OpenID: "bob", LastActivity: u(100), RepliesSince: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if g := got[i]; g.OpenID != want[i].OpenID || !g.LastMessage.Equal(want[i].LastMessage) ||
			!g.LastActivity.Equal(want[i].LastActivity) || g.RepliesSince != want[i].RepliesSince {
			t.Errorf("customer %d = %+v, want %+v", i, g, want[i])
		}
	}
	if got, _ := e.db.RecentCustomers(ctx, e.acct, 1); len(got) != 1 || got[0].OpenID != "alice" {
		t.Fatalf("limit 1: %+v", got)
	}
}

// TestRecentCustomersMatchesBruteForce checks RecentCustomers against the records
// themselves: customers by their last record, the last message (2001/2003) and the
// KF messages (2002) after it. Customers come in bursts (a conversation) and at
// random, so the newest records may name fewer customers than asked for.
func TestRecentCustomersMatchesBruteForce(t *testing.T) {
	e, all := archiveEnv(t, 6000, 3, func(r *wechattest.Record) {
		if h := mix(uint64(r.Time)); h%4 == 0 {
			r.OpenID = fmt.Sprintf("oRandom%d", h%89)
		} else {
			r.OpenID = fmt.Sprintf("oBurst%d", (r.Time/1200)%131) // 20 minutes each, every 131 × 20 minutes
		}
	})
	type state struct {
		c      Customer
		lastID int64
	}
	by := map[string]*state{}
	for _, r := range slices.Backward(all) { // all is newest first
		s := by[r.OpenID]
		if s == nil {
			s = &state{c: Customer{OpenID: r.OpenID}}
			by[r.OpenID] = s
		}
		s.c.LastActivity, s.lastID = r.Time, r.ID
		switch r.OperCode {
		case 2001, 2003:
			s.c.LastMessage, s.c.RepliesSince = r.Time, 0
		case 2002:
			s.c.RepliesSince++
		}
	}
	var want []*state
	for _, s := range by {
		want = append(want, s)
	}
	slices.SortFunc(want, func(a, b *state) int { return cmp.Compare(b.lastID, a.lastID) })
	if len(want) != 89+131 {
		t.Fatalf("%d customers generated", len(want))
	}
	ctx := context.Background()
	for _, limit := range []int{1, 7, 50, 150, len(want), 500} {
		got, err := e.db.RecentCustomers(ctx, e.acct, limit)
		if err != nil {
			t.Fatal(err)
		}
		if n := min(limit, len(want)); len(got) != n {
			t.Fatalf("limit %d: %d customers, want %d", limit, len(got), n)
		}
		for i, g := range got {
			if w := want[i].c; g.OpenID != w.OpenID || !g.LastActivity.Equal(w.LastActivity) || !g.LastMessage.Equal(w.LastMessage) ||
				g.RepliesSince != w.RepliesSince {
				t.Fatalf("limit %d, customer %d = %+v, want %+v", limit, i, g, w)
			}
		}
	}
}

func TestHasRecords(t *testing.T) {
	e, _ := searchEnv(t, 10, 1)
	ctx := context.Background()
	other, err := e.db.AddAccount(ctx, Account{Name: "other", Kind: KindOA, AppID: "wxabcdef0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{e.acct: true, other.ID: false} {
		if has, err := e.db.HasRecords(ctx, id); err != nil || has != want {
			t.Errorf("account %d: HasRecords %v %v, want %v", id, has, err, want)
		}
	}
}

// TestRecentCustomersReportsReadErrors: a read that fails part way (here a damaged
// page of the records table) is an error, not a shorter list of customers.
func TestRecentCustomersReportsReadErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := db.AddAccount(ctx, Account{Name: "shop", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	// 2,000 records of 3 KB (one per page of the table), 30 customers.
	if _, err := db.Writer().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
		SELECT (1700000000 + i) << 20, ?, 1700000000 + i, 'o' || (i % 30), 2003, '', printf('%.3000c', 'x'), randomblob(16), 0 FROM n`, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file
		t.Fatal(err)
	}
	// Damage the table leaf page in the middle: its page type byte becomes invalid.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096 // SQLite's default
	var leaves []int
	for p := pageSize; p < len(b); p += pageSize { // page 1 (sqlite_schema) left alone
		if b[p] == 0x0d { // table b-tree leaf (sqlite.org/fileformat.html, B-tree page header)
			leaves = append(leaves, p)
		}
	}
	if len(leaves) < 1000 {
		t.Fatalf("%d table leaf pages", len(leaves))
	}
	b[leaves[len(leaves)/2]] = 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.RecentCustomers(ctx, a.ID, 100); err == nil {
		t.Fatalf("%d customers and no error from a damaged archive", len(got))
	}
}
