package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"slices"
	"sort"
	"sync"
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
// stored days are always one run of days, the first report after a change walks
// the days after them and stores them.

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
	var gen int64
	var walkFrom int64
	var encoded [][]byte
	today := beijingDayNumber(now.Unix())
	err := db.readSnapshot(ctx, func(conn *sql.Conn) error {
		var lo, hi, firstID sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT coalesce((SELECT gen FROM report_days_gen WHERE account_id = ?), 0),
			(SELECT min(day) FROM report_days WHERE account_id = ?), (SELECT max(day) FROM report_days WHERE account_id = ?),
			(SELECT min(id) FROM records WHERE account_id = ?)`, accountID, accountID, accountID, accountID).Scan(&gen, &lo, &hi, &firstID); err != nil {
			return err
		}
		if !firstID.Valid {
			return nil // no records
		}
		walkFrom = beijingDayNumber(firstID.Int64 >> idShift)
		if lo.Valid && lo.Int64 <= walkFrom {
			walkFrom = hi.Int64 + 1
			if err := loadDayParts(ctx, conn, accountID, first, min(last, hi.Int64), m.add); err != nil {
				return err
			}
		}
		if walkFrom > last && walkFrom >= today {
			return nil // all stored, and nothing to store
		}
		walked, err := walkDayParts(ctx, conn, accountID, walkFrom)
		if err != nil {
			return err
		}
		encoded = make([][]byte, len(walked))
		for i, p := range walked {
			day := walkFrom + int64(i)
			encoded[i] = encodeDayPart(p, day)
			if day >= first && day <= last {
				if err := m.add(day, encoded[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Days before today are stored; today's records are still coming.
	if keep := encoded[:max(0, min(int64(len(encoded)), today-walkFrom))]; len(keep) > 0 {
		return db.storeDayParts(ctx, accountID, gen, walkFrom, keep)
	}
	return nil
}

// walkDayParts walks the messages from Beijing day from on (and ConversationGap
// before it: that decides whether its first messages begin a conversation) to the
// last record, in time order, and returns a part per day. The words of customer
// messages are counted beside it, in batches handed over a channel.
func walkDayParts(ctx context.Context, conn *sql.Conn, accountID, from int64) ([]*dayPart, error) {
	type text struct {
		day  int
		text string
	}
	type customer struct {
		openid  string
		lastIn  int64 // unix seconds of their last customer message (0: none yet)
		convDay int   // their current conversation: parts[convDay].convs[conv]; -1 none of the walk
		conv    int
		last    partCust
		lastDay int // the day of last (-1: none)
	}
	var parts []*dayPart
	var mu sync.Mutex // parts grows while the word counter reads it
	part := func(day int) *dayPart {
		mu.Lock()
		defer mu.Unlock()
		for len(parts) <= day {
			parts = append(parts, newDayPart())
		}
		return parts[day]
	}
	const batchSize = 1024
	var wg sync.WaitGroup
	texts := make(chan []text, 4)
	wg.Go(func() {
		for b := range texts {
			for _, t := range b {
				part(t.day).words.add(t.text)
			}
		}
	})
	batch := make([]text, 0, batchSize)
	customers := map[string]*customer{}
	workerNames := map[string]string{} // the parts keep one string per worker, not one per row
	gap := int64(ConversationGap / time.Second)
	start := from*86400 - 8*3600
	n := 0
	// opercode - 2000: the driver boxes an int64 of 0–255 without allocating.
	err := eachRow(ctx, conn, `SELECT id, opercode - 2000, openid, CASE WHEN opercode = 2002 THEN worker END,
			CASE WHEN opercode <> 2002 AND id >= ? THEN text END
			FROM records WHERE +account_id = ? AND id >= ? AND opercode IN (2001, 2002, 2003) ORDER BY id`,
		[]any{idOfTime(start), accountID, idOfTime(start - gap)}, func(v []driver.Value) error {
			id, _ := v[0].(int64)
			code64, _ := v[1].(int64)
			code := 2000 + int(code64)
			openid, _ := v[2].(string)
			worker, _ := v[3].(string) // NULL for a customer message
			if n++; n%65536 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			t := id >> idShift
			cust := customers[openid]
			if cust == nil {
				cust = &customer{openid: openid, convDay: -1, lastDay: -1}
				customers[openid] = cust
			}
			day := -1
			if t >= start {
				day = int(beijingDayNumber(t) - from)
			}
			if day >= 0 {
				if cust.lastDay >= 0 && cust.lastDay != day {
					p := part(cust.lastDay)
					p.custs = append(p.custs, cust.last)
				}
				cust.last, cust.lastDay = partCust{openid: cust.openid, id: id, code: code}, day // the parts keep one string per customer
			}
			if code != 2002 {
				if cust.lastIn == 0 || t-cust.lastIn > gap {
					cust.convDay = -1
					if day >= 0 {
						p := part(day)
						cust.convDay, cust.conv = day, len(p.convs)
						p.convs = append(p.convs, partConv{start: t})
					}
				}
				cust.lastIn = t
				if day >= 0 {
					p := part(day)
					p.customerMessages++
					p.heat[(t+8*3600)%86400/3600]++
					txt, _ := v[4].(string)
					if batch = append(batch, text{day, txt}); len(batch) == batchSize {
						texts <- batch
						batch = make([]text, 0, batchSize)
					}
				}
				return nil
			}
			if day < 0 {
				return nil
			}
			if w, ok := workerNames[worker]; ok {
				worker = w
			} else {
				workerNames[worker] = worker
			}
			p := part(day)
			p.replies++
			p.workerMsgs[worker]++
			if cust.convDay < 0 {
				return nil // not part of a conversation of the walk
			}
			c := &part(cust.convDay).convs[cust.conv]
			if !slices.ContainsFunc(c.ws, func(w partWorker) bool { return w.worker == worker }) {
				c.ws = append(c.ws, partWorker{worker, t})
			}
			return nil
		})
	if len(batch) > 0 {
		texts <- batch
	}
	close(texts)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	for _, c := range customers {
		if c.lastDay >= 0 {
			p := part(c.lastDay)
			p.custs = append(p.custs, c.last)
		}
	}
	return parts, nil
}

// partMerger adds up encoded days (encodeDayPart) into a report, a day at a time
// in the order of days: nothing of a day is kept but its sums. end is the period's
// end (unix seconds): a reply after it does not count.
type partMerger struct {
	rep        *Report
	first, end int64
	allFirst   []int64
	dayFirst   []int64
	workers    map[string]*reportWorker
	names      []string        // the current day's workers
	named      []*reportWorker // … once they count (a worker is listed for the messages they sent in the period)
	lastAt     map[string]int  // index into last
	last       []partCust      // each customer's last message so far
	words      *wordCounter
}

func newPartMerger(rep *Report, first, end int64) *partMerger {
	return &partMerger{rep: rep, first: first, end: end, workers: map[string]*reportWorker{}, lastAt: map[string]int{}, words: newWordCounter()}
}

var errDayPart = errors.New("storage: a stored report day is damaged")

// add merges day's part b, read as encodeDayPart wrote it.
func (m *partMerger) add(day int64, b []byte) error {
	start := day*86400 - 8*3600
	bad := false
	u := func() int64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return int64(v)
	}
	count := func() int { // a length: at most the bytes left
		n := u()
		if n < 0 || n > int64(len(b)) {
			bad, n = true, 0
		}
		return int(n)
	}
	bytes := func() []byte {
		n := count()
		v := b[:n]
		b = b[n:]
		return v
	}
	rep := m.rep
	d := &rep.Days[day-m.first]
	d.CustomerMessages, d.Replies = int(u()), int(u())
	rep.CustomerMessages += d.CustomerMessages
	rep.Replies += d.Replies
	wd := (day + 3) % 7 // 1970-01-01 was a Thursday (3 from Monday)
	for h := range 24 {
		rep.Heat[wd][h] += int(u())
	}
	m.names, m.named = m.names[:0], m.named[:0]
	worker := func(i int) *reportWorker {
		if m.named[i] == nil {
			if m.named[i] = m.workers[m.names[i]]; m.named[i] == nil {
				m.named[i] = &reportWorker{WorkerFigures: WorkerFigures{Worker: m.names[i]}}
				m.workers[m.names[i]] = m.named[i]
			}
		}
		return m.named[i]
	}
	for range count() {
		m.names, m.named = append(m.names, string(bytes())), append(m.named, nil)
		if n := int(u()); n > 0 {
			worker(len(m.names) - 1).Messages += n
		}
	}
	m.dayFirst = m.dayFirst[:0]
	d.Conversations = count()
	rep.Conversations += d.Conversations
	for range d.Conversations {
		t0 := start + u()
		for j := range count() {
			wi, at := u(), t0+u()
			if wi >= int64(len(m.names)) {
				return errDayPart
			}
			if at >= m.end {
				continue // after the period (workers are in order of time)
			}
			w := worker(int(wi))
			w.Conversations++
			if j == 0 {
				f, _ := FirstResponse(time.Unix(t0, 0), time.Unix(at, 0))
				s := int64(f / time.Second)
				w.first = append(w.first, s)
				m.dayFirst = append(m.dayFirst, s)
			}
		}
	}
	m.allFirst = append(m.allFirst, m.dayFirst...)
	slices.Sort(m.dayFirst)
	d.Answered, d.MedianFirst, d.P90First = len(m.dayFirst), Percentile(m.dayFirst, 0.5), Percentile(m.dayFirst, 0.9)
	for range count() {
		openid := bytes()
		c := partCust{id: idOfTime(start) + u(), code: 2000 + int(u())}
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
	for range count() {
		dk, n := binary.Uvarint(b)
		if n <= 0 {
			return errDayPart
		}
		b = b[n:]
		k += dk
		addCount(m.words.han, k, int32(u()))
	}
	for range count() {
		w := bytes()
		n := int32(u())
		if g := m.words.words[string(w)]; g != nil {
			g.n += n
		} else {
			m.words.words[string(w)] = &gramCount{n: n}
		}
	}
	if bad || len(b) != 0 {
		return errDayPart
	}
	return nil
}

// finish computes the period's medians and orders the workers.
func (m *partMerger) finish() {
	rep := m.rep
	slices.Sort(m.allFirst)
	rep.Answered, rep.MedianFirst, rep.P90First = len(m.allFirst), Percentile(m.allFirst, 0.5), Percentile(m.allFirst, 0.9)
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

// storeDayParts stores the parts of the days from on, unless the account's records
// changed since gen was read (the parts may be older than the change).
func (db *DB) storeDayParts(ctx context.Context, accountID, gen, from int64, parts [][]byte) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		var now int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT gen FROM report_days_gen WHERE account_id = ?), 0)`, accountID).Scan(&now); err != nil || now != gen {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO report_days(account_id, day, data) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, p := range parts {
			day := from + int64(i)
			if _, err := st.ExecContext(ctx, accountID, day, p); err != nil {
				return err
			}
		}
		return nil
	})
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO report_days_gen(account_id, gen) VALUES (?, 1)
		ON CONFLICT(account_id) DO UPDATE SET gen = gen + 1`, accountID); err != nil {
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
