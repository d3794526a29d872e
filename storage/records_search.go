package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RecordFilter selects archived records. Zero fields do not filter.
type RecordFilter struct {
	Text      string    // substring, case-insensitive for Latin letters
	OpenID    string    // one customer
	OpenIDs   []string  // any of these customers (e.g. those whose note matches); with OpenID, both apply
	Worker    string    // one KF account, e.g. kf1@teashop
	OperCodes []int     // any of these opercodes (see api.DirectionOperCodes)
	From, To  time.Time // Beijing days, inclusive
}

// RecordCursor marks where a page ended; the zero cursor starts at the beginning.
type RecordCursor int64

// RecordPage is one page of results; More tells whether Next leads further.
type RecordPage struct {
	Records []Record
	Next    RecordCursor
	More    bool
}

// textPlan is how a text query is answered.
type textPlan int

const (
	textNone    textPlan = iota
	textTrigram          // 3+ characters: the trigram index
	textGrams            // 1–2 letters/digits: the unigram/bigram index
	textScan             // 1–2 characters with punctuation or spaces: LIKE on the records
)

// foldsBeyondASCII: s has a letter outside ASCII with an upper and a lower case,
// which SQLite's LIKE would compare case-sensitively. Only then the scan pays for
// a Go call per row.
func foldsBeyondASCII(s string) bool {
	for _, r := range s {
		if r >= utf8.RuneSelf && (unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)) {
			return true
		}
	}
	return false
}

func planText(q string) (textPlan, string) {
	q = strings.TrimSpace(q)
	n := utf8.RuneCountInString(q)
	switch {
	case n == 0:
		return textNone, ""
	case n >= 3:
		return textTrigram, `"` + strings.ReplaceAll(q, `"`, `""`) + `"`
	}
	for _, r := range q {
		if !isGramRune(r) {
			return textScan, "%" + escapeLike(q) + "%"
		}
	}
	return textGrams, `"` + strings.ToLower(q) + `"`
}

// recordQuery builds the SELECT for a filter. With a text query the search index
// drives the loop in rowid (= time) order, so the first page stops early; with a
// customer filter the customer's records drive it and the text is checked per row.
// While the account's index is still to be built (unindexed), the text is checked per row too.
// openidIndex: records_openid exists (a first sync drops it until its end).
func recordQuery(accountID int64, f RecordFilter, cursor RecordCursor, asc bool, limit int, cols string, unindexed, openidIndex bool) (string, []any) {
	plan, match := planText(f.Text)
	oneCustomer := f.OpenID != "" || len(f.OpenIDs) > 0
	if (oneCustomer || unindexed) && plan != textNone {
		// One customer has few records: scanning them beats walking a common word's index.
		plan, match = textScan, "%"+escapeLike(strings.TrimSpace(f.Text))+"%"
	}
	var from string
	var where []string
	var args []any
	idCol := "r.id"
	switch plan {
	case textTrigram:
		from = "records_fts f CROSS JOIN records r ON r.id = f.rowid" // CROSS: the index must drive the loop
		where, args = append(where, "records_fts MATCH ?"), append(args, match)
		idCol = "f.rowid"
	case textGrams:
		from = "records_grams g CROSS JOIN records r ON r.id = g.rowid"
		where, args = append(where, "records_grams MATCH ?"), append(args, match)
		idCol = "g.rowid"
	default:
		from = "records r"
		if oneCustomer && openidIndex {
			// Without the hint SQLite walks all records by id to save a sort of one customer's few.
			from = "records r INDEXED BY records_openid"
		}
	}
	where, args = append(where, "r.account_id = ?"), append(args, accountID)
	if plan == textScan {
		if foldsBeyondASCII(match) {
			where, args = append(where, `kf_lower(r.text) LIKE ? ESCAPE '\'`), append(args, strings.ToLower(match))
		} else {
			where, args = append(where, `r.text LIKE ? ESCAPE '\'`), append(args, match)
		}
	}
	if f.OpenID != "" {
		where, args = append(where, "r.openid = ?"), append(args, f.OpenID)
	}
	if len(f.OpenIDs) > 0 {
		where = append(where, "r.openid IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.OpenIDs)), ",")+")")
		for _, o := range f.OpenIDs {
			args = append(args, o)
		}
	}
	if f.Worker != "" {
		where, args = append(where, "r.worker = ?"), append(args, f.Worker)
	}
	if len(f.OperCodes) > 0 {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(f.OperCodes)), ",")
		where = append(where, "r.opercode IN ("+ph+")")
		for _, c := range f.OperCodes {
			args = append(args, c)
		}
	}
	// Day ranges and the cursor are rowid ranges (id = time<<20 | n): the indexes apply them directly.
	if !f.From.IsZero() {
		where, args = append(where, idCol+" >= ?"), append(args, idOfTime(BeijingDay(f.From).Unix()))
	}
	if !f.To.IsZero() {
		where, args = append(where, idCol+" < ?"), append(args, idOfTime(BeijingDay(f.To).AddDate(0, 0, 1).Unix()))
	}
	order := " ORDER BY " + idCol + " DESC"
	if asc {
		order = " ORDER BY " + idCol
	}
	if cursor != 0 {
		op := " < ?"
		if asc {
			op = " > ?"
		}
		where, args = append(where, idCol+op), append(args, int64(cursor))
	}
	q := "SELECT " + cols + " FROM " + from + " WHERE " + strings.Join(where, " AND ")
	if cols != "count(*)" {
		q += order
	}
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return q, args
}

const recordCols = "r.id, r.account_id, r.time, r.openid, r.opercode, r.worker, r.text"

func scanRecord(rows *sql.Rows) (Record, error) {
	var r Record
	var t int64
	err := rows.Scan(&r.ID, &r.AccountID, &t, &r.OpenID, &r.OperCode, &r.Worker, &r.Text)
	r.Time = time.Unix(t, 0)
	return r, err
}

// DefaultPageSize is the page size when none is given.
const DefaultPageSize = 200

// SearchRecords returns a page of the records matching f, newest first.
func (db *DB) SearchRecords(ctx context.Context, accountID int64, f RecordFilter, after RecordCursor, limit int) (RecordPage, error) {
	return db.recordPage(ctx, accountID, f, after, limit, false)
}

// Conversation returns a page of one customer's records in time order.
func (db *DB) Conversation(ctx context.Context, accountID int64, openid string, after RecordCursor, limit int) (RecordPage, error) {
	return db.recordPage(ctx, accountID, RecordFilter{OpenID: openid}, after, limit, true)
}

func (db *DB) recordPage(ctx context.Context, accountID int64, f RecordFilter, after RecordCursor, limit int, asc bool) (RecordPage, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	var page RecordPage
	err := db.eachRecord(ctx, accountID, f, after, asc, limit+1, func(r Record) error {
		if len(page.Records) == limit {
			page.More = true
			return nil
		}
		page.Records = append(page.Records, r)
		page.Next = RecordCursor(r.ID)
		return nil
	})
	return page, err
}

// eachRecord streams the matching records to fn (limit 0 = all).
func (db *DB) eachRecord(ctx context.Context, accountID int64, f RecordFilter, after RecordCursor, asc bool, limit int, fn func(Record) error) error {
	return db.readTx(ctx, func(tx *sql.Tx) error {
		unindexed, openidIndex, err := searchState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		q, args := recordQuery(accountID, f, after, asc, limit, recordCols, unindexed, openidIndex)
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// readTx runs fn in one read transaction: every query in it sees one snapshot,
// even while a sync commits pages or builds the index.
func (db *DB) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // nothing to commit: readers are query-only
	return fn(tx)
}

// CountRecords counts the records matching f. It walks every match, so for a
// common word over a large archive call it off the UI thread.
func (db *DB) CountRecords(ctx context.Context, accountID int64, f RecordFilter) (int, error) {
	var n int
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		unindexed, openidIndex, err := searchState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		q, args := recordQuery(accountID, f, 0, false, 0, "count(*)", unindexed, openidIndex)
		return tx.QueryRowContext(ctx, q, args...).Scan(&n)
	})
	return n, err
}

// RecordWorkers lists the distinct KF workers in an account's records, sorted.
// It seeks from one worker to the next in the index instead of reading every record.
func (db *DB) RecordWorkers(ctx context.Context, accountID int64) ([]string, error) {
	var out []string
	last := "" // '' (session events without a worker) is not a worker and sorts first
	for {
		var w string
		err := db.r.QueryRowContext(ctx, `SELECT worker FROM records WHERE account_id = ? AND worker > ? ORDER BY worker LIMIT 1`,
			accountID, last).Scan(&w)
		if err == sql.ErrNoRows {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, w)
		last = w
	}
}

// Customer is someone seen in the chat records of an account.
type Customer struct {
	OpenID       string
	LastMessage  time.Time // time of the customer's last message to the account (opercode 2003 or 2001); zero if none
	LastActivity time.Time // time of the last record of any kind with this openid
	RepliesSince int       // KF messages (2002) sent after LastMessage
}

// RecentCustomers lists customers of an account, most recent activity first.
func (db *DB) RecentCustomers(ctx context.Context, accountID int64, limit int) ([]Customer, error) {
	if limit <= 0 {
		limit = 50
	}
	// Newest records first until limit customers are seen: reads a few hundred rows, not the archive.
	rows, err := db.r.QueryContext(ctx, `SELECT openid, time FROM records WHERE account_id = ? AND openid <> '' ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, err
	}
	var out []Customer
	seen := map[string]bool{}
	for rows.Next() && len(out) < limit {
		var c Customer
		var t int64
		if err := rows.Scan(&c.OpenID, &t); err != nil {
			rows.Close()
			return nil, err
		}
		if !seen[c.OpenID] {
			seen[c.OpenID] = true
			c.LastActivity = time.Unix(t, 0)
			out = append(out, c)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := db.replyWindow(ctx, accountID, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
