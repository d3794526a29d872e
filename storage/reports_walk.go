package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"math"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// The walk behind the stored days (reports_days.go), in time order with flat memory:
// a day's part is handed on as soon as the walk reaches the next day, encoded, merged
// into the report and stored in batches, then dropped. A conversation's part is not
// final then: any later KF message to the customer, until their next conversation
// begins (FirstResponse, ConversationGap: a reply days later still answers it), adds
// its worker. Such a late worker is handed on as a convPatch: the merger adds it, and
// the day is stored with it, or rewritten with it if already stored (patchDayPart).
//
// Until the walk ends every stored day may still miss such a worker, so the walk's
// first day is stored last, with the last batch: the stored days read as one run of
// days from the first (mergeReportDays), so the days of a walk that is cancelled,
// fails or is overtaken by a change are never read, and the next walk writes them over.

// The walked days wait to be stored until they and their late workers take
// reportStoreBatch bytes (about five days of 33,000 records); then one transaction
// stores all but the last reportStoreKeep days. The write lock is held briefly, what
// waits stays bounded however many days a walk stores, and most late workers find
// their day still waiting: a KF message can be sent only within 48 hours of the
// customer's last message (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html).
var reportStoreBatch, reportStoreKeep = 4 << 20, 3

// patchSize is about what a waiting late worker takes.
const patchSize = int(unsafe.Sizeof(convPatch{}))

// reportStoredHook, when set (by tests), runs after each store's transaction.
var reportStoredHook func(*daySink)

// convPatch is a worker's first message in a conversation whose day was handed on.
type convPatch struct {
	day   int64 // the conversation's day
	conv  int   // its index in the day's convs
	start int64 // when it began
	j     int   // the worker's place among its workers (0: the first response)
	partWorker
}

type walkText struct {
	words *wordCounter
	text  string
}

type walkedDay struct {
	day  int64
	part *dayPart
}

// walkBatch is what the walk hands to the goroutine beside it, to take in this order:
// the customer messages' texts to count, the days walked past, the late workers.
type walkBatch struct {
	texts   []walkText
	days    []walkedDay
	patches []convPatch
}

// walkDayParts walks the messages from Beijing day from on (and ConversationGap
// before it: that decides whether its first messages begin a conversation) to the
// last record, in time order, and hands s each day's part and each late worker.
// The words of customer messages are counted beside it, where s takes the parts.
func walkDayParts(ctx context.Context, conn *sql.Conn, accountID, from int64, s *daySink) error {
	type customer struct {
		openid    string
		lastIn    int64 // unix seconds of their last customer message (0: none yet)
		convDay   int64 // their current conversation's day (-1: none of the walk), index and start
		conv      int
		convStart int64
		ws        []string // its workers so far
		last      partCust
		lastDay   int64 // the day of last (-1: none)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	const batchSize = 1024
	batches := make(chan walkBatch, 4)
	var sinkErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := range batches {
			if sinkErr == nil {
				if sinkErr = s.take(ctx, b); sinkErr != nil {
					cancel(sinkErr)
				}
			}
		}
	})
	b := walkBatch{texts: make([]walkText, 0, batchSize)}
	send := func() {
		batches <- b
		b = walkBatch{texts: make([]walkText, 0, batchSize)}
	}
	var cur *dayPart // the day the walk is on
	curDay := from - 1
	var touched []*customer // the customers who wrote or were written to on it
	endDay := func() {
		for _, c := range touched {
			cur.custs = append(cur.custs, c.last)
		}
		touched = touched[:0]
		b.days = append(b.days, walkedDay{curDay, cur})
	}
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
				return context.Cause(ctx)
			}
			t := id >> idShift
			cust := customers[openid]
			if cust == nil {
				cust = &customer{openid: openid, convDay: -1, lastDay: -1}
				customers[openid] = cust
			}
			day := int64(-1)
			if t >= start {
				// Every day up to this one is complete: hand it on (days without records too).
				for day = beijingDayNumber(t); curDay < day; curDay++ {
					if cur != nil {
						endDay()
					}
					cur = newDayPart()
				}
				if cust.lastDay != day {
					touched = append(touched, cust)
				}
				cust.last, cust.lastDay = partCust{openid: cust.openid, id: id, code: code}, day // the parts keep one string per customer
			}
			if code != 2002 {
				if cust.lastIn == 0 || t-cust.lastIn > gap {
					cust.convDay, cust.ws = -1, cust.ws[:0]
					if day >= 0 {
						cust.convDay, cust.conv, cust.convStart = day, len(cur.convs), t
						cur.convs = append(cur.convs, partConv{start: t})
					}
				}
				cust.lastIn = t
				if day >= 0 {
					cur.customerMessages++
					cur.heat[(t+8*3600)%86400/3600]++
					txt, _ := v[4].(string)
					if b.texts = append(b.texts, walkText{cur.words, txt}); len(b.texts) == batchSize {
						send()
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
			cur.replies++
			cur.workerMsgs[worker]++
			if cust.convDay < 0 || slices.Contains(cust.ws, worker) {
				return nil // not part of a conversation of the walk, or not their first message in it
			}
			w := partWorker{worker, t}
			if cust.convDay == curDay {
				c := &cur.convs[cust.conv]
				c.ws = append(c.ws, w)
			} else {
				b.patches = append(b.patches, convPatch{day: cust.convDay, conv: cust.conv, start: cust.convStart, j: len(cust.ws), partWorker: w})
			}
			cust.ws = append(cust.ws, worker)
			return nil
		})
	if err == nil && cur != nil {
		endDay()
	}
	if err == nil {
		send()
	}
	close(batches)
	wg.Wait()
	if sinkErr != nil {
		return sinkErr
	}
	if err != nil {
		return err
	}
	return s.end(ctx)
}

// daySink takes the walked days in order: it merges those of the period into the
// report and stores those before today (unless the records changed meanwhile).
type daySink struct {
	db               *DB
	accountID        int64
	from, today      int64 // the walk's first day; days before today are stored
	gen              int64 // report_days_gen as the walk read it; -1: store nothing
	m                *partMerger
	first, last      int64                 // the period's days
	held             map[int64][]byte      // encoded days waiting to be stored
	heldBytes        int                   // held days and their late workers
	lateBytes        int                   // the late workers of stored days
	walked           int64                 // the last day taken
	patches          map[int64][]convPatch // late workers waiting, of held days and of stored ones
	stores, rewrites int                   // transactions, days rewritten in the database with late workers
}

func (db *DB) newDaySink(accountID, from, today, gen int64, m *partMerger, first, last int64) *daySink {
	if from >= today {
		gen = -1
	}
	return &daySink{db: db, accountID: accountID, from: from, today: today, gen: gen, m: m, first: first, last: last,
		held: map[int64][]byte{}, patches: map[int64][]convPatch{}}
}

func (s *daySink) take(ctx context.Context, b walkBatch) error {
	for _, t := range b.texts {
		t.words.add(t.text)
	}
	for _, d := range b.days {
		s.walked = d.day
		enc := encodeDayPart(d.part, d.day)
		if d.day >= s.first && d.day <= s.last {
			if err := s.m.add(d.day, enc); err != nil {
				return err
			}
		}
		if s.gen >= 0 && d.day < s.today {
			s.held[d.day] = enc
			s.heldBytes += len(enc)
		}
		if s.gen >= 0 && s.heldBytes >= reportStoreBatch {
			if err := s.store(ctx, false); err != nil {
				return err
			}
		}
	}
	for _, p := range b.patches {
		if p.day >= s.first && p.day <= s.last {
			s.m.patch(p)
		}
		if s.gen >= 0 && p.day < s.today {
			s.patches[p.day] = append(s.patches[p.day], p)
			if _, held := s.held[p.day]; held {
				s.heldBytes += patchSize
			} else {
				s.lateBytes += patchSize
			}
		}
	}
	if s.gen >= 0 && s.lateBytes >= reportStoreBatch {
		return s.store(ctx, false)
	}
	return nil
}

// end stores what is left when the walk has ended, the walk's first day with it.
func (s *daySink) end(ctx context.Context) error {
	if s.gen < 0 || len(s.held)+len(s.patches) == 0 {
		return nil
	}
	return s.store(ctx, true)
}

// store writes the held days but the last reportStoreKeep (the walk's first day
// only with the last store) with their late workers, and, once they take
// reportStoreBatch bytes or with the last store, rewrites the stored days with their
// late workers (each stored day is rewritten at most once per such batch), unless
// the account's records changed since the walk read them (the parts may be older
// than the change): then it stores nothing more. It counts as a change itself, so
// an older walk still storing the same days stops (two processes, or a cancelled
// report not yet stopped).
func (s *daySink) store(ctx context.Context, last bool) error {
	upto, late := s.walked-int64(reportStoreKeep), last || s.lateBytes >= reportStoreBatch
	if last {
		upto = math.MaxInt64
	}
	written := func(day int64) bool { return day <= upto && (day != s.from || last) }
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var now int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT gen FROM report_days_gen WHERE account_id = ?), 0)`, s.accountID).Scan(&now); err != nil {
			return err
		}
		if now != s.gen {
			s.gen = -1
			return nil
		}
		if err := bumpReportGen(ctx, tx, s.accountID); err != nil {
			return err
		}
		for day, ps := range s.patches {
			b, held := s.held[day]
			if held && !written(day) || !held && !late {
				continue // later
			}
			if !held {
				if err := tx.QueryRowContext(ctx, `SELECT data FROM report_days WHERE account_id = ? AND day = ?`, s.accountID, day).Scan(&b); err != nil {
					return err // not there: gone with the gen's change, caught above
				}
			}
			b, err := patchDayPart(b, day, ps)
			if err != nil {
				return err
			}
			if held {
				s.held[day] = b
			} else if _, err := tx.ExecContext(ctx, `UPDATE report_days SET data = ? WHERE account_id = ? AND day = ?`, b, s.accountID, day); err != nil {
				return err
			} else {
				s.rewrites++
			}
		}
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO report_days(account_id, day, data) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for day, b := range s.held {
			if written(day) {
				if _, err := st.ExecContext(ctx, s.accountID, day, b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.stores++
	if reportStoredHook != nil {
		reportStoredHook(s)
	}
	if s.gen < 0 {
		clear(s.held)
		clear(s.patches)
		s.heldBytes, s.lateBytes = 0, 0
		return nil
	}
	s.gen++
	s.heldBytes = 0
	for day, b := range s.held {
		if written(day) {
			delete(s.held, day)
			delete(s.patches, day) // applied
		} else {
			s.heldBytes += len(b) + patchSize*len(s.patches[day])
		}
	}
	for day := range s.patches {
		if _, held := s.held[day]; !held && late {
			delete(s.patches, day)
		}
	}
	if late {
		s.lateBytes = 0
	}
	return nil
}
