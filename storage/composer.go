package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"kfdesk/api/clock"
)

// SyncedFollowers is the cached follower list of an account.
type SyncedFollowers struct {
	OpenIDs  []string // in follow order
	Total    int      // as user/get reported
	SyncedAt time.Time
}

// ReplaceFollowers stores a complete follower list, replacing the cached one in one
// transaction (an interrupted sync leaves the previous list).
func (db *DB) ReplaceFollowers(ctx context.Context, accountID int64, openids []string, total int, at time.Time) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM followers WHERE account_id=?", accountID); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO followers(account_id, openid, position) VALUES (?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		for i, id := range openids {
			if _, err := st.ExecContext(ctx, accountID, id, i); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO follower_syncs(account_id, total, synced_at) VALUES (?, ?, ?)
			ON CONFLICT(account_id) DO UPDATE SET total=excluded.total, synced_at=excluded.synced_at`,
			accountID, total, at.Unix())
		return err
	})
}

// Followers returns the cached follower list (empty, zero SyncedAt, if never synced).
func (db *DB) Followers(ctx context.Context, accountID int64) (SyncedFollowers, error) {
	var f SyncedFollowers
	var at int64
	err := db.r.QueryRowContext(ctx, "SELECT total, synced_at FROM follower_syncs WHERE account_id=?", accountID).Scan(&f.Total, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	f.SyncedAt = time.Unix(at, 0)
	rows, err := db.r.QueryContext(ctx, "SELECT openid FROM followers WHERE account_id=? ORDER BY position", accountID)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return f, err
		}
		f.OpenIDs = append(f.OpenIDs, id)
	}
	return f, rows.Err()
}

// MaxNoteRunes bounds a customer note.
const MaxNoteRunes = 200

// SetNote saves the operator's note on a customer; an empty note deletes it.
func (db *DB) SetNote(ctx context.Context, accountID int64, openid, note string) error {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxNoteRunes {
		return invalid("note", "备注最多 200 个字。", "A note has at most 200 characters.")
	}
	if note == "" {
		_, err := db.w.ExecContext(ctx, "DELETE FROM customer_notes WHERE account_id=? AND openid=?", accountID, openid)
		return err
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO customer_notes(account_id, openid, note, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(account_id, openid) DO UPDATE SET note=excluded.note, updated_at=excluded.updated_at`,
		accountID, openid, note, clock.Now().Unix())
	return err
}

// Notes returns every note of an account by openid.
func (db *DB) Notes(ctx context.Context, accountID int64) (map[string]string, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT openid, note FROM customer_notes WHERE account_id=?", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	notes := map[string]string{}
	for rows.Next() {
		var id, note string
		if err := rows.Scan(&id, &note); err != nil {
			return nil, err
		}
		notes[id] = note
	}
	return notes, rows.Err()
}

// CachedMedia is an uploaded temporary media file.
type CachedMedia struct {
	Type, SHA256, MediaID, Filename string
	CreatedAt                       time.Time
}

// CachedMediaID returns the media_id of a file uploaded before as typ, if it was
// created after notBefore (callers pass now − 3 days + a safety margin).
func (db *DB) CachedMediaID(ctx context.Context, accountID int64, typ, sha string, notBefore time.Time) (string, bool, error) {
	var id string
	err := db.r.QueryRowContext(ctx, `SELECT media_id FROM media_cache
		WHERE account_id=? AND type=? AND sha256=? AND created_at > ?`, accountID, typ, sha, notBefore.Unix()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return id, err == nil, err
}

// MediaByID finds the cached upload a media_id came from (for previews).
func (db *DB) MediaByID(ctx context.Context, accountID int64, mediaID string) (CachedMedia, bool, error) {
	var m CachedMedia
	var at int64
	err := db.r.QueryRowContext(ctx, `SELECT type, sha256, media_id, filename, created_at FROM media_cache
		WHERE account_id=? AND media_id=?`, accountID, mediaID).Scan(&m.Type, &m.SHA256, &m.MediaID, &m.Filename, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	m.CreatedAt = time.Unix(at, 0)
	return m, err == nil, err
}

// SaveMedia remembers an upload, replacing an older upload of the same content.
func (db *DB) SaveMedia(ctx context.Context, accountID int64, m CachedMedia) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO media_cache(account_id, type, sha256, media_id, filename, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account_id, type, sha256) DO UPDATE SET
		media_id=excluded.media_id, filename=excluded.filename, created_at=excluded.created_at`,
		accountID, m.Type, m.SHA256, m.MediaID, m.Filename, m.CreatedAt.Unix())
	return err
}

// SaveDraft keeps the composer's state as typed (one draft per account).
func (db *DB) SaveDraft(ctx context.Context, accountID int64, body string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO drafts(account_id, body, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(account_id) DO UPDATE SET body=excluded.body, updated_at=excluded.updated_at`,
		accountID, body, clock.Now().Unix())
	return err
}

// Draft returns the saved draft ("" when none).
func (db *DB) Draft(ctx context.Context, accountID int64) (string, error) {
	var body string
	err := db.r.QueryRowContext(ctx, "SELECT body FROM drafts WHERE account_id=?", accountID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return body, err
}

// ClearDraft forgets the draft (after a successful send).
func (db *DB) ClearDraft(ctx context.Context, accountID int64) error {
	_, err := db.w.ExecContext(ctx, "DELETE FROM drafts WHERE account_id=?", accountID)
	return err
}

// Template is a saved, named message the operator reuses.
type Template struct {
	Name      string
	Body      string
	UpdatedAt time.Time
}

// SaveTemplate stores (or overwrites) a named template.
func (db *DB) SaveTemplate(ctx context.Context, accountID int64, name, body string) error {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return invalid("template", "请填写模板名称。", "Enter a name for the template.")
	case utf8.RuneCountInString(name) > 40:
		return invalid("template", "模板名称最多 40 个字。", "A template name has at most 40 characters.")
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO templates(account_id, name, body, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(account_id, name) DO UPDATE SET body=excluded.body, updated_at=excluded.updated_at`,
		accountID, name, body, clock.Now().Unix())
	return err
}

// Templates lists an account's templates by name.
func (db *DB) Templates(ctx context.Context, accountID int64) ([]Template, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT name, body, updated_at FROM templates WHERE account_id=? ORDER BY name", accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		var t Template
		var at int64
		if err := rows.Scan(&t.Name, &t.Body, &at); err != nil {
			return nil, err
		}
		t.UpdatedAt = time.Unix(at, 0)
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTemplate removes a template.
func (db *DB) DeleteTemplate(ctx context.Context, accountID int64, name string) error {
	_, err := db.w.ExecContext(ctx, "DELETE FROM templates WHERE account_id=? AND name=?", accountID, name)
	return err
}

// Send outcomes in the log.
const (
	SendOK      = "sent"
	SendFailed  = "failed"  // WeChat refused it (errcode)
	SendUnknown = "unknown" // no clear answer: it may have arrived
)

// SendLogEntry is one send attempt.
type SendLogEntry struct {
	ID        int64
	Time      time.Time
	ToUser    string
	KFAccount string
	MsgType   string
	Body      string // the exact JSON posted
	Status    string
	ErrCode   *int // nil without an answer
	Error     string
}

// LogSend records a send attempt and returns its id.
func (db *DB) LogSend(ctx context.Context, accountID int64, e SendLogEntry) (int64, error) {
	return insertSendLog(ctx, db.w, accountID, e)
}

// insertSendLog is LogSend on w, which may be a transaction that records more
// (FinishEffect writes the entry with the effect it completes).
func insertSendLog(ctx context.Context, w interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, accountID int64, e SendLogEntry) (int64, error) {
	res, err := w.ExecContext(ctx, `INSERT INTO send_log(account_id, sent_at, touser, kf_account, msgtype, body, status, errcode, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, accountID, e.Time.UnixMilli(), e.ToUser, e.KFAccount, e.MsgType, e.Body,
		e.Status, e.ErrCode, e.Error)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// SendLog returns up to limit entries older than beforeID (0 = newest), newest first.
func (db *DB) SendLog(ctx context.Context, accountID int64, beforeID int64, limit int) ([]SendLogEntry, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, sent_at, touser, kf_account, msgtype, body, status, errcode, error
		FROM send_log WHERE account_id=? AND id<? ORDER BY id DESC LIMIT ?`, accountID, beforeID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SendLogEntry
	for rows.Next() {
		var e SendLogEntry
		var ms int64
		var code sql.NullInt64
		if err := rows.Scan(&e.ID, &ms, &e.ToUser, &e.KFAccount, &e.MsgType, &e.Body, &e.Status, &code, &e.Error); err != nil {
			return nil, err
		}
		e.Time = time.UnixMilli(ms)
		if code.Valid {
			c := int(code.Int64)
			e.ErrCode = &c
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
