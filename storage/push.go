package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// What kfdesk serve receives (issue 11 §3): every message and event WeChat pushes,
// stored in one transaction with the jobs it leaves for later, before WeChat gets
// its answer. Push is storage's own plain shape; the server maps the decoded push
// onto it. Field names follow the documented push fields:
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/receive.html

// MsgTypeEvent is the MsgType of every event push.
const MsgTypeEvent = "event"

// Body formats of a push.
const (
	FormatXML  = "xml"
	FormatJSON = "json"
)

// Push is one pushed message or event.
type Push struct {
	ID         int64     // set when stored; ids only grow, in arrival order
	AccountID  int64     // set when read
	ReceivedAt time.Time // set by StorePush (clock.Now)
	CreateTime time.Time // CreateTime (WeChat's clock, whole seconds)
	ToUser     string    // ToUserName
	OpenID     string    // FromUserName
	MsgType    string    // text, image, voice, video, shortvideo, location, link, miniprogrampage, event
	Event      string    // events: subscribe, unsubscribe, SCAN, CLICK, VIEW, kf_create_session, user_enter_tempsession, …
	EventKey   string
	MsgID      string // MsgId as sent (a string: JSON numbers exceed 2^53)

	Content      string // text (a menu tap: the option's text)
	MenuID       string // bizmsgmenuid of a menu tap (may be "0", see MenuChoice)
	MediaID      string // image, voice, video, shortvideo
	ThumbMediaID string // video, shortvideo, miniprogrampage
	PicURL       string // image
	Format       string // voice format
	Recognition  string // voice recognised as text (OA, when switched on)
	Location     *Location
	Title        string // link, miniprogrampage
	Description  string // link
	URL          string // link
	// Extra holds the other documented fields by their push name: miniprogrampage
	// AppId, PagePath, ThumbUrl; Ticket; KfAccount, FromKfAccount, ToKfAccount;
	// SessionFrom; LOCATION Latitude/Longitude/Precision; …
	Extra map[string]string

	Raw        []byte // the decrypted body, exactly as received
	BodyFormat string // FormatXML or FormatJSON

	MediaPath string // the downloaded media file ("" until SetPushMedia)
	MediaSize int64
}

// Location is a location message's Location_X, Location_Y, Scale and Label.
type Location struct {
	X, Y  float64
	Scale int
	Label string
}

// IsEvent tells an event from a message.
func (p Push) IsEvent() bool { return p.MsgType == MsgTypeEvent }

// JobKind names a background job a push queues (the server defines its kinds).
type JobKind string

// Bounds of what a push may carry, far above what WeChat sends: a push beyond
// them is not WeChat's.
const (
	maxPushRaw   = 1 << 20
	maxPushField = 64 << 10
)

func validatePush(p *Push, jobs []JobKind) error {
	switch {
	case p.OpenID == "":
		return invalid("openid", "推送缺少发送者（FromUserName）。", "The push has no sender (FromUserName).")
	case p.MsgType == "":
		return invalid("msgtype", "推送缺少消息类型（MsgType）。", "The push has no MsgType.")
	case p.IsEvent() && p.Event == "":
		return invalid("event", "事件推送缺少事件类型（Event）。", "The event push has no Event.")
	case p.CreateTime.IsZero() || p.CreateTime.Unix() <= 0:
		return invalid("create_time", "推送缺少时间（CreateTime）。", "The push has no CreateTime.")
	case p.BodyFormat != FormatXML && p.BodyFormat != FormatJSON:
		return invalid("body_format", "推送格式应为 XML 或 JSON。", "The push body is XML or JSON.")
	case len(p.Raw) == 0:
		return invalid("raw", "推送内容为空。", "The push body is empty.")
	case len(p.Raw) > maxPushRaw:
		return invalid("raw", "推送内容超过 1 MB。", "The push body is over 1 MB.")
	}
	for _, s := range []string{p.ToUser, p.OpenID, p.MsgType, p.Event, p.EventKey, p.MsgID, p.Content, p.MenuID, p.MediaID,
		p.ThumbMediaID, p.PicURL, p.Format, p.Recognition, p.Title, p.Description, p.URL} {
		if len(s) > maxPushField || !utf8.ValidString(s) {
			return invalid("push", "推送中有字段过长或不是 UTF-8 文本。", "A field of the push is too long or not UTF-8 text.")
		}
	}
	for _, k := range jobs {
		if k == "" || len(k) > 32 {
			return invalid("job", "任务类型应为 1–32 个字符。", "A job kind has 1–32 characters.")
		}
	}
	return nil
}

// msgKey is a message's part of its dedup key: the MsgId, or for a message
// without one a hash of its body (WeChat's retries carry the same decrypted body).
func msgKey(p Push) string {
	switch {
	case p.IsEvent():
		return ""
	case p.MsgID != "":
		return p.MsgID
	}
	h := sha256.Sum256(p.Raw)
	return "#" + hex.EncodeToString(h[:16])
}

// StorePush stores a push and queues its jobs (each kind once) in one transaction.
// A push already stored (WeChat's retry) stores and queues nothing: it returns the
// first copy's id and duplicate true. Messages are the same push when account,
// sender, CreateTime and MsgId are; events when account, sender, CreateTime,
// Event and EventKey are (MsgId alone collides across senders). Jobs are due at once.
func (db *DB) StorePush(ctx context.Context, accountID int64, p Push, jobs ...JobKind) (id int64, duplicate bool, err error) {
	if err := validatePush(&p, jobs); err != nil {
		return 0, false, err
	}
	extra := "{}"
	if len(p.Extra) > 0 {
		b, err := json.Marshal(p.Extra)
		if err != nil {
			return 0, false, err
		}
		extra = string(b)
	}
	var lx, ly, scale, label any
	if l := p.Location; l != nil {
		lx, ly, scale, label = l.X, l.Y, l.Scale, l.Label
	}
	now := clock.Now().UnixMilli()
	key := msgKey(p)
	err = db.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO pushes(account_id, received_at, create_time, to_user, openid, msg_type,
			event, event_key, msg_id, msg_key, content, menu_id, media_id, thumb_media_id, pic_url, format, recognition,
			location_x, location_y, scale, label, title, description, url, extra, raw, body_format)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`,
			accountID, now, p.CreateTime.Unix(), p.ToUser, p.OpenID, p.MsgType,
			p.Event, p.EventKey, p.MsgID, key, p.Content, p.MenuID, p.MediaID, p.ThumbMediaID, p.PicURL, p.Format, p.Recognition,
			lx, ly, scale, label, p.Title, p.Description, p.URL, extra, p.Raw, p.BodyFormat)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			duplicate = true
			q := `SELECT id FROM pushes WHERE account_id = ? AND openid = ? AND create_time = ? AND msg_key = ? AND msg_type <> 'event'`
			args := []any{accountID, p.OpenID, p.CreateTime.Unix(), key}
			if p.IsEvent() {
				q = `SELECT id FROM pushes WHERE account_id = ? AND openid = ? AND create_time = ? AND event = ? AND event_key = ? AND msg_type = 'event'`
				args = []any{accountID, p.OpenID, p.CreateTime.Unix(), p.Event, p.EventKey}
			}
			return tx.QueryRowContext(ctx, q, args...).Scan(&id)
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return queueJobs(ctx, tx, id, now, jobs)
	})
	if isForeignKey(err) {
		return 0, false, api.Describe(ErrNotFound, fmt.Sprintf("没有编号为 %d 的账号。", accountID), fmt.Sprintf("There is no account %d.", accountID))
	}
	if err != nil {
		return 0, false, err
	}
	return id, duplicate, nil
}

func isForeignKey(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}

const pushCols = `id, account_id, received_at, create_time, to_user, openid, msg_type, event, event_key, msg_id, content, menu_id,
	media_id, thumb_media_id, pic_url, format, recognition, location_x, location_y, scale, label, title, description, url,
	extra, raw, body_format, media_path, media_size`

func scanPush(row interface{ Scan(...any) error }) (Push, error) {
	var p Push
	var received, created int64
	var lx, ly sql.NullFloat64
	var scale sql.NullInt64
	var label sql.NullString
	var extra string
	err := row.Scan(&p.ID, &p.AccountID, &received, &created, &p.ToUser, &p.OpenID, &p.MsgType, &p.Event, &p.EventKey, &p.MsgID,
		&p.Content, &p.MenuID, &p.MediaID, &p.ThumbMediaID, &p.PicURL, &p.Format, &p.Recognition, &lx, &ly, &scale, &label,
		&p.Title, &p.Description, &p.URL, &extra, &p.Raw, &p.BodyFormat, &p.MediaPath, &p.MediaSize)
	if err != nil {
		return p, err
	}
	p.ReceivedAt, p.CreateTime = time.UnixMilli(received), time.Unix(created, 0)
	if lx.Valid {
		p.Location = &Location{X: lx.Float64, Y: ly.Float64, Scale: int(scale.Int64), Label: label.String}
	}
	if extra != "{}" {
		if err := json.Unmarshal([]byte(extra), &p.Extra); err != nil {
			return p, fmt.Errorf("push %d: extra fields: %w", p.ID, err)
		}
	}
	return p, nil
}

// Push reads one stored push.
func (db *DB) Push(ctx context.Context, id int64) (Push, error) {
	p, err := scanPush(db.r.QueryRowContext(ctx, "SELECT "+pushCols+" FROM pushes WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, api.Describe(ErrNotFound, fmt.Sprintf("没有编号为 %d 的推送消息。", id), fmt.Sprintf("There is no push %d.", id))
	}
	return p, err
}

// PushesSince returns up to limit pushes stored after cursor (0 = from the first),
// oldest first; the last one's ID is the next cursor. accountID 0 reads every
// account. Ids are handed out under the write lock and never reused (AUTOINCREMENT),
// so a reader going from cursor to cursor sees every push once: none is committed
// later with a smaller id.
func (db *DB) PushesSince(ctx context.Context, accountID, cursor int64, limit int) ([]Push, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	q, args := "SELECT "+pushCols+" FROM pushes WHERE id > ? ORDER BY id LIMIT ?", []any{cursor, limit}
	if accountID != 0 {
		q, args = "SELECT "+pushCols+" FROM pushes WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?", []any{accountID, cursor, limit}
	}
	return queryAll(ctx, db.r, scanPush, q, args...)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PushCursorAt is the cursor before the first push received at or after t, for
// "inbox list --since" (0 when every push is that recent). accountID 0: any account.
func (db *DB) PushCursorAt(ctx context.Context, accountID int64, t time.Time) (int64, error) {
	var id sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT max(id) FROM pushes WHERE (? = 0 OR account_id = ?) AND received_at < ?`,
		accountID, accountID, t.UnixMilli()).Scan(&id)
	return id.Int64, err
}

// SetPushMedia records where a push's media was saved and its size in bytes.
func (db *DB) SetPushMedia(ctx context.Context, id int64, path string, size int64) error {
	res, err := db.w.ExecContext(ctx, `UPDATE pushes SET media_path = ?, media_size = ? WHERE id = ?`, path, size, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// MenuAnswer is the menu message a tap answers and the option tapped.
type MenuAnswer struct {
	SendID int64     // the msgmenu's row in the send log
	SentAt time.Time // when it was sent
	Option string    // the option's content, e.g. 满意
}

// MenuChoice finds the latest msgmenu sent to openid (send_log, not refused) that
// has an option with id menuID, so a tap reads "chose 满意 (101)". ok is false when
// none does, e.g. a menu sent by another system, or the bizmsgmenuid "0" some
// clients send: then the push's Content is the option's text.
func (db *DB) MenuChoice(ctx context.Context, accountID int64, openid, menuID string) (a MenuAnswer, ok bool, err error) {
	var ms int64
	// The CASE keeps json_each away from a body that is not JSON (it would fail the query).
	err = db.r.QueryRowContext(ctx, `SELECT s.id, s.sent_at, coalesce(o.value->>'content', '')
		FROM send_log s, json_each(CASE WHEN json_valid(s.body) THEN s.body ELSE '{}' END, '$.msgmenu.list') o
		WHERE s.account_id = ? AND s.touser = ? AND s.msgtype = 'msgmenu' AND s.status <> 'failed'
		AND CAST(o.value->>'id' AS TEXT) = ?
		ORDER BY s.sent_at DESC, s.id DESC LIMIT 1`, accountID, openid, menuID).Scan(&a.SendID, &ms, &a.Option)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, err
	}
	a.SentAt = time.UnixMilli(ms)
	return a, true, nil
}

// windowEvents are the events after which an account may send a few messages
// within a minute even without a customer message: a menu click or scan-code
// menu, a follow and a QR scan (3, OA), entering the KF session (2, MP).
// https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/send.html
var windowEvents = []string{"CLICK", "scancode_push", "scancode_waitmsg", "subscribe", "SCAN", "user_enter_tempsession"}

// EventMenuTap is PushWindow.Event for a tap on a msgmenu option. It arrives as a
// text message, but WeChat counts it as a menu click (3 sends in a minute), not as
// a customer message: "在用户点击菜单消息时，触发的是点击菜单事件…不会产生用户发送消息
// 场景的客服消息下发额度" (Customer_Service_Messages.html above).
const EventMenuTap = "msgmenu"

// PushWindow is what the pushes and the send log know of a customer's reply
// window: raw facts for api.ReplyWindowAt and the event allowance, no rule.
type PushWindow struct {
	LastMessage       time.Time // CreateTime of the customer's last message, menu taps not counted (zero if none)
	SendsSinceMessage int       // sends to them since (send_log: sent or unknown)
	LastEvent         time.Time // CreateTime of the last windowEvents event or menu tap (zero if none)
	Event             string    // which event it was (EventMenuTap for a menu tap)
	SendsSinceEvent   int
}

// CustomerWindow reads a customer's PushWindow. Sends count from the second of
// the CreateTime on (a reply in that same second counts: better one too many);
// refused sends do not count, ones without a clear answer do (they may have arrived).
func (db *DB) CustomerWindow(ctx context.Context, accountID int64, openid string) (PushWindow, error) {
	ws, err := db.CustomerWindows(ctx, accountID, []string{openid}) // storage/inbox.go
	return ws[openid], err
}

// DeletedCustomer is what DeleteCustomerData removed.
type DeletedCustomer struct {
	Pushes, Records, Sends int
	Note                   bool
	// MediaPaths are the customer's downloaded media files: the caller deletes them
	// (after the transaction: a file removed for a rolled-back delete is lost).
	MediaPaths []string
}

// DeleteCustomerData removes everything the account keeps about one customer, in
// one transaction: pushes (with their jobs and effects), the note, archived chat
// records (the records_delete trigger takes them out of both search indexes), the
// send log to them, the default-reply memory and the cached follower entry. WeChat
// asks for this on unsubscribe: "开发者收到用户取消关注事件时需要删除该用户的所有信息"
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
func (db *DB) DeleteCustomerData(ctx context.Context, accountID int64, openid string) (DeletedCustomer, error) {
	var d DeletedCustomer
	if openid == "" {
		return d, invalid("openid", "请指定客户（openid）。", "Name the customer (openid).")
	}
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		d = DeletedCustomer{}
		// msg_type in every condition: the dedup keys' partial indexes then find the rows.
		rows, err := tx.QueryContext(ctx, `SELECT media_path FROM pushes WHERE account_id = ? AND openid = ? AND msg_type <> 'event'
			AND media_path <> ''`, accountID, openid)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			d.MediaPaths = append(d.MediaPaths, p)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		del := func(n *int, q string) error {
			res, err := tx.ExecContext(ctx, q, accountID, openid)
			if err != nil {
				return err
			}
			if n != nil {
				c, _ := res.RowsAffected()
				*n = int(c)
			}
			return nil
		}
		var notes, events int
		for _, s := range []struct {
			n *int
			q string
		}{
			{&d.Pushes, `DELETE FROM pushes WHERE account_id = ? AND openid = ? AND msg_type <> 'event'`},
			{&events, `DELETE FROM pushes WHERE account_id = ? AND openid = ? AND msg_type = 'event'`},
			{&d.Records, `DELETE FROM records WHERE account_id = ? AND openid = ?`},
			{&d.Sends, `DELETE FROM send_log WHERE account_id = ? AND touser = ?`},
			{&notes, `DELETE FROM customer_notes WHERE account_id = ? AND openid = ?`},
			{nil, `DELETE FROM autoreply_default_sent WHERE account_id = ? AND openid = ?`},
			{nil, `DELETE FROM followers WHERE account_id = ? AND openid = ?`},
		} {
			if err := del(s.n, s.q); err != nil {
				return err
			}
		}
		d.Note, d.Pushes = notes > 0, d.Pushes+events
		return nil
	})
	return d, err
}
