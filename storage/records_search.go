package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RecordFilter selects archived records. Zero fields do not filter.
type RecordFilter struct {
	Text      string    // words to find (see searchQuery), case-insensitive
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

// The search language. A query is words separated by spaces (an ASCII or a
// full-width space 　); a record matches when it contains every word, in any
// order, and none of the excluded ones. Each word is a case-insensitive
// substring, punctuation and emoji included (100%, #12, 😊 are words).
//
//	退款 发货      both words
//	"原路退回"     an exact phrase, spaces included; “…” and ＂…＂ from a Chinese IME work too
//	-发票          without this word (-"a phrase" too); － (full-width) works as well
//
// Edge cases, chosen for searching while typing: a lone - and an empty "" mean
// nothing (退款 - finds what 退款 finds); a quote left open runs to the end of
// the text and spaces at a phrase's ends are dropped; only a - that starts a word
// excludes (A-1 is one word) and only a quote that starts one opens a phrase
// (12" is a word); a word given twice counts once. README.md "Chat records" has
// the user's version.
type searchQuery struct {
	words []string // each must occur
	not   []string // none may occur
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' || r == '＂' }
func isMinus(r rune) bool { return r == '-' || r == '－' }

func parseSearch(s string) searchQuery {
	var q searchQuery
	seen := map[string]bool{}
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		neg := isMinus(rs[i])
		if neg {
			if i++; i == len(rs) || unicode.IsSpace(rs[i]) {
				continue // a lone -
			}
		}
		j := i
		var w string
		if isQuote(rs[i]) {
			for j = i + 1; j < len(rs) && !isQuote(rs[j]); j++ {
			}
			w = strings.TrimFunc(string(rs[i+1:j]), unicode.IsSpace)
			j++ // past the closing quote
		} else {
			for j < len(rs) && !unicode.IsSpace(rs[j]) {
				j++
			}
			w = string(rs[i:j])
		}
		i = j
		key := fmt.Sprint(neg, strings.ToLower(w))
		if w == "" || seen[key] {
			continue
		}
		seen[key] = true
		if neg {
			q.not = append(q.not, w)
		} else {
			q.words = append(q.words, w)
		}
	}
	return q
}

// SearchWords are the words a record must contain for the search text s
// (phrases as one word, excluded words left out): what a result list highlights.
func SearchWords(s string) []string { return parseSearch(s).words }

// textPlan is how the words of a query are answered: an index whose MATCH drives
// the loop (none: the records are walked), and the words checked on each row.
type textPlan struct {
	index string   // "", "records_fts" (trigram) or "records_grams" (1–2 letters/digits)
	match string   // the index's MATCH expression
	like  []string // words the index does not answer exactly: LIKE on each row
	not   []string // excluded words: NOT LIKE on each row
}

// gramsPerWord caps the bigrams a longer word adds to a records_grams MATCH: each
// token adds work to every step of FTS5's intersection and a few already narrow
// it down (the row check has the last word). "thanks a lot" ok, 300,000 records,
// median of 30: 2.9–3.3 ms with 2–4 tokens for the phrase, 6.4–9.3 ms with all 8.
const gramsPerWord = 4

// planText picks the index for q. Words of 3+ characters are trigram phrases,
// all in one MATCH (FTS5 intersects them, so a pair that never occurs together
// ends at once); with several, only their first trigramHead characters. Words of 1–2 letters/digits are records_grams tokens; when a
// query has both kinds, records_grams drives: the long words add their bigrams
// (a record with the word has them all) and are checked on the row. Short words
// with punctuation have no index: with nothing else they are a scan (LIKE).
// scanOnly: answer everything with LIKE (one customer, or the index is not built).
func planText(q searchQuery, scanOnly bool) textPlan {
	p := textPlan{not: q.not}
	var long, short []string // trigram phrases, grams tokens
	for _, w := range q.words {
		n := utf8.RuneCountInString(w)
		switch {
		case scanOnly:
			p.like = append(p.like, w)
		case n >= 3:
			long = append(long, w)
		case strings.IndexFunc(w, func(r rune) bool { return !isGramRune(r) }) < 0:
			short = append(short, strings.ToLower(w))
		default:
			p.like = append(p.like, w)
		}
	}
	phrases := func(ws []string) string {
		var b strings.Builder
		for i, w := range ws {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(`"` + strings.ReplaceAll(w, `"`, `""`) + `"`)
		}
		return b.String()
	}
	switch {
	case len(short) > 0:
		tokens := short
		for _, w := range long {
			tokens = append(tokens, wordGrams(w, gramsPerWord)...)
			p.like = append(p.like, w)
		}
		p.index, p.match = "records_grams", phrases(slices.Compact(slices.Sorted(slices.Values(tokens))))
	case len(long) == 1:
		p.index, p.match = "records_fts", phrases(long)
	case len(long) > 1:
		// Each word's first characters, the whole word checked on the row: FTS5 checks
		// the positions of every trigram of a phrase, and with two long phrases that
		// costs more than it narrows down.
		var heads []string
		for _, w := range long {
			if r := []rune(w); len(r) > trigramHead {
				w = string(r[:trigramHead])
				p.like = append(p.like, string(r))
			}
			heads = append(heads, w)
		}
		p.index, p.match = "records_fts", phrases(heads)
	}
	return p
}

// trigramHead is how many characters of each word a query of several 3+ character
// words looks up in the trigram index. Thread CPU time, 300,000 records, median of
// 40, whole words against 4 characters: "thanks a lot" wechat 10.2 / 4.1 ms,
// "sf express" "tracking id" 11.1 / 4.0 ms, iphone wechat 5.4 / 3.8 ms; 5 or 6
// characters lay between.
const trigramHead = 4

// wordGrams is what any text containing w has in records_grams (records.go
// grams): each letter/digit standing alone, the bigrams of longer runs; at most limit.
func wordGrams(w string, limit int) []string {
	var out []string
	run := []rune{}
	flush := func() {
		if len(run) == 1 {
			out = append(out, string(run))
		}
		for i := 1; i < len(run); i++ {
			out = append(out, string(run[i-1:i+1]))
		}
		run = run[:0]
	}
	for _, r := range strings.ToLower(w) {
		if isGramRune(r) {
			run = append(run, r)
		} else {
			flush()
		}
	}
	flush()
	return out[:min(len(out), limit)]
}

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

// likeWord is the LIKE condition for a word on r.text.
func likeWord(w string, not bool) (string, any) {
	op := " LIKE ? ESCAPE '\\'"
	if not {
		op = " NOT" + op
	}
	pattern := "%" + escapeLike(w) + "%"
	if foldsBeyondASCII(w) {
		return "kf_lower(r.text)" + op, strings.ToLower(pattern)
	}
	return "r.text" + op, pattern
}

// recordQuery builds the SELECT for a filter. With a text query the search index
// drives the loop in rowid (= time) order, so the first page stops early; with a
// customer filter the customer's records drive it and the text is checked per row.
// While the account's index is still to be built (unindexed), the text is checked per row too.
// openidIndex: records_openid exists (a first sync drops it until its end).
func recordQuery(accountID int64, f RecordFilter, cursor RecordCursor, asc bool, limit int, cols string, unindexed, openidIndex bool) (string, []any) {
	oneCustomer := f.OpenID != "" || len(f.OpenIDs) > 0
	// One customer has few records: scanning them beats walking a common word's index.
	plan := planText(parseSearch(f.Text), oneCustomer || unindexed)
	var from string
	var where []string
	var args []any
	idCol := "r.id"
	switch plan.index {
	case "records_fts":
		from = "records_fts f CROSS JOIN records r ON r.id = f.rowid" // CROSS: the index must drive the loop
		where, args = append(where, "records_fts MATCH ?"), append(args, plan.match)
		idCol = "f.rowid"
	case "records_grams":
		from = "records_grams g CROSS JOIN records r ON r.id = g.rowid"
		where, args = append(where, "records_grams MATCH ?"), append(args, plan.match)
		idCol = "g.rowid"
	default:
		from = "records r"
		if oneCustomer && openidIndex {
			// Without the hint SQLite walks all records by id to save a sort of one customer's few.
			from = "records r INDEXED BY records_openid"
		}
	}
	where, args = append(where, "r.account_id = ?"), append(args, accountID)
	for i, w := range append(slices.Clip(plan.like), plan.not...) {
		cond, arg := likeWord(w, i >= len(plan.like))
		where, args = append(where, cond), append(args, arg)
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

// RecentCustomers lists customers of an account, most recent activity first,
// with their reply window (LastMessage, RepliesSince), in one read snapshot.
func (db *DB) RecentCustomers(ctx context.Context, accountID int64, limit int) ([]Customer, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []Customer
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		// The newest records name the most recent customers, so a few times limit of
		// them usually suffice; when they name fewer than limit customers and older
		// records exist, look twice as far back.
		for window := int64(limit) * 4; ; window *= 2 {
			var enough bool
			var err error
			if out, enough, err = recentCustomers(ctx, tx, accountID, window, limit); err != nil || enough {
				return err
			}
		}
	})
	return out, err
}

// recentCustomersSQL: the customers among the newest ?2 records with an openid,
// the ?3 most recent of them by their last record, each with the id of that
// record, of their last message (2001/2003) and the count of KF messages (2002)
// since (seeks in records_openid). When the window names fewer than ?3 customers
// and older records exist, only a row with a NULL openid comes back: look further.
const recentCustomersSQL = `WITH recent AS MATERIALIZED (
	SELECT id, openid FROM records WHERE account_id = ?1 AND openid <> '' ORDER BY id DESC LIMIT ?2
), c AS MATERIALIZED (
	SELECT openid, max(id) AS last_id FROM recent GROUP BY openid ORDER BY last_id DESC LIMIT ?3
), enough AS MATERIALIZED (
	SELECT (SELECT count(*) FROM c) = ?3 OR (SELECT count(*) FROM recent) < ?2 AS ok
), m AS MATERIALIZED (
	SELECT openid, last_id, (SELECT max(id) FROM records WHERE account_id = ?1 AND openid = c.openid AND opercode IN (2001, 2003)) AS msg_id
	FROM c WHERE (SELECT ok FROM enough)
)
SELECT openid, last_id, msg_id,
	(SELECT count(*) FROM records WHERE account_id = ?1 AND openid = m.openid AND opercode = 2002 AND id > coalesce(m.msg_id, 0))
FROM m
UNION ALL SELECT NULL, 0, NULL, 0 FROM enough WHERE NOT ok
ORDER BY 2 DESC`

func recentCustomers(ctx context.Context, tx *sql.Tx, accountID, window int64, limit int) (out []Customer, enough bool, err error) {
	rows, err := tx.QueryContext(ctx, recentCustomersSQL, accountID, window, limit)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	enough = true
	for rows.Next() {
		var openid sql.NullString
		var last int64
		var msg sql.NullInt64
		var c Customer
		if err := rows.Scan(&openid, &last, &msg, &c.RepliesSince); err != nil {
			return nil, false, err
		}
		if !openid.Valid {
			enough = false
			continue
		}
		c.OpenID = openid.String
		c.LastActivity = time.Unix(last>>idShift, 0) // ids are time<<idShift | n (records.go)
		if msg.Valid {
			c.LastMessage = time.Unix(msg.Int64>>idShift, 0)
		}
		out = append(out, c)
	}
	return out, enough, rows.Err()
}

// HasRecords tells whether the account has any chat record (without counting them).
func (db *DB) HasRecords(ctx context.Context, accountID int64) (bool, error) {
	var has bool
	err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM records WHERE account_id = ?)`, accountID).Scan(&has)
	return has, err
}
