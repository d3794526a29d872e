package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// The inbox (issue 12): the conversation list from inbox_conversations (kept by
// triggers on records, migrations/0008_inbox.sql), read marks, the wait queue, and
// pushed messages written into the archive once.
//
// The no-double rule. A customer message can reach the archive twice: as a push
// (from the push server's feed) and as a getmsglist record. getmsglist records have
// no id, so the two are matched on what both carry: the customer (openid), the
// second (push CreateTime = record time), and the text as getmsglist shows it
// (PushRecordText: the Content of a text or menu tap, "[image]", "[voice]",
// "[video]", … for media). Within one customer and second, identical messages are
// matched as multisets: each push is linked to at most one record and each record
// to at most one push (record_pushes), so k identical pushes and m identical records
// leave max(k, m) records — a customer who really sent "好" twice keeps both.
//   - A push that arrives first becomes a record of its own (opercode 2001, no
//     worker), linked but unconfirmed; the getmsglist record that matches it later
//     takes over that row (its opercode, worker and identity) instead of adding one.
//   - A push that arrives after its record links to that record (confirmed).

// InboxRow is one conversation of the inbox list.
type InboxRow struct {
	OpenID       string
	Note         string
	LastID       int64 // records.id of the newest record
	LastAt       time.Time
	LastOperCode int
	LastText     string
	KF           string    // worker of the newest record naming one
	CustomerAt   time.Time // the customer's newest message (zero if none archived)
	Replies      int       // KF messages since it
	Unread       int
	WaitingSince time.Time // zero when not in the wait queue
}

// InboxQuery filters the inbox list.
type InboxQuery struct {
	UnreadOnly  bool
	WaitingOnly bool
	KF          string    // only conversations last served by this worker
	MessageFrom time.Time // only customers whose newest message is at or after this (zero: any)
	Search      string    // in the openid, the note or the last message
	Limit       int       // default DefaultPageSize
}

const inboxRowCols = `c.openid, coalesce(n.note, ''), c.last_id, c.last_opercode, c.last_text, c.kf, c.customer_id, c.replies, c.unread, coalesce(w.since, 0)`

func scanInboxRow(row interface{ Scan(...any) error }) (InboxRow, error) {
	var r InboxRow
	var customer, since int64
	if err := row.Scan(&r.OpenID, &r.Note, &r.LastID, &r.LastOperCode, &r.LastText, &r.KF, &customer, &r.Replies, &r.Unread, &since); err != nil {
		return r, err
	}
	r.LastAt = time.Unix(r.LastID>>idShift, 0)
	if customer > 0 {
		r.CustomerAt = time.Unix(customer>>idShift, 0)
	}
	if since > 0 {
		r.WaitingSince = time.Unix(since, 0)
	}
	return r, nil
}

// InboxRows lists the account's conversations: waiting customers first (longest
// waiting first), then the others by newest activity.
func (db *DB) InboxRows(ctx context.Context, accountID int64, q InboxQuery) ([]InboxRow, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	var where []string
	args := []any{accountID}
	if q.UnreadOnly {
		where = append(where, "c.unread > 0")
	}
	if q.KF != "" {
		where = append(where, "c.kf = ?")
		args = append(args, q.KF)
	}
	if !q.MessageFrom.IsZero() {
		where = append(where, "c.customer_id >= ?")
		args = append(args, idOfTime(q.MessageFrom.Unix()))
	}
	search := strings.TrimSpace(q.Search)
	var out []InboxRow
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		if search != "" {
			ids, err := searchOpenIDs(ctx, tx, accountID, search)
			if err != nil {
				return err
			}
			like := "%" + escapeLike(search) + "%"
			where = append(where, `(c.openid LIKE ? ESCAPE '\' OR n.note LIKE ? ESCAPE '\' OR c.openid IN (SELECT value FROM json_each(?)))`)
			args = append(args, like, like, ids)
		}
		cond := ""
		if len(where) > 0 {
			cond = " AND " + strings.Join(where, " AND ")
		}
		// Waiting customers may have no record yet: the queue drives this half.
		waiting, err := queryAll(ctx, tx, scanInboxRow, `SELECT coalesce(c.openid, w.openid), coalesce(n.note, ''), coalesce(c.last_id, 0),
			coalesce(c.last_opercode, 0), coalesce(c.last_text, ''), coalesce(c.kf, ''), coalesce(c.customer_id, 0), coalesce(c.replies, 0),
			coalesce(c.unread, 0), w.since
			FROM inbox_waiting w LEFT JOIN inbox_conversations c ON c.account_id = w.account_id AND c.openid = w.openid
			LEFT JOIN customer_notes n ON n.account_id = w.account_id AND n.openid = w.openid
			WHERE w.account_id = ?`+strings.ReplaceAll(cond, "c.openid LIKE", "w.openid LIKE")+` ORDER BY w.since, w.openid LIMIT ?`,
			append(args, q.Limit)...)
		if err != nil {
			return err
		}
		for i := range waiting {
			if waiting[i].LastID == 0 {
				waiting[i].LastAt = waiting[i].WaitingSince
			}
		}
		out = waiting
		if q.WaitingOnly || len(out) >= q.Limit {
			return nil
		}
		rest, err := queryAll(ctx, tx, scanInboxRow, `SELECT `+inboxRowCols+`
			FROM inbox_conversations c LEFT JOIN customer_notes n ON n.account_id = c.account_id AND n.openid = c.openid
			LEFT JOIN inbox_waiting w ON w.account_id = c.account_id AND w.openid = c.openid
			WHERE c.account_id = ? AND w.openid IS NULL`+cond+` ORDER BY c.last_id DESC LIMIT ?`,
			append(args, q.Limit-len(out))...)
		out = append(out, rest...)
		return err
	})
	return out, err
}

// MarkInboxRead marks everything of the conversation read.
func (db *DB) MarkInboxRead(ctx context.Context, accountID int64, openid string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE inbox_conversations SET read_id = last_id, unread = 0 WHERE account_id = ? AND openid = ?`,
		accountID, openid)
	return err
}

// InboxUnread is the number of unread customer messages of the account.
func (db *DB) InboxUnread(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(unread), 0) FROM inbox_conversations WHERE account_id = ? AND unread > 0`,
		accountID).Scan(&n)
	return n, err
}

// WaitCase is a customer waiting for a KF account.
type WaitCase struct {
	OpenID string
	Since  time.Time
}

// SetInboxWaiting replaces the account's wait queue with cases (getwaitcase's answer).
func (db *DB) SetInboxWaiting(ctx context.Context, accountID int64, cases []WaitCase) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM inbox_waiting WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		for _, c := range cases {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO inbox_waiting(account_id, openid, since) VALUES (?, ?, ?)`,
				accountID, c.OpenID, c.Since.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
}

// InboxFeedCursor is where this desktop is in the push server's feed for the account (0: from the start).
func (db *DB) InboxFeedCursor(ctx context.Context, accountID int64) (int64, error) {
	var c int64
	err := db.r.QueryRowContext(ctx, `SELECT cursor FROM inbox_feed WHERE account_id = ?`, accountID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return c, err
}

// SetInboxFeedCursor remembers the feed position (after the pushes up to it are stored).
func (db *DB) SetInboxFeedCursor(ctx context.Context, accountID, cursor int64) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO inbox_feed(account_id, cursor) VALUES (?, ?)
		ON CONFLICT(account_id) DO UPDATE SET cursor = max(cursor, excluded.cursor)`, accountID, cursor)
	return err
}

// InboxItem is one entry of a conversation: an archived record, with the push it
// came from or was matched to (Push nil when none), or an event push alone (Record.ID 0).
type InboxItem struct {
	Record Record
	Push   *Push
}

// At is when it happened.
func (it InboxItem) At() time.Time {
	if it.Record.ID != 0 {
		return it.Record.Time
	}
	return it.Push.CreateTime
}

// InboxItems returns up to limit entries of the customer's conversation before
// before (zero: the newest), oldest first: the archived records with their pushes,
// and the event pushes (follow, menu click, …), which have no record.
func (db *DB) InboxItems(ctx context.Context, accountID int64, openid string, before time.Time, limit int) ([]InboxItem, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	end, endID := int64(math.MaxInt64), int64(math.MaxInt64)
	if !before.IsZero() {
		end, endID = before.Unix(), idOfTime(before.Unix())
	}
	var recs, events []InboxItem
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		// The ids first, from records_openid alone (it ends with the rowid): left to
		// itself SQLite walks all records newest first to save sorting one customer's.
		_, openidIndex, err := searchState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		hint := ""
		if openidIndex {
			hint = "INDEXED BY records_openid"
		}
		recs, err = queryAll(ctx, tx, scanInboxRecord, `SELECT r.id, r.time, r.opercode, r.worker, r.text, coalesce(p.push_id, 0), r.openid
			FROM records r LEFT JOIN record_pushes p ON p.record_id = r.id
			WHERE r.id IN (SELECT id FROM records `+hint+` WHERE account_id = ? AND openid = ? AND id < ? ORDER BY id DESC LIMIT ?)
			ORDER BY r.id DESC`, accountID, openid, endID, limit+1)
		if err != nil {
			return err
		}
		if err := readLinkedPushes(ctx, tx, accountID, recs); err != nil {
			return err
		}
		ps, err := queryAll(ctx, tx, scanPush, "SELECT "+pushCols+` FROM pushes
			WHERE account_id = ? AND openid = ? AND msg_type = 'event' AND create_time < ? ORDER BY create_time DESC, id DESC LIMIT ?`,
			accountID, openid, end, limit+1)
		for i := range ps {
			events = append(events, InboxItem{Push: &ps[i]})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Both are newest first: merge, keep the newest limit (and one to look ahead), then turn oldest first.
	out := make([]InboxItem, 0, min(limit+1, len(recs)+len(events)))
	for len(out) <= limit && (len(recs) > 0 || len(events) > 0) {
		if len(events) == 0 || (len(recs) > 0 && !recs[0].At().Before(events[0].At())) {
			out, recs = append(out, recs[0]), recs[1:]
		} else {
			out, events = append(out, events[0]), events[1:]
		}
	}
	if len(out) > limit {
		// A full page must not end inside a second: the next page reads before that
		// second, so when the entry after the page shares it, the page leaves that
		// second's entries to the next (unless the whole page is that second).
		next := out[limit].At()
		out = out[:limit]
		n := limit
		for n > 0 && out[n-1].At().Equal(next) {
			n--
		}
		if n > 0 {
			out = out[:n]
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func scanInboxRecord(row interface{ Scan(...any) error }) (InboxItem, error) {
	var it InboxItem
	var t, pushID int64
	err := row.Scan(&it.Record.ID, &t, &it.Record.OperCode, &it.Record.Worker, &it.Record.Text, &pushID, &it.Record.OpenID)
	it.Record.Time = time.Unix(t, 0)
	it.Push = &Push{ID: pushID} // only the id until read
	return it, err
}

// PushRecordText is how getmsglist shows a pushed message: a text's (or a menu
// tap's) Content, "[image]", "[voice]", "[video]" for media (the documented
// placeholders, api/wechattest/records.go), "[msgtype]" for the other kinds.
func PushRecordText(p Push) string {
	if p.MsgType == "text" {
		return p.Content
	}
	return "[" + p.MsgType + "]"
}

// ArchivePush writes the stored message push id into the archive by the no-double
// rule (top of this file): linked to the matching record, or as a record of its own.
// Events are not records (getmsglist has its own session events). It is idempotent.
func (db *DB) ArchivePush(ctx context.Context, id int64) (recordID int64, err error) {
	p, err := db.Push(ctx, id)
	if err != nil || p.IsEvent() {
		return 0, err
	}
	err = db.WriteTx(ctx, func(tx *sql.Tx) error {
		switch err := tx.QueryRowContext(ctx, `SELECT record_id FROM record_pushes WHERE push_id = ?`, id).Scan(&recordID); {
		case err == nil:
			return nil // archived before
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		text := PushRecordText(p)
		err := tx.QueryRowContext(ctx, `SELECT r.id FROM records r WHERE r.account_id = ? AND r.time = ? AND r.openid = ? AND r.text = ?
			AND r.opercode IN (2001, 2003) AND NOT EXISTS (SELECT 1 FROM record_pushes l WHERE l.record_id = r.id) ORDER BY r.id LIMIT 1`,
			p.AccountID, p.CreateTime.Unix(), p.OpenID, text).Scan(&recordID)
		confirmed := err == nil
		if errors.Is(err, sql.ErrNoRows) {
			r := api.Record{OpenID: p.OpenID, OperCode: 2001, Text: text, Time: p.CreateTime.Unix()}
			recordID, err = insertRecord(ctx, tx, p.AccountID, r)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO record_pushes(record_id, push_id, confirmed) VALUES (?, ?, ?)`, recordID, id, confirmed)
		return err
	})
	return recordID, err
}

// insertRecord adds one record (the next free occurrence of its identity and id of
// its second) with its search indexes.
func insertRecord(ctx context.Context, tx *sql.Tx, accountID int64, r api.Record) (int64, error) {
	key := recordKey(r)
	var occ int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE account_id = ? AND time = ? AND rkey = ?`,
		accountID, r.Time, key).Scan(&occ); err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id) + 1, ?) FROM records WHERE id >= ? AND id < ?`,
		idOfTime(r.Time), idOfTime(r.Time), idOfTime(r.Time+1)).Scan(&id); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, accountID, r.Time, r.OpenID, r.OperCode, r.Worker, r.Text, key, occ); err != nil {
		return 0, err
	}
	deferred, err := indexPending(ctx, tx, accountID)
	if err != nil || deferred || r.Text == "" {
		return id, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO records_fts(rowid, text) VALUES (?, ?)`, id, r.Text); err != nil {
		return 0, err
	}
	if g := grams(r.Text); g != "" {
		return id, insertGrams(ctx, tx, []gramRow{{id, g}})
	}
	return id, nil
}

// claimPushRecord is storePage's half of the no-double rule: a getmsglist customer
// message r not stored yet takes over a pushed message's unconfirmed record of the
// same customer, second and text (ok false when there is none).
func claimPushRecord(ctx context.Context, tx *sql.Tx, accountID int64, r pendingRecord) (ok bool, err error) {
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT r.id FROM records r JOIN record_pushes l ON l.record_id = r.id
		WHERE r.account_id = ? AND r.time = ? AND r.openid = ? AND r.text = ? AND NOT l.confirmed ORDER BY r.id LIMIT 1`,
		accountID, r.Time, r.OpenID, r.Text).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE records SET opercode = ?, worker = ?, rkey = ?, occ = ? WHERE id = ?`,
		r.OperCode, r.Worker, r.key, r.occ, id); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE record_pushes SET confirmed = 1 WHERE record_id = ?`, id)
	return true, err
}

// hasUnconfirmedPushes tells whether the account has a pushed message's record that
// getmsglist has not returned yet (most syncs: none, and no per-record check).
func hasUnconfirmedPushes(ctx context.Context, tx *sql.Tx, accountID int64) (bool, error) {
	var has bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM record_pushes l JOIN records r ON r.id = l.record_id
		WHERE NOT l.confirmed AND r.account_id = ?)`, accountID).Scan(&has)
	return has, err
}

// HasPushes tells whether any push of the account is stored.
func (db *DB) HasPushes(ctx context.Context, accountID int64) (bool, error) {
	var has bool
	err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pushes WHERE account_id = ?)`, accountID).Scan(&has)
	return has, err
}

// InboxItemsSince returns the account's records of since or later (with the pushes
// they came from), oldest first: what the inbox watcher compares with what it has seen.
func (db *DB) InboxItemsSince(ctx context.Context, accountID int64, since time.Time) ([]InboxItem, error) {
	var out []InboxItem
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanInboxRecord, `SELECT r.id, r.time, r.opercode, r.worker, r.text, coalesce(p.push_id, 0), r.openid
			FROM records r LEFT JOIN record_pushes p ON p.record_id = r.id
			WHERE r.account_id = ? AND r.id >= ? ORDER BY r.id`, accountID, idOfTime(since.Unix()))
		if err != nil {
			return err
		}
		return readLinkedPushes(ctx, tx, accountID, out)
	})
	return out, err
}

// readLinkedPushes replaces each item's push id (scanInboxRecord) by the push, or nil.
func readLinkedPushes(ctx context.Context, tx *sql.Tx, accountID int64, items []InboxItem) error {
	for i := range items {
		items[i].Record.AccountID = accountID
		id := items[i].Push.ID
		if id == 0 {
			items[i].Push = nil
			continue
		}
		p, err := scanPush(tx.QueryRowContext(ctx, "SELECT "+pushCols+" FROM pushes WHERE id = ?", id))
		if err != nil {
			return err
		}
		items[i].Push = &p
	}
	return nil
}

// inboxSearchRecords bounds the records a search of the inbox reads: the customers
// of the newest this many matching records.
const inboxSearchRecords = 2000

// searchOpenIDs is a JSON array of the customers whose records match text (the
// archive's search: records_search.go), newest first.
func searchOpenIDs(ctx context.Context, tx *sql.Tx, accountID int64, text string) (string, error) {
	unindexed, openidIndex, err := searchState(ctx, tx, accountID)
	if err != nil {
		return "", err
	}
	q, args := recordQuery(accountID, RecordFilter{Text: text}, 0, false, inboxSearchRecords, "r.openid", unindexed, openidIndex)
	ids, err := queryAll(ctx, tx, func(row interface{ Scan(...any) error }) (string, error) {
		var s string
		return s, row.Scan(&s)
	}, q, args...)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(slices.Compact(slices.Sorted(slices.Values(ids))))
	return string(b), err
}

// inboxSummarySQL builds account ?1's inbox_conversations from its records in two
// passes over them (grouping per customer, then counting against what the first
// found; correlated subqueries per customer would each walk the table). Unread, as
// the operator of a new archive would expect: the customer's messages after the
// last KF message, if written after ?2 (a records id: 48 hours ago; older ones can
// no longer be answered). migrations/0008_inbox.sql does the same for the archives
// before it, all read.
const inboxSummarySQL = `WITH c AS MATERIALIZED (
	SELECT openid, max(id) AS last_id, max(CASE WHEN opercode IN (2001, 2003) THEN id END) AS customer_id,
		max(CASE WHEN opercode = 2002 THEN id END) AS kf_id, max(CASE WHEN worker <> '' THEN id END) AS worker_id
	FROM records WHERE account_id = ?1 AND openid <> '' GROUP BY openid
), n AS MATERIALIZED (
	SELECT r.openid, sum(r.opercode = 2002 AND r.id > coalesce(c.customer_id, 0)) AS replies,
		sum(r.opercode IN (2001, 2003) AND r.id > max(coalesce(c.kf_id, 0), ?2)) AS unread
	FROM records r JOIN c ON c.openid = r.openid WHERE r.account_id = ?1 GROUP BY r.openid
)
INSERT INTO inbox_conversations(account_id, openid, last_id, last_opercode, last_text, kf, customer_id, replies, read_id, unread)
SELECT ?1, c.openid, c.last_id, l.opercode, l.text, coalesce(w.worker, ''), coalesce(c.customer_id, 0), n.replies, c.last_id, n.unread
FROM c JOIN n ON n.openid = c.openid JOIN records l ON l.id = c.last_id LEFT JOIN records w ON w.id = c.worker_id
WHERE true ON CONFLICT(account_id, openid) DO NOTHING`

// summariseInbox builds the account's conversation summary at the end of a first
// sync, which the insert trigger skipped (per record it costs about as much again
// as the insert: docs/BENCHMARKS.md).
func summariseInbox(ctx context.Context, tx *sql.Tx, accountID int64) error {
	_, err := tx.ExecContext(ctx, inboxSummarySQL, accountID, idOfTime(clock.Now().Add(-api.ReplyWindow).Unix()))
	return err
}

// CustomerWindows is CustomerWindow for many customers at once (the inbox list):
// three queries in one snapshot, not three per customer.
func (db *DB) CustomerWindows(ctx context.Context, accountID int64, openids []string) (map[string]PushWindow, error) {
	out := make(map[string]PushWindow, len(openids))
	if len(openids) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(openids)
	if err != nil {
		return nil, err
	}
	events, err := json.Marshal(windowEvents)
	if err != nil {
		return nil, err
	}
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		// msg_type in each condition: the dedup keys' partial indexes serve these.
		rows, err := tx.QueryContext(ctx, `SELECT o.value,
			(SELECT max(create_time) FROM pushes WHERE account_id = ?1 AND openid = o.value AND msg_type <> 'event' AND menu_id = ''),
			(SELECT max(create_time) FROM pushes WHERE account_id = ?1 AND openid = o.value AND msg_type <> 'event' AND menu_id <> ''),
			(SELECT json_array(create_time, event) FROM pushes WHERE account_id = ?1 AND openid = o.value AND msg_type = 'event'
				AND event IN (SELECT value FROM json_each(?3)) ORDER BY create_time DESC, id DESC LIMIT 1)
			FROM json_each(?2) o`, accountID, string(ids), string(events))
		if err != nil {
			return err
		}
		defer rows.Close()
		type since struct {
			OpenID string `json:"o"`
			Since  int64  `json:"s"` // unix ms
			Event  bool   `json:"e"`
		}
		var counts []since
		for rows.Next() {
			var openid string
			var msg, tap sql.NullInt64
			var ev sql.NullString
			if err := rows.Scan(&openid, &msg, &tap, &ev); err != nil {
				return err
			}
			var w PushWindow
			var evAt int64
			if ev.Valid {
				var pair [2]any
				if err := json.Unmarshal([]byte(ev.String), &pair); err != nil {
					return err
				}
				at, _ := pair[0].(float64)
				evAt, w.Event = int64(at), fmt.Sprint(pair[1])
			}
			if tap.Valid && (w.Event == "" || tap.Int64 > evAt) {
				evAt, w.Event = tap.Int64, EventMenuTap
			}
			if msg.Valid {
				w.LastMessage = time.Unix(msg.Int64, 0)
				counts = append(counts, since{openid, msg.Int64 * 1000, false})
			}
			if w.Event != "" {
				w.LastEvent = time.Unix(evAt, 0)
				counts = append(counts, since{openid, evAt * 1000, true})
			}
			out[openid] = w
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(counts) == 0 {
			return nil
		}
		// Sends count from the second of the CreateTime on; refused ones do not count (CustomerWindow).
		js, err := json.Marshal(counts)
		if err != nil {
			return err
		}
		crows, err := tx.QueryContext(ctx, `SELECT c.value->>'o', c.value->>'e', (SELECT count(*) FROM send_log WHERE account_id = ?1
			AND touser = c.value->>'o' AND sent_at >= c.value->>'s' AND status <> 'failed') FROM json_each(?2) c`, accountID, string(js))
		if err != nil {
			return err
		}
		defer crows.Close()
		for crows.Next() {
			var openid string
			var event bool
			var n int
			if err := crows.Scan(&openid, &event, &n); err != nil {
				return err
			}
			w := out[openid]
			if event {
				w.SendsSinceEvent = n
			} else {
				w.SendsSinceMessage = n
			}
			out[openid] = w
		}
		return crows.Err()
	})
	return out, err
}

// ScrubTokenURL sets the account's token URL and overwrites what it replaced (a
// desktop key once sat in it, issue 12 §3): secure_delete zeroes the old bytes in
// the page, and a TRUNCATE checkpoint empties the WAL that still held earlier
// versions of the page.
func (db *DB) ScrubTokenURL(ctx context.Context, accountID int64, tokenURL string) error {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `UPDATE accounts SET token_url = ? WHERE id = ?`, tokenURL, accountID)
	if _, perr := conn.ExecContext(ctx, `PRAGMA secure_delete = OFF`); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
