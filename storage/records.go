package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"kfdesk/api"
)

// Beijing is the time zone WeChat's days are counted in (UTC+8, no DST).
var Beijing = time.FixedZone("CST", 8*3600)

// BeijingDay is 00:00 Beijing time of the day t falls on.
func BeijingDay(t time.Time) time.Time {
	t = t.In(Beijing)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Beijing)
}

// ParseDay reads a YYYY-MM-DD date as a Beijing day.
func ParseDay(s string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), Beijing)
	if err != nil {
		return time.Time{}, &ValidationError{Field: "date", Chinese: fmt.Sprintf("日期 %q 无效，请用 YYYY-MM-DD 格式，例如 2026-11-23。", s),
			English: fmt.Sprintf("Invalid date %q: use YYYY-MM-DD, e.g. 2026-11-23.", s)}
	}
	return d, nil
}

func dayKey(day time.Time) string { return day.In(Beijing).Format("2006-01-02") }

// Record is one archived chat record.
type Record struct {
	ID        int64 // local id; ordering by ID is ordering by time
	AccountID int64
	Time      time.Time
	OpenID    string
	OperCode  int
	Worker    string
	Text      string
}

// Direction is the record's readable direction (customer in, KF out, session event).
func (r Record) Direction() api.Direction { return api.OperCodeDirection(r.OperCode) }

// idShift: ids are time<<idShift | n, n < 2^idShift counts records within one second.
const idShift = 20

func idOfTime(unix int64) int64 { return unix << idShift }

// recordKey hashes a record's content. With the occurrence number within its day
// window it is the record's identity (getmsglist records have no id).
func recordKey(r api.Record) []byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(r.Time))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(int64(r.OperCode)))
	h.Write(b[:])
	for _, s := range []string{r.OpenID, r.Worker, r.Text} {
		binary.BigEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	return h.Sum(nil)[:16]
}

// grams is what records_grams indexes: every letter or digit and every pair of
// adjacent ones, lower-cased, space separated. A 1 or 2 character query is then
// one token lookup. Other characters separate, so such queries take the scan path.
func grams(text string) string {
	var b strings.Builder
	var prev rune = -1
	for _, r := range strings.ToLower(text) {
		if !isGramRune(r) {
			prev = -1
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		if prev >= 0 {
			b.WriteByte(' ')
			b.WriteRune(prev)
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// isGramRune: letters and digits; ASCII punctuation would split the ascii tokenizer's tokens.
func isGramRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// pendingRecord is a fetched record with its identity, ready to store.
type pendingRecord struct {
	api.Record
	key []byte
	occ int
	n   int64 // wanted sub-second position (its place among the window's records of that second)
}

// storePage writes one page of a day in one transaction: the records (skipping
// those already stored), both search indexes and, on the day's last page, the
// day's state. It returns how many records were new.
func (db *DB) storePage(ctx context.Context, accountID int64, day time.Time, recs []pendingRecord, last, complete bool, dayTotal int, at time.Time) (int, error) {
	added := 0
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO records(id, account_id, time, openid, opercode, worker, text, rkey, occ)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		exists, err := tx.PrepareContext(ctx, `SELECT 1 FROM records WHERE account_id = ? AND time = ? AND rkey = ? AND occ = ?`)
		if err != nil {
			return err
		}
		defer exists.Close()
		// A first sync builds the indexes at the end (records_index.go).
		deferred, err := indexPending(ctx, tx, accountID)
		if err != nil {
			return err
		}
		unconfirmed, err := hasUnconfirmedPushes(ctx, tx, accountID)
		if err != nil {
			return err
		}
		var fresh []gramRow
		talked := map[string]bool{} // customers with new messages: their exchanges change (suggest.go)
		for _, r := range recs {
			if unconfirmed && api.OperCodeDirection(r.OperCode) == api.DirIn {
				// The no-double rule (inbox.go): a record not stored yet may be a pushed message's.
				var one int
				switch err := exists.QueryRowContext(ctx, accountID, r.Time, r.key, r.occ).Scan(&one); {
				case err == nil:
					continue
				case !errors.Is(err, sql.ErrNoRows):
					return err
				}
				if claimed, err := claimPushRecord(ctx, tx, accountID, r); err != nil || claimed {
					if err != nil {
						return err
					}
					continue
				}
			}
			id := idOfTime(r.Time) | (r.n & (1<<idShift - 1))
			for {
				res, err := ins.ExecContext(ctx, id, accountID, r.Time, r.OpenID, r.OperCode, r.Worker, r.Text, r.key, r.occ)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					added++
					if d := api.OperCodeDirection(r.OperCode); r.OpenID != "" && (d == api.DirIn || d == api.DirOut) {
						talked[r.OpenID] = true
					}
					if !deferred {
						fresh = append(fresh, gramRow{id, grams(r.Text)})
					}
					break
				}
				var one int
				switch err := exists.QueryRowContext(ctx, accountID, r.Time, r.key, r.occ).Scan(&one); {
				case err == nil: // stored by an earlier sync
				case errors.Is(err, sql.ErrNoRows): // the id is taken by another record of that second
					id = idOfTime(r.Time) | ((id + 1) & (1<<idShift - 1))
					continue
				default:
					return err
				}
				break
			}
		}
		if len(fresh) > 0 {
			// One statement per page and index: far cheaper than one per record.
			ids, _ := json.Marshal(fresh)
			if _, err := tx.ExecContext(ctx, `INSERT INTO records_fts(rowid, text)
				SELECT r.id, r.text FROM json_each(?) j JOIN records r ON r.id = j.value->>'i' WHERE r.text <> ''`, string(ids)); err != nil {
				return err
			}
			var nonEmpty []gramRow
			for _, f := range fresh {
				if f.Grams != "" {
					nonEmpty = append(nonEmpty, f)
				}
			}
			if err := insertGrams(ctx, tx, nonEmpty); err != nil {
				return err
			}
		}
		if err := markSuggestDirty(ctx, tx, accountID, talked); err != nil {
			return err
		}
		if !last {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO record_days(account_id, day, complete, records, synced_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(account_id, day) DO UPDATE SET complete = max(complete, excluded.complete), records = excluded.records, synced_at = excluded.synced_at`,
			accountID, dayKey(day), complete, dayTotal, at.Unix())
		return err
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// LastCompleteDay is the latest Beijing day whose records are all stored (ok false if none).
func (db *DB) LastCompleteDay(ctx context.Context, accountID int64) (day time.Time, ok bool, err error) {
	var s sql.NullString
	if err := db.r.QueryRowContext(ctx, `SELECT max(day) FROM record_days WHERE account_id = ? AND complete`, accountID).Scan(&s); err != nil {
		return time.Time{}, false, err
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	d, err := ParseDay(s.String)
	return d, err == nil, err
}

// completeDays returns the set of complete days (YYYY-MM-DD) of an account.
func (db *DB) completeDays(ctx context.Context, accountID int64) (map[string]bool, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT day FROM record_days WHERE account_id = ? AND complete`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out[d] = true
	}
	return out, rows.Err()
}

// RecordCount is the number of archived records of an account.
func (db *DB) RecordCount(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE account_id = ?`, accountID).Scan(&n)
	return n, err
}
