package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// Chat records carried from a damaged archive into a new one (issue 14): every row
// that can still be read, Beijing day by Beijing day; a day where anything could not
// be read loses its "synced" mark (record_days), so the sync calendar shows it as
// missing and the next sync fetches it again (re-syncing adds no duplicate: records
// are identified by (account, time, rkey, occ), migrations/0004_records.sql).

// RecordSalvage is what SalvageRecords carried over.
type RecordSalvage struct {
	Records     int64       // records copied
	First, Last time.Time   // the first and last copied record's Beijing day (zero when none)
	LostDays    []time.Time // Beijing days with records that could not be read, in order
	Stopped     bool        // cancelled: the days after Last were not looked at
	Problem     error       // why nothing or not all was carried otherwise (workspace.StartEmpty's, for the window)
}

// SalvagePhase is what SalvageRecords is doing.
type SalvagePhase int

const (
	SalvageCopying  SalvagePhase = iota // day by day (Day, Records move)
	SalvageIndexing                     // the search indexes are built (Indexed of ToIndex)
)

// SalvageProgress is reported after every day copied and while the indexes are built.
type SalvageProgress struct {
	Phase            SalvagePhase
	Day              time.Time // the day just copied
	DaysDone, Days   int       // days looked at, of all days between the first and last record
	Records          int64     // records copied so far
	Indexed, ToIndex int
}

const (
	// salvageMinSpan: a range of ids that fails is halved down to one second of
	// records (ids are time<<idShift); what still fails there is counted lost.
	salvageMinSpan = int64(1) << idShift
	// salvageDayBudget bounds the failed reads spent on one day: a day whose index
	// pages are gone fails everywhere and would otherwise be read second by second.
	salvageDayBudget = 256
)

// salvageFallbackStart is where the day walk starts when the damaged file cannot even
// say its first record: before WeChat's customer service message records existed.
var salvageFallbackStart = time.Date(2013, 1, 1, 0, 0, 0, 0, Beijing)

// SalvageRecords copies the chat records that can still be read from the damaged
// database file into db, a new archive with the accounts already carried over
// (Salvage); records of accounts it does not have are left. The search indexes, the
// inbox summary and the suggested replies are built as after a first sync
// (records_index.go); if cancelled, what was copied stays and the next sync builds
// them. damaged is only read.
func (db *DB) SalvageRecords(ctx context.Context, damaged string, progress func(SalvageProgress)) (RecordSalvage, error) {
	out, err := db.salvageRecords(ctx, damaged, progress)
	if err != nil && ctx.Err() != nil {
		// Kept; the indexes stay pending for the next sync. A statement that was
		// interrupted may have finished: count what is there.
		out.Stopped = true
		return out, db.countSalvaged(&out)
	}
	return out, err
}

func (db *DB) salvageRecords(ctx context.Context, damaged string, progress func(SalvageProgress)) (RecordSalvage, error) {
	if progress == nil {
		progress = func(SalvageProgress) {}
	}
	var out RecordSalvage
	accounts, err := db.accountIDs(ctx)
	if err != nil || len(accounts) == 0 {
		return out, err
	}
	for _, a := range accounts { // a first sync: indexes built once at the end
		if _, err := db.deferIndexIfEmpty(ctx, a, clock.Now()); err != nil {
			return out, err
		}
	}
	src, done, err := readableCopy(damaged, 0)
	if err != nil {
		return out, err
	}
	defer done()
	if err := db.copyRecords(ctx, src, &out, progress); err != nil {
		return out, err
	}
	for _, a := range accounts {
		err := db.buildPendingIndex(ctx, a, func(done, total int) {
			progress(SalvageProgress{Phase: SalvageIndexing, Records: out.Records, Indexed: done, ToIndex: total})
		})
		if err == nil {
			err = db.WriteTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO suggest_dirty(account_id, openid)
					SELECT DISTINCT account_id, openid FROM records WHERE account_id = ? AND openid <> ''`, a)
				return err
			})
		}
		if err == nil {
			err = db.BuildSuggestIndex(ctx, a)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// countSalvaged sets out's record count and last day to what the archive holds.
func (db *DB) countSalvaged(out *RecordSalvage) error {
	var hi sql.NullInt64
	if err := db.r.QueryRow(`SELECT count(*), max(id) FROM records`).Scan(&out.Records, &hi); err != nil {
		return err
	}
	if hi.Valid {
		out.Last = BeijingDay(time.Unix(hi.Int64>>idShift, 0))
	}
	return nil
}

func (db *DB) accountIDs(ctx context.Context) ([]int64, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM accounts ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// copyRecords walks src's records day by day on the writer connection with src attached.
func (db *DB) copyRecords(ctx context.Context, src string, out *RecordSalvage, progress func(SalvageProgress)) error {
	c, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	detach, err := attachOld(ctx, c, src)
	if err != nil {
		return err
	}
	defer detach()
	if _, err := columns(ctx, c, "old", "records"); err != nil {
		return nil // an archive from before the chat records: nothing to carry
	}
	list, err := commonColumns(ctx, c, "records")
	if err != nil {
		return err
	}
	// NOT INDEXED: the table's own b-tree by id; an index (records_account for the
	// account filter) may be what is damaged.
	rangeSQL := " FROM old.records NOT INDEXED WHERE id >= ? AND id < ? AND account_id IN (SELECT id FROM main.accounts)"
	// OR IGNORE: a damaged page may still read, with rows the new archive's constraints refuse.
	copySQL := "INSERT OR IGNORE INTO main.records (" + list + ") SELECT " + list + rangeSQL
	placeholders := strings.TrimSuffix(strings.Repeat("?, ", strings.Count(list, ",")+1), ", ")
	putSQL := "INSERT OR IGNORE INTO main.records (" + list + ") VALUES (" + placeholders + ")"
	affected := func(query string, args ...any) (int64, error) {
		res, err := c.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	w := salvageWalk{ctx: ctx, c: c, readSQL: "SELECT " + list + rangeSQL,
		bulk: func(lo, hi int64) (int64, error) { return affected(copySQL, lo, hi) },
		put:  func(row []any) (int64, error) { return affected(putSQL, row...) }}
	w.check = w.verify
	upto, walkErr := w.days(out, progress)
	if walkErr == nil {
		upto = "9999-12-31" // every day: also those marked synced with no records
		walkErr = salvagePushes(ctx, c, out)
	}
	if upto != "" {
		// Days read whole keep their sync state; the others are left to the next sync.
		lost := make([]string, len(out.LostDays))
		for i, d := range out.LostDays {
			lost[i] = dayKey(d)
		}
		js, _ := json.Marshal(lost)
		keep := context.WithoutCancel(ctx) // also when stopped: the days copied so far
		dayCols, err := commonColumns(keep, c, "record_days")
		if err == nil {
			_, err = c.ExecContext(keep, "INSERT OR IGNORE INTO main.record_days ("+dayCols+") SELECT "+dayCols+
				" FROM old.record_days WHERE day <= ? AND day NOT IN (SELECT value FROM json_each(?)) AND account_id IN (SELECT id FROM main.accounts)",
				upto, string(js))
		}
		if err != nil && walkErr == nil && !IsDamaged(err) { // unreadable marks: every day is synced again
			walkErr = err
		}
	}
	return walkErr
}

// salvagePushes carries the stored pushes over (all or nothing) with the links from
// the records they became (record_pushes). A record made from a push that getmsglist
// has not returned yet (unconfirmed) is matched through its link when the sync
// brings it (inbox.go, the no-double rule): without its link it would be archived
// twice, so such a record is taken out again and its day left to the next sync.
// When the links cannot be read, the records stay as they are.
func salvagePushes(ctx context.Context, c *sql.Conn, out *RecordSalvage) error {
	if _, err := columns(ctx, c, "old", "record_pushes"); err != nil {
		return nil // an archive from before the inbox
	}
	// Not carried (damaged, say): every unconfirmed link below is then an orphan.
	if _, err := salvageTable(ctx, c, "pushes"); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if _, err := c.ExecContext(ctx, `INSERT OR IGNORE INTO main.record_pushes(record_id, push_id, confirmed)
		SELECT record_id, push_id, confirmed FROM old.record_pushes
		WHERE record_id IN (SELECT id FROM main.records) AND push_id IN (SELECT id FROM main.pushes)`); err != nil {
		return unlessDamaged(err)
	}
	rows, err := c.QueryContext(ctx, `SELECT o.record_id FROM old.record_pushes o JOIN main.records r ON r.id = o.record_id
		WHERE NOT o.confirmed AND NOT EXISTS (SELECT 1 FROM main.record_pushes l WHERE l.record_id = o.record_id)`)
	if err != nil {
		return unlessDamaged(err)
	}
	var orphans []int64
	for rows.Next() {
		var id int64
		if err = rows.Scan(&id); err != nil {
			break
		}
		orphans = append(orphans, id)
	}
	if err == nil {
		err = rows.Err()
	}
	rows.Close()
	if err != nil {
		return unlessDamaged(err)
	}
	for _, id := range orphans {
		if _, err := c.ExecContext(ctx, `DELETE FROM main.records WHERE id = ?`, id); err != nil {
			return err
		}
		out.Records--
		d := BeijingDay(time.Unix(id>>idShift, 0))
		if !slices.ContainsFunc(out.LostDays, d.Equal) {
			out.LostDays = append(out.LostDays, d)
		}
	}
	slices.SortFunc(out.LostDays, time.Time.Compare)
	return nil
}

// unlessDamaged is err, or nil when it is damage: links that cannot be read leave the
// records as they are.
func unlessDamaged(err error) error {
	if IsDamaged(err) {
		return nil
	}
	return err
}

// emptyDays are the days the damaged file says every account synced whole and
// WeChat had no record of (as far as its record_days table can be read).
func emptyDays(ctx context.Context, c *sql.Conn) map[string]bool {
	out := map[string]bool{}
	rows, err := c.QueryContext(ctx, `SELECT day FROM old.record_days WHERE account_id IN (SELECT id FROM main.accounts)
		GROUP BY day HAVING min(complete) = 1 AND max(records) = 0 AND count(*) = (SELECT count(*) FROM main.accounts)`)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if rows.Scan(&d) == nil {
			out[d] = true
		}
	}
	if rows.Err() != nil {
		return map[string]bool{} // half read: none
	}
	return out
}

// commonColumns is the quoted, comma-separated columns table has in both main and old.
func commonColumns(ctx context.Context, c *sql.Conn, table string) (string, error) {
	oldCols, err := columns(ctx, c, "old", table)
	if err != nil {
		return "", err
	}
	newCols, err := columns(ctx, c, "main", table)
	if err != nil {
		return "", err
	}
	var cols []string
	for _, col := range newCols {
		if slices.Contains(oldCols, col) {
			cols = append(cols, `"`+col+`"`)
		}
	}
	if len(cols) == 0 {
		return "", errors.New("no columns in common")
	}
	return strings.Join(cols, ", "), nil
}

// salvageBounds is the Beijing days from the first record's to the day after the
// last one's, as far as the file can say them (the b-tree's first and last leaves
// may be the damaged ones): otherwise from the first day synced (or
// salvageFallbackStart), and to the last day a record can be of (lastRecordDay) or tomorrow.
func salvageBounds(ctx context.Context, c *sql.Conn) (from, to time.Time) {
	from, to = salvageFallbackStart, BeijingDay(clock.Now()).AddDate(0, 0, 2)
	// Next best for the start: the first day synced (records before it can only be
	// pushed messages of days never synced). Not for the end: messages pushed after
	// the last sync are archived too.
	var first sql.NullString
	if c.QueryRowContext(ctx, "SELECT min(day) FROM old.record_days").Scan(&first) == nil && first.Valid {
		if d, err := ParseDay(first.String); err == nil {
			from = d
		}
	}
	var lo, hi sql.NullInt64
	if c.QueryRowContext(ctx, "SELECT min(id) FROM old.records").Scan(&lo) == nil && lo.Valid {
		from = BeijingDay(time.Unix(lo.Int64>>idShift, 0))
	}
	if c.QueryRowContext(ctx, "SELECT max(id) FROM old.records").Scan(&hi) == nil && hi.Valid {
		to = BeijingDay(time.Unix(hi.Int64>>idShift, 0)).AddDate(0, 0, 1)
	} else if last, ok := lastRecordDay(ctx, c); ok && last.Before(to) {
		to = last.AddDate(0, 0, 1)
	}
	if lo.Valid && !hi.Valid && !to.After(from) {
		to = from.AddDate(0, 0, 1)
	}
	return from, to
}

// lastRecordDay is the last day a record can be of, by how records get into the
// archive: a sync (the day after the last one marked, which it may have left midway)
// or a push (ArchivePush). ok is false when either table cannot say.
func lastRecordDay(ctx context.Context, c *sql.Conn) (day time.Time, ok bool) {
	var synced sql.NullString
	var pushed sql.NullInt64
	if c.QueryRowContext(ctx, "SELECT max(day) FROM old.record_days").Scan(&synced) != nil ||
		c.QueryRowContext(ctx, "SELECT max(create_time) FROM old.pushes").Scan(&pushed) != nil || !synced.Valid {
		return time.Time{}, false
	}
	d, err := ParseDay(synced.String)
	if err != nil {
		return time.Time{}, false
	}
	day = d.AddDate(0, 0, 1)
	if p := BeijingDay(time.Unix(pushed.Int64, 0)); pushed.Valid && p.After(day) {
		day = p
	}
	return day, true
}

// salvageWalk copies (or counts) the readable rows of old.records by ranges of ids,
// halving those that fail.
type salvageWalk struct {
	ctx     context.Context
	c       *sql.Conn                         // with the damaged file attached as old
	bulk    func(lo, hi int64) (int64, error) // the rows of [lo, hi) at once
	readSQL string                            // the rows of [lo, hi), id first, for put
	put     func(row []any) (int64, error)    // one row of readSQL
	check   func(lo, hi int64) (int64, error) // after a day: rows found wrong (optional)
	budget  int                               // failed reads left for this day
	lost    bool                              // some range of this day could not be read
}

// days walks the Beijing days of old.records one by one into out, calling progress
// after each. It returns the last day walked (YYYY-MM-DD, "" if none).
func (w *salvageWalk) days(out *RecordSalvage, progress func(SalvageProgress)) (upto string, err error) {
	from, to := salvageBounds(w.ctx, w.c)
	empty := emptyDays(w.ctx, w.c)
	p := SalvageProgress{Days: int((to.Sub(from) + 12*time.Hour) / (24 * time.Hour))} // Beijing has no DST
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if err := w.ctx.Err(); err != nil {
			return upto, err
		}
		w.budget, w.lost = salvageDayBudget, false
		if empty[dayKey(d)] {
			w.budget = 1 // one look: no record is expected there
		}
		lo, hi := idOfTime(d.Unix()), idOfTime(d.AddDate(0, 0, 1).Unix())
		n, err := w.copyRange(lo, hi)
		if err == nil && n > 0 && w.check != nil {
			var bad int64
			bad, err = w.check(lo, hi)
			n -= bad
		}
		if err != nil {
			return upto, err
		}
		if w.lost && n == 0 && empty[dayKey(d)] {
			// Nothing read, where nothing was to be read: when the table's first page
			// is damaged, every day before its first record fails too.
			w.lost = false
		}
		if w.lost {
			out.LostDays = append(out.LostDays, d)
		}
		if n > 0 {
			if out.First.IsZero() {
				out.First = d
			}
			out.Last = d
		}
		out.Records += n
		upto = dayKey(d)
		p.DaysDone++
		p.Day, p.Records = d, out.Records
		progress(p)
	}
	return upto, nil
}

// copyRange copies the records with ids in [lo, hi) that can be read, and returns how many.
func (w *salvageWalk) copyRange(lo, hi int64) (int64, error) {
	n, err := w.bulk(lo, hi)
	if err == nil {
		return n, nil
	}
	if w.ctx.Err() != nil || !IsDamaged(err) {
		return 0, fmt.Errorf("copying chat records: %w", err)
	}
	w.budget--
	// The rows before the damage, read forwards, and after it, read backwards, one by
	// one: a range read fails as a whole, also on the row just before a damaged page
	// (SQLite looks at the next row to see that the range has ended).
	n, first, failed, err := w.readRows(lo, hi, "")
	if err != nil || !failed { // read whole this time
		return n, err
	}
	m, last, failed, err := w.readRows(first+1, hi, " DESC")
	n += m
	if err != nil || !failed {
		return n, err
	}
	// Between them, (first, last), no row could be read. There may be readable pages
	// in it, unless it is small or this day has cost enough, or nothing of the range
	// could be read from either end (a file cut short: all that follows is gone).
	if last-first <= salvageMinSpan || w.budget <= 0 || (first < lo && last >= hi) {
		w.lost = true
		return n, nil
	}
	mid := first + (last-first)/2
	a, err := w.copyRange(first+1, mid)
	if err != nil {
		return n + a, err
	}
	b, err := w.copyRange(mid, last)
	return n + a + b, err
}

// readRows copies the rows of [lo, hi) in id order (desc " DESC": backwards) until
// one cannot be read (failed). edge is the last id read: lo-1 (hi backwards) if none.
func (w *salvageWalk) readRows(lo, hi int64, desc string) (n, edge int64, failed bool, err error) {
	edge = lo - 1
	if desc != "" {
		edge = hi
	}
	var batch [][]any
	rows, readErr := w.c.QueryContext(w.ctx, w.readSQL+" ORDER BY id"+desc, lo, hi)
	if readErr == nil {
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if readErr = rows.Scan(ptrs...); readErr != nil {
				break
			}
			edge = vals[0].(int64) // id comes first (main's column order)
			batch = append(batch, vals)
		}
		if readErr == nil {
			readErr = rows.Err()
		}
		rows.Close()
	}
	for _, vals := range batch {
		k, err := w.put(vals)
		if err != nil {
			return n, edge, false, err
		}
		n += k
	}
	if readErr != nil {
		w.budget--
	}
	return n, edge, readErr != nil, w.damageOK(readErr)
}

// verify deletes the records of [lo, hi) copied into main whose content is not what
// their identity says: a damaged page can read without error with some bytes zeroed
// (a file cut short in the middle of a page). rkey is a hash of the content
// (recordKey), and the id holds the time. It returns how many it deleted.
func (w *salvageWalk) verify(lo, hi int64) (int64, error) {
	rows, err := w.c.QueryContext(w.ctx, `SELECT id, time, openid, opercode, worker, text, rkey FROM main.records WHERE id >= ? AND id < ?`, lo, hi)
	if err != nil {
		return 0, err
	}
	var bad []int64
	for rows.Next() {
		var id int64
		var r api.Record
		var key []byte
		if err := rows.Scan(&id, &r.Time, &r.OpenID, &r.OperCode, &r.Worker, &r.Text, &key); err != nil {
			rows.Close()
			return 0, err
		}
		if id>>idShift != r.Time || !bytes.Equal(key, recordKey(r)) {
			bad = append(bad, id)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil || len(bad) == 0 {
		return 0, err
	}
	w.lost = true
	for _, id := range bad {
		if _, err := w.c.ExecContext(w.ctx, `DELETE FROM main.records WHERE id = ?`, id); err != nil {
			return 0, err
		}
	}
	return int64(len(bad)), nil
}

// damageOK is err unless it is the damage being read around.
func (w *salvageWalk) damageOK(err error) error {
	if err == nil || (w.ctx.Err() == nil && IsDamaged(err)) {
		return nil
	}
	return fmt.Errorf("copying chat records: %w", err)
}

// ReadableRecords counts the chat records of a damaged database file that can still
// be read, day by day as SalvageRecords reads them, and the days where some cannot:
// about what starting empty would carry over (a row that reads but is wrong, which
// SalvageRecords leaves out by its identity hash, is counted). path is only read.
func ReadableRecords(ctx context.Context, path string) (RecordSalvage, error) {
	var out RecordSalvage
	src, done, err := readableCopy(path, 0)
	if err != nil {
		return out, err
	}
	defer done()
	mem, err := sql.Open(driverName, "file::memory:")
	if err != nil {
		return out, err
	}
	defer mem.Close()
	c, err := mem.Conn(ctx)
	if err != nil {
		return out, err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "ATTACH DATABASE ? AS old", fileURI(src, "mode=ro")); err != nil {
		return out, err
	}
	// The accounts, as the new archive would have them: records of others are not carried.
	if _, err := c.ExecContext(ctx, "CREATE TABLE main.accounts AS SELECT id FROM old.accounts"); err != nil {
		return out, err
	}
	rangeSQL := " FROM old.records NOT INDEXED WHERE id >= ? AND id < ? AND account_id IN (SELECT id FROM main.accounts)"
	w := salvageWalk{ctx: ctx, c: c, readSQL: "SELECT id" + rangeSQL,
		bulk: func(lo, hi int64) (n int64, err error) {
			err = c.QueryRowContext(ctx, "SELECT count(*)"+rangeSQL, lo, hi).Scan(&n)
			return n, err
		},
		put: func([]any) (int64, error) { return 1, nil }}
	_, err = w.days(&out, func(SalvageProgress) {})
	return out, err
}
