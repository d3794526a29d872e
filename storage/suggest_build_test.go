package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"kfdesk/api"
)

// buildArchive stores shopHistory (nine customers) plus a second visit of some, with
// every customer marked for the exchange build and none built yet.
func buildArchive(t *testing.T) (*DB, int64) {
	t.Helper()
	convs := shopHistory()
	for i := range 4 {
		convs = append(convs, chat(fmt.Sprintf("oShip%02d", i), suggestT0.AddDate(0, 0, 1), "> 发票怎么开", "可以的，下单时备注抬头和税号就行。"))
	}
	return unbuiltSuggestDB(t, convs...)
}

// suggestTables is what the build wrote, by content (question ids depend on the order
// of the build): the exchanges, the distinct questions and their index terms.
func suggestTables(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT 'exchange', e.question_rec, e.openid, q.norm, e.reply_rec FROM suggest_exchanges e JOIN suggest_questions q ON q.id = e.qid`,
		`SELECT 'question', q.norm, f.terms, '', '' FROM suggest_questions q LEFT JOIN suggest_fts f ON f.rowid = q.id`,
		`SELECT 'fts', count(*), '', '', '' FROM suggest_fts`,
		`SELECT 'dirty', openid, '', '', '' FROM suggest_dirty`,
	} {
		rows, err := db.Reader().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, b, c, d, e any
			if err := rows.Scan(&a, &b, &c, &d, &e); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(a, b, c, d, e))
		}
		rows.Close()
	}
	slices.Sort(out)
	return out
}

func TestSuggestBuildReportsCustomersDone(t *testing.T) {
	db, acct := buildArchive(t)
	var got [][2]int
	if err := db.buildSuggest(context.Background(), acct, 4, 0, func(done, total int) { got = append(got, [2]int{done, total}) }); err != nil {
		t.Fatal(err)
	}
	// Nine customers, four per transaction: before the first, then after each.
	want := [][2]int{{0, 9}, {4, 9}, {8, 9}, {9, 9}}
	if !slices.Equal(got, want) {
		t.Fatalf("progress %v, want %v", got, want)
	}
	// Nothing left to do: no phase to show.
	got = nil
	if err := db.buildSuggest(context.Background(), acct, 4, 0, func(done, total int) { got = append(got, [2]int{done, total}) }); err != nil || got != nil {
		t.Fatalf("a build with nothing to do reported %v (%v)", got, err)
	}
}

// A transaction ends when it has held the write lock for hold, whatever its count:
// with a hold too short for any, each computes one customer.
func TestSuggestBuildHoldsTheWriteLockBriefly(t *testing.T) {
	db, acct := buildArchive(t)
	var done []int
	if err := db.buildSuggest(context.Background(), acct, 500, time.Nanosecond, func(d, _ int) { done = append(done, d) }); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(done, want) {
		t.Fatalf("customers done after each transaction %v, want %v", done, want)
	}
}

func TestSuggestBuildCancelledKeepsWhatIsDoneAndTheNextFinishes(t *testing.T) {
	whole, wacct := buildArchive(t)
	if err := whole.BuildSuggestIndex(context.Background(), wacct); err != nil {
		t.Fatal(err)
	}
	want := suggestTables(t, whole)

	db, acct := buildArchive(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var at, total int
	err := db.buildSuggest(ctx, acct, 3, 0, func(done, n int) {
		if done > 0 && at == 0 {
			at, total = done, n
			cancel() // after the first transaction
		}
	})
	if !errors.Is(err, context.Canceled) || at != 3 {
		t.Fatalf("cancelled build: %v after %d customers, want context.Canceled after 3", err, at)
	}
	// The first transaction's customers are done, the others still marked.
	if n, _ := db.SuggestPending(context.Background(), acct); n != total-at {
		t.Fatalf("%d customers pending after cancelling at %d of %d", n, at, total)
	}
	var built int
	if err := db.Reader().QueryRow(`SELECT count(DISTINCT openid) FROM suggest_exchanges e
		WHERE NOT EXISTS (SELECT 1 FROM suggest_dirty d WHERE d.openid = e.openid)`).Scan(&built); err != nil || built != at {
		t.Fatalf("%d customers with exchanges and no mark, want %d (%v)", built, at, err)
	}
	if err := db.BuildSuggestIndex(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	if got := suggestTables(t, db); !slices.Equal(got, want) {
		t.Fatalf("after a cancelled build and another:\n%q\nwant, as one uninterrupted build:\n%q", got, want)
	}
	if len(want) < 20 {
		t.Fatalf("only %d rows built: the archive is off", len(want))
	}
}

// A sync names the exchange build as its last phase, and one cancelled in it has
// stored every record; the next sync builds what is left.
func TestSyncReportsTheSuggestPhaseAndResumesIt(t *testing.T) {
	e := newSyncEnv(t)
	e.fill(2, 100) // 17 customers
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var phase []SyncProgress
	s := e.syncer()
	s.Progress = func(p SyncProgress) {
		if p.Phase == PhaseSuggesting {
			phase = append(phase, p)
			cancel()
		}
	}
	p, err := s.Range(ctx, e.today.AddDate(0, 0, -2), e.today.AddDate(0, 0, -2))
	if !errors.Is(err, context.Canceled) || p.Phase != PhaseSuggesting || p.Added != 100 || p.DaysDone != 1 {
		t.Fatalf("cancelled in the suggest phase: %+v %v", p, err)
	}
	if len(phase) != 1 || phase[0].Suggested != 0 || phase[0].ToSuggest != 17 {
		t.Fatalf("suggest phase reported %+v, want 0 of 17 customers", phase)
	}
	if n, _ := e.db.SuggestPending(context.Background(), e.acct); n != 17 {
		t.Fatalf("%d customers pending after the cancel, want 17", n)
	}

	phase = nil
	s = e.syncer()
	s.Progress = func(p SyncProgress) {
		if p.Phase == PhaseSuggesting {
			phase = append(phase, p)
		}
	}
	if p, err = s.Incremental(context.Background()); err != nil || p.Added != 0 {
		t.Fatalf("next sync %+v %v", p, err)
	}
	if len(phase) < 2 || phase[0].Suggested != 0 || phase[len(phase)-1].Suggested != 17 || phase[len(phase)-1].ToSuggest != 17 || p != phase[len(phase)-1] {
		t.Fatalf("next sync's suggest phase %+v (returned %+v), want 0 … 17 of 17", phase, p)
	}
	if n, _ := e.db.SuggestPending(context.Background(), e.acct); n != 0 {
		t.Fatalf("%d customers pending after the next sync", n)
	}
}

// A cancel that lands inside a transaction rolls it back and says "cancelled", not
// what failed because of it; nothing of that transaction stays.
func TestSuggestBuildCancelledInsideATransaction(t *testing.T) {
	var convs [][]api.Record
	for i := range 1500 {
		convs = append(convs, chat(fmt.Sprintf("oMany%04d", i), suggestT0.Add(time.Duration(i)*time.Minute),
			"> 什么时候发货？", shipReply, "> 可以开发票吗", "可以的，下单时备注抬头和税号就行。"))
	}
	db, acct := unbuiltSuggestDB(t, convs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One transaction for all: a cancel soon after it starts lands inside it.
	err := db.buildSuggest(ctx, acct, 10000, 0, func(done, _ int) {
		if done == 0 {
			time.AfterFunc(20*time.Millisecond, cancel)
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v, want context.Canceled", err)
	}
	// Where the cancel lands just after the rollback, the next statement fails for it.
	if err := cancelCause(ctx, errors.New("sql: statement is closed")); err != context.Canceled {
		t.Fatalf("a failure after the cancel: %v, want context.Canceled", err)
	}
	var n int
	pending, _ := db.SuggestPending(context.Background(), acct)
	_ = db.Reader().QueryRow(`SELECT count(*) FROM suggest_exchanges`).Scan(&n)
	if pending != 1500 || n != 0 {
		t.Fatalf("%d customers pending, %d exchanges kept, want 1500 and none (the transaction rolled back)", pending, n)
	}
}
