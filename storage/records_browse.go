package storage

import (
	"context"
	"database/sql"
	"time"

	"kfdesk/api"
)

// What the chat-record browser needs beyond search pages: random access into a
// result list (the scrollbar can be dragged anywhere), one customer's reply
// window, and when the archive was last synced.

// SearchRecordsAt returns up to limit records matching f starting at row offset
// of the newest-first result list. It walks offset rows of the index, so use it
// to jump; scrolling on from a loaded page is cheaper with SearchRecords and its cursor.
func (db *DB) SearchRecordsAt(ctx context.Context, accountID int64, f RecordFilter, offset, limit int) (RecordPage, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	if offset <= 0 {
		return db.SearchRecords(ctx, accountID, f, 0, limit)
	}
	// Find the id just before the wanted row with the cheap id-only query, then page on by cursor.
	var prev int64
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		unindexed, openidIndex, err := searchState(ctx, tx, accountID)
		if err != nil {
			return err
		}
		q, args := recordQuery(accountID, f, 0, false, 0, "r.id", unindexed, openidIndex)
		return tx.QueryRowContext(ctx, q+" LIMIT 1 OFFSET ?", append(args, offset-1)...).Scan(&prev)
	})
	if err == sql.ErrNoRows {
		return RecordPage{}, nil
	}
	if err != nil {
		return RecordPage{}, err
	}
	return db.SearchRecords(ctx, accountID, f, RecordCursor(prev), limit)
}

// CustomerState is one customer's standing with the account: the last message
// from them and the KF replies since (the 48-hour reply window).
func (db *DB) CustomerState(ctx context.Context, accountID int64, openid string) (Customer, error) {
	c := Customer{OpenID: openid}
	var last sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT max(time) FROM records WHERE account_id = ? AND openid = ?`,
		accountID, openid).Scan(&last); err != nil {
		return c, err
	}
	if last.Valid {
		c.LastActivity = time.Unix(last.Int64, 0)
	}
	return c, db.replyWindow(ctx, accountID, &c)
}

// replyWindow fills LastMessage and RepliesSince.
func (db *DB) replyWindow(ctx context.Context, accountID int64, c *Customer) error {
	var lastID sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT max(id) FROM records WHERE account_id = ? AND openid = ? AND opercode IN (2001, 2003)`,
		accountID, c.OpenID).Scan(&lastID); err != nil {
		return err
	}
	if lastID.Valid {
		c.LastMessage = time.Unix(lastID.Int64>>idShift, 0)
	}
	return db.r.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE account_id = ? AND openid = ? AND opercode = 2002 AND id > ?`,
		accountID, c.OpenID, lastID.Int64).Scan(&c.RepliesSince)
}

// Reply is the customer's reply window at now, going by the archive (api.ReplyWindowAt).
func (c Customer) Reply(now time.Time) api.ReplyStatus {
	return api.ReplyWindowAt(c.LastMessage, c.RepliesSince, now)
}

// LastRecordSync is when a sync last stored a day of the account's records (ok false if never).
func (db *DB) LastRecordSync(ctx context.Context, accountID int64) (at time.Time, ok bool, err error) {
	var s sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT max(synced_at) FROM record_days WHERE account_id = ?`, accountID).Scan(&s); err != nil {
		return time.Time{}, false, err
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(s.Int64, 0), true, nil
}
