package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"slices"
	"sort"
	"time"
)

// Per-day partial figures of the reports (migration 0011_report_days.sql). A day's
// part holds what that Beijing day contributes to any period containing it: its
// counts, the conversations that began on it (each with its workers and when each
// first wrote in it, so a period ending earlier cuts them: a reply after the period
// does not count), each customer's last message of the day (unanswered customers)
// and the word counts of its customer messages (the merged top 30 is exact: every
// term's full count is kept). A part depends on its day's records and on the later
// records of its conversations, so every change of records deletes the parts from
// the day of the earliest conversation it touches on (reportChanges.invalidate); the
// stored days read are one run of days from the first (a walk stores its first day
// last: reports_walk.go), the first report after a change walks the days after
// them and stores them.

// dayPart is one Beijing day's share of a report.
type dayPart struct {
	customerMessages, replies int
	heat                      [24]int // customer messages by Beijing hour
	workerMsgs                map[string]int
	convs                     []partConv
	custs                     []partCust
	words                     *wordCounter
}

// partConv is a conversation that began on the day: start and, per worker in order
// of first writing, when they first wrote (the first is the first response).
type partConv struct {
	start int64
	ws    []partWorker
}

type partWorker struct {
	worker string
	at     int64
}

// partCust is a customer's last message of the day (code 2002: a KF message to them).
type partCust struct {
	openid string
	id     int64
	code   int
}

func newDayPart() *dayPart {
	return &dayPart{workerMsgs: map[string]int{}, words: newWordCounter()}
}

// mergeReportDays merges Beijing days first..last (by day number) into m: the
// stored ones, then the days after the stored run, walked now (and stored too, up
// to the day before today). A day without records adds nothing.
func (db *DB) mergeReportDays(ctx context.Context, accountID, first, last int64, now time.Time, m *partMerger) error {
	today := beijingDayNumber(now.Unix())
	return db.readSnapshot(ctx, func(conn *sql.Conn) error {
		var gen int64
		var lo, hi, firstID sql.NullInt64
		// The stored run ends at the first day without a next one: the days after a gap
		// are a walk's that did not end (reports_walk.go).
		if err := conn.QueryRowContext(ctx, `SELECT coalesce((SELECT gen FROM report_days_gen WHERE account_id = ?), 0),
			(SELECT min(day) FROM report_days WHERE account_id = ?),
			(SELECT min(day) FROM report_days a WHERE account_id = ? AND NOT EXISTS
				(SELECT 1 FROM report_days b WHERE b.account_id = a.account_id AND b.day = a.day + 1)),
			(SELECT min(id) FROM records WHERE account_id = ?)`, accountID, accountID, accountID, accountID).Scan(&gen, &lo, &hi, &firstID); err != nil {
			return err
		}
		if !firstID.Valid {
			return nil // no records
		}
		walkFrom := beijingDayNumber(firstID.Int64 >> idShift)
		if lo.Valid && lo.Int64 <= walkFrom {
			walkFrom = hi.Int64 + 1
			if err := loadDayParts(ctx, conn, accountID, first, min(last, hi.Int64), m.add); err != nil {
				return err
			}
		}
		if walkFrom > last && walkFrom >= today {
			return nil // all stored, and nothing to store
		}
		return walkDayParts(ctx, conn, accountID, walkFrom, db.newDaySink(accountID, walkFrom, today, gen, m, first, last))
	})
}

// partMerger adds up encoded days (encodeDayPart) into a report, a day at a time
// in the order of days: nothing of a day is kept but its sums. end is the period's
// end (unix seconds): a reply after it does not count.
type partMerger struct {
	rep        *Report
	first, end int64
	dayFirst   [][]int64 // each day's first responses (a late worker adds to a day merged before)
	workers    map[string]*reportWorker
	names      []string        // the current day's workers
	named      []*reportWorker // … once they count (a worker is listed for the messages they sent in the period)
	lastAt     map[string]int  // index into last
	last       []partCust      // each customer's last message so far
	words      *wordCounter
}

func newPartMerger(rep *Report, first, end int64) *partMerger {
	return &partMerger{rep: rep, first: first, end: end, dayFirst: make([][]int64, len(rep.Days)),
		workers: map[string]*reportWorker{}, lastAt: map[string]int{}, words: newWordCounter()}
}

var errDayPart = errors.New("storage: a stored report day is damaged")

// partReader reads what encodeDayPart wrote; bad once something did not fit.
type partReader struct {
	b   []byte
	bad bool
}

func (r *partReader) u() int64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return int64(v)
}

// count reads a length: at most the bytes left.
func (r *partReader) count() int {
	n := r.u()
	if n < 0 || n > int64(len(r.b)) {
		r.bad, n = true, 0
	}
	return int(n)
}

func (r *partReader) bytes() []byte {
	n := r.count()
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (m *partMerger) worker(name string) *reportWorker {
	w := m.workers[name]
	if w == nil {
		w = &reportWorker{WorkerFigures: WorkerFigures{Worker: name}}
		m.workers[name] = w
	}
	return w
}

// add merges day's part b, read as encodeDayPart wrote it.
func (m *partMerger) add(day int64, b []byte) error {
	start := day*86400 - 8*3600
	r := &partReader{b: b}
	rep := m.rep
	d := &rep.Days[day-m.first]
	d.CustomerMessages, d.Replies = int(r.u()), int(r.u())
	rep.CustomerMessages += d.CustomerMessages
	rep.Replies += d.Replies
	wd := (day + 3) % 7 // 1970-01-01 was a Thursday (3 from Monday)
	for h := range 24 {
		rep.Heat[wd][h] += int(r.u())
	}
	m.names, m.named = m.names[:0], m.named[:0]
	worker := func(i int) *reportWorker {
		if m.named[i] == nil {
			m.named[i] = m.worker(m.names[i])
		}
		return m.named[i]
	}
	for range r.count() {
		m.names, m.named = append(m.names, string(r.bytes())), append(m.named, nil)
		if n := int(r.u()); n > 0 {
			worker(len(m.names) - 1).Messages += n
		}
	}
	d.Conversations = r.count()
	rep.Conversations += d.Conversations
	for range d.Conversations {
		t0 := start + r.u()
		for j := range r.count() {
			wi, at := r.u(), t0+r.u()
			if wi >= int64(len(m.names)) {
				return errDayPart
			}
			if at >= m.end {
				continue // after the period (workers are in order of time)
			}
			m.answer(day, t0, j, worker(int(wi)), at)
		}
	}
	for range r.count() {
		openid := r.bytes()
		c := partCust{id: idOfTime(start) + r.u(), code: 2000 + int(r.u())}
		if i, ok := m.lastAt[string(openid)]; ok {
			c.openid = m.last[i].openid
			m.last[i] = c
		} else {
			c.openid = string(openid)
			m.lastAt[c.openid] = len(m.last)
			m.last = append(m.last, c)
		}
	}
	k := uint64(0)
	for range r.count() {
		k += uint64(r.u())
		addCount(m.words.han, k, int32(r.u()))
	}
	for range r.count() {
		w := r.bytes()
		n := int32(r.u())
		if g := m.words.words[string(w)]; g != nil {
			g.n += n
		} else {
			m.words.words[string(w)] = &gramCount{n: n}
		}
	}
	if r.bad || len(r.b) != 0 {
		return errDayPart
	}
	return nil
}

// answer counts worker w's first message, at, in a conversation of day that began at
// t0, the j-th worker's of it (the first: its first response).
func (m *partMerger) answer(day, t0 int64, j int, w *reportWorker, at int64) {
	w.Conversations++
	if j == 0 {
		f, _ := FirstResponse(time.Unix(t0, 0), time.Unix(at, 0))
		s := int64(f / time.Second)
		w.first = append(w.first, s)
		m.dayFirst[day-m.first] = append(m.dayFirst[day-m.first], s)
	}
}

// patch merges a late worker of a day merged before (reports_walk.go).
func (m *partMerger) patch(p convPatch) {
	if p.at < m.end {
		m.answer(p.day, p.start, p.j, m.worker(p.worker), p.at)
	}
}

// finish computes the days' and the period's medians and orders the workers.
func (m *partMerger) finish() {
	rep := m.rep
	var all []int64
	for i, f := range m.dayFirst {
		all = append(all, f...)
		slices.Sort(f)
		d := &rep.Days[i]
		d.Answered, d.MedianFirst, d.P90First = len(f), Percentile(f, 0.5), Percentile(f, 0.9)
	}
	slices.Sort(all)
	rep.Answered, rep.MedianFirst, rep.P90First = len(all), Percentile(all, 0.5), Percentile(all, 0.9)
	for _, w := range m.workers {
		slices.Sort(w.first)
		w.Answered, w.MedianFirst, w.P90First = len(w.first), Percentile(w.first, 0.5), Percentile(w.first, 0.9)
		rep.Workers = append(rep.Workers, w.WorkerFigures)
	}
	sort.Slice(rep.Workers, func(i, j int) bool {
		a, b := rep.Workers[i], rep.Workers[j]
		if a.Conversations != b.Conversations {
			return a.Conversations > b.Conversations
		}
		return a.Worker < b.Worker
	})
}

func addCount(m map[uint64]*gramCount, k uint64, n int32) {
	if g := m[k]; g != nil {
		g.n += n
	} else {
		m[k] = &gramCount{n: n}
	}
}

func loadDayParts(ctx context.Context, conn *sql.Conn, accountID, from, to int64, fn func(day int64, b []byte) error) error {
	if from > to {
		return nil
	}
	return eachRow(ctx, conn, `SELECT day, data FROM report_days WHERE account_id = ? AND day >= ? AND day <= ? ORDER BY day`,
		[]any{accountID, from, to}, func(v []driver.Value) error {
			day, _ := v[0].(int64)
			b, _ := v[1].([]byte)
			return fn(day, b)
		})
}

// reportChanges collects a write's changed records: each customer's earliest.
type reportChanges map[string]int64

func (c reportChanges) add(openid string, t int64) {
	if old, ok := c[openid]; !ok || t < old {
		c[openid] = t
	}
}

// invalidate deletes the stored parts the changes touch, in the writing
// transaction: from the day the customer's conversation at the change began (its
// replies and workers are in that day's part), or the change's own day.
func (c reportChanges) invalidate(ctx context.Context, tx *sql.Tx, accountID int64) error {
	if len(c) == 0 {
		return nil
	}
	if err := bumpReportGen(ctx, tx, accountID); err != nil {
		return err
	}
	var hi sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(day) FROM report_days WHERE account_id = ?`, accountID).Scan(&hi); err != nil || !hi.Valid {
		return err
	}
	gap := int64(ConversationGap / time.Second)
	from := int64(-1)
	for openid, t := range c {
		begin := t
		// The customer's latest message at the change, then back over their messages
		// no more than ConversationGap apart: where that conversation began.
		for cur, lowest := idOfTime(t+1), int64(0); ; {
			var id sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM records WHERE account_id = ? AND openid = ? AND opercode IN (2001, 2003)
				AND id < ? AND id >= ?`, accountID, openid, cur, lowest).Scan(&id); err != nil {
				return err
			}
			if !id.Valid {
				break
			}
			cur = id.Int64
			begin, lowest = min(begin, cur>>idShift), idOfTime(cur>>idShift-gap)
		}
		if d := beijingDayNumber(begin); from < 0 || d < from {
			from = d
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM report_days WHERE account_id = ? AND day >= ?`, accountID, from)
	return err
}

// bumpReportGen: a report that read the account's records before this stores nothing.
func bumpReportGen(ctx context.Context, tx *sql.Tx, accountID int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO report_days_gen(account_id, gen) VALUES (?, 1)
		ON CONFLICT(account_id) DO UPDATE SET gen = gen + 1`, accountID)
	return err
}

// invalidateReportCustomer: a customer's records are about to be deleted.
func invalidateReportCustomer(ctx context.Context, tx *sql.Tx, accountID int64, openid string) error {
	var first sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(id) FROM records WHERE account_id = ? AND openid = ?`, accountID, openid).Scan(&first); err != nil || !first.Valid {
		return err
	}
	return reportChanges{openid: first.Int64 >> idShift}.invalidate(ctx, tx, accountID)
}

// encodeDayPart packs a part as unsigned varints and length-prefixed strings,
// times relative to the day (or the conversation) so most take one or two bytes.
func encodeDayPart(p *dayPart, day int64) []byte {
	start := day*86400 - 8*3600
	var b []byte
	u := func(v int64) { b = binary.AppendUvarint(b, uint64(v)) }
	s := func(v string) { u(int64(len(v))); b = append(b, v...) }
	u(int64(p.customerMessages))
	u(int64(p.replies))
	for _, n := range p.heat {
		u(int64(n))
	}
	// The day's workers: those who wrote on it and those of its conversations.
	idx := map[string]int64{}
	var names []string
	name := func(w string) {
		if _, ok := idx[w]; !ok {
			idx[w] = int64(len(names))
			names = append(names, w)
		}
	}
	for w := range p.workerMsgs {
		name(w)
	}
	for _, c := range p.convs {
		for _, w := range c.ws {
			name(w.worker)
		}
	}
	u(int64(len(names)))
	for _, w := range names {
		s(w)
		u(int64(p.workerMsgs[w]))
	}
	u(int64(len(p.convs)))
	for _, c := range p.convs {
		u(c.start - start)
		u(int64(len(c.ws)))
		for _, w := range c.ws {
			u(idx[w.worker])
			u(w.at - c.start)
		}
	}
	u(int64(len(p.custs)))
	for _, c := range p.custs {
		s(c.openid)
		u(c.id - idOfTime(start))
		u(int64(c.code - 2000))
	}
	keys := make([]uint64, 0, len(p.words.han))
	for k := range p.words.han {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	u(int64(len(keys)))
	prev := uint64(0)
	for _, k := range keys {
		b = binary.AppendUvarint(b, k-prev)
		u(int64(p.words.han[k].n))
		prev = k
	}
	u(int64(len(p.words.words)))
	for w, g := range p.words.words {
		s(w)
		u(int64(g.n))
	}
	return b
}

// patchDayPart rewrites an encoded day with the workers that first wrote in its
// conversations after it was encoded (in the order they wrote): its workers are
// written again, new ones last, its conversations copied, those with late workers
// with them added.
func patchDayPart(b []byte, day int64, ps []convPatch) ([]byte, error) {
	r := &partReader{b: b}
	for range 2 + 24 { // the counts and the hours
		r.u()
	}
	out := make([]byte, 0, len(b)+16*len(ps))
	out = append(out, b[:len(b)-len(r.b)]...)
	u := func(v int64) { out = binary.AppendUvarint(out, uint64(v)) }
	var names []string
	var msgs []int64
	idx := map[string]int64{}
	for range r.count() {
		w := string(r.bytes())
		idx[w] = int64(len(names))
		names, msgs = append(names, w), append(msgs, r.u())
	}
	for _, p := range ps {
		if _, ok := idx[p.worker]; !ok {
			idx[p.worker] = int64(len(names))
			names, msgs = append(names, p.worker), append(msgs, 0)
		}
	}
	u(int64(len(names)))
	for i, w := range names {
		u(int64(len(w)))
		out = append(out, w...)
		u(msgs[i])
	}
	start := day*86400 - 8*3600
	n := r.count()
	u(int64(n))
	// Each conversation's late workers, in order: next links them, from first.
	first, next := make([]int32, n), make([]int32, len(ps))
	for i := range first {
		first[i] = -1
	}
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].conv >= n {
			return nil, errDayPart
		}
		next[i], first[ps[i].conv] = first[ps[i].conv], int32(i)
	}
	for i := range n {
		conv := r.b
		t0 := r.u()
		nw := r.count()
		ws := r.b
		for range nw {
			r.u()
			r.u()
		}
		if first[i] < 0 {
			out = append(out, conv[:len(conv)-len(r.b)]...)
			continue
		}
		k := 0
		for p := first[i]; p >= 0; p = next[p] {
			k++
		}
		u(t0)
		u(int64(nw + k))
		out = append(out, ws[:len(ws)-len(r.b)]...)
		j := nw
		for p := first[i]; p >= 0; p = next[p] {
			if ps[p].start != start+t0 || ps[p].j != j {
				return nil, errDayPart
			}
			u(idx[ps[p].worker])
			u(ps[p].at - ps[p].start)
			j++
		}
	}
	if r.bad {
		return nil, errDayPart
	}
	return append(out, r.b...), nil
}
