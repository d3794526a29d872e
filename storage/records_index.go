package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// The search indexes of a first sync are built once at the end instead of page by
// page (record_index_pending in migrations/0006): updating FTS5 with every page
// costs several times more than one pass over the finished table.

// openidIndexDDL is records_openid of migrations/0004. Inserting into it is the
// dearest part of storing a record (its keys land at random places, unlike the
// other indexes'), so a sync into an empty archive drops it and creates it again
// at the end in one sorted pass. Queries work without it (see useOpenIDIndex).
const openidIndexDDL = `CREATE INDEX IF NOT EXISTS records_openid ON records(account_id, openid, opercode)`

// deferIndexIfEmpty marks the account's index as pending when the account has no
// records yet (or already is pending), and drops records_openid when the whole
// archive is empty. It reports whether the index is pending.
func (db *DB) deferIndexIfEmpty(ctx context.Context, accountID int64, now time.Time) (bool, error) {
	pending := false
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		// Checked and written under the write lock: no page can be stored in between.
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO record_index_pending(account_id, since)
			SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM records WHERE account_id = ?)`, accountID, now.Unix(), accountID)
		if err != nil {
			return err
		}
		var empty bool
		if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM records)`).Scan(&empty); err != nil {
			return err
		}
		if empty {
			if _, err := tx.ExecContext(ctx, `DROP INDEX IF EXISTS records_openid`); err != nil {
				return err
			}
		}
		pending, err = indexPending(ctx, tx, accountID)
		return err
	})
	return pending, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// indexPending: none of the account's records is in the search indexes yet.
func indexPending(ctx context.Context, q querier, accountID int64) (bool, error) {
	var pending bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM record_index_pending WHERE account_id = ?)`, accountID).Scan(&pending)
	return pending, err
}

// searchState is what a search needs to know besides the filter: whether the
// account's text indexes are pending and whether records_openid exists. Read it
// in the search's own read transaction, so both describe the snapshot searched.
func searchState(ctx context.Context, q querier, accountID int64) (unindexed, openidIndex bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM record_index_pending WHERE account_id = ?),
		EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'records_openid')`, accountID).Scan(&unindexed, &openidIndex)
	return unindexed, openidIndex, err
}

// RecordsIndexing tells whether the account's search index is still to be built
// (a first sync is running or was interrupted). Search stays correct meanwhile
// but scans the records, so a UI may say "indexing".
func (db *DB) RecordsIndexing(ctx context.Context, accountID int64) (bool, error) {
	return indexPending(ctx, db.r, accountID)
}

// indexChunk is how many records go into the indexes per statement while building.
const indexChunk = 20000

// buildPendingIndex indexes all records of an account whose index is pending, in
// one transaction (an interruption leaves it pending and the next sync starts over),
// calling progress(done, total) after each chunk. Nothing to do if not pending.
// records_openid is created first if a sync into an empty archive dropped it.
func (db *DB) buildPendingIndex(ctx context.Context, accountID int64, progress func(done, total int)) error {
	if err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, openidIndexDDL)
		return err
	}); err != nil {
		return err
	}
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		if pending, err := indexPending(ctx, tx, accountID); err != nil || !pending {
			return err
		}
		var total int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE account_id = ?`, accountID).Scan(&total); err != nil {
			return err
		}
		progress(0, total)
		// A reader computes the next chunk's grams (Go) while this one goes into
		// the indexes (SQLite): the two cores overlap. It sees what this
		// transaction sees, since nothing else can write while it is open.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		chunks := db.gramsChunks(cctx, accountID)
		done, after := 0, int64(-1)
		for done < total {
			var c gramsChunk
			select {
			case c = <-chunks:
			case <-ctx.Done():
				return ctx.Err()
			}
			if c.err != nil {
				return c.err
			}
			if c.n == 0 { // cannot happen under the write lock; never mark a partial index done
				return fmt.Errorf("building the search index: only %d of %d records found", done, total)
			}
			// rowid order: FTS5 appends to its doclists.
			if _, err := tx.ExecContext(ctx, `INSERT INTO records_fts(rowid, text)
				SELECT id, text FROM records WHERE account_id = ? AND id > ? AND id <= ? AND text <> '' ORDER BY id`,
				accountID, after, c.last); err != nil {
				return err
			}
			if c.grams != "" {
				if _, err := tx.ExecContext(ctx, insertGramsSQL, c.grams); err != nil {
					return err
				}
			}
			done += c.n
			after = c.last
			progress(done, total)
		}
		if err := summariseInbox(ctx, tx, accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM record_index_pending WHERE account_id = ?`, accountID)
		return err
	})
}

// gramRow is a record's id and its records_grams text.
type gramRow struct {
	ID    int64  `json:"i"`
	Grams string `json:"g"`
}

// gramsChunk is indexChunk records in id order: how many, the last id, and the
// records_grams rows of those with letters or digits as JSON (empty if none).
type gramsChunk struct {
	n     int
	last  int64
	grams string
	err   error
}

// gramsChunks reads an account's records in chunks from the reader pool, one chunk
// ahead of the consumer, until a chunk comes back empty or ctx ends.
func (db *DB) gramsChunks(ctx context.Context, accountID int64) <-chan gramsChunk {
	out := make(chan gramsChunk, 1)
	go func() {
		after := int64(-1)
		for {
			c := db.readGramsChunk(ctx, accountID, after)
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
			if c.err != nil || c.n == 0 {
				return
			}
			after = c.last
		}
	}()
	return out
}

func (db *DB) readGramsChunk(ctx context.Context, accountID, after int64) gramsChunk {
	rows, err := db.r.QueryContext(ctx, `SELECT id, text FROM records WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?`,
		accountID, after, indexChunk)
	if err != nil {
		return gramsChunk{err: err}
	}
	defer rows.Close()
	c := gramsChunk{last: after}
	var out []gramRow
	for rows.Next() {
		var text string
		if err := rows.Scan(&c.last, &text); err != nil {
			return gramsChunk{err: err}
		}
		c.n++
		if g := grams(text); g != "" {
			out = append(out, gramRow{c.last, g})
		}
	}
	if err := rows.Err(); err != nil {
		return gramsChunk{err: err}
	}
	if len(out) > 0 {
		js, err := json.Marshal(out)
		if err != nil {
			return gramsChunk{err: err}
		}
		c.grams = string(js)
	}
	return c
}

// insertGrams adds rows to records_grams in one statement.
func insertGrams(ctx context.Context, tx *sql.Tx, rows []gramRow) error {
	if len(rows) == 0 {
		return nil
	}
	js, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, insertGramsSQL, string(js))
	return err
}

const insertGramsSQL = `INSERT INTO records_grams(rowid, grams) SELECT j.value->>'i', j.value->>'g' FROM json_each(?) j`
