package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// Auto-reply rules of kfdesk serve (issue 11 §4). Turning the push URL on switches
// the console's own auto-replies off ("启用后…网站中设置的自动回复和自定义菜单将失效"),
// so these replace them. What matches a push is the server's decision (ui/workspace);
// here are the rules as the operator set them. Each is read afresh per push, so a
// change applies to the next one.

// Auto-reply rule kinds.
const (
	AutoReplyFollow  = "follow"  // greeting on subscribe
	AutoReplyKeyword = "keyword" // a message matching Keyword
	AutoReplyDefault = "default" // a message nothing matched (at most once per customer per hour)
	AutoReplyHours   = "hours"   // office hours; Body is the out-of-hours reply
)

// Keyword matching.
const (
	MatchExact    = "exact"    // the whole message is the keyword
	MatchContains = "contains" // the message contains it
)

// MaxKeywordRunes is the console's limit for a keyword.
const MaxKeywordRunes = 30

// DefaultReplyInterval: the default reply goes to a customer at most once in it.
const DefaultReplyInterval = time.Hour

// AutoReplyRule is one rule of an account.
type AutoReplyRule struct {
	ID       int64
	Kind     string
	Keyword  string      // keyword rules
	Match    string      // keyword rules: MatchExact (when empty) or MatchContains
	Hours    OfficeHours // hours rules
	Body     string      // the reply: exact custom-service JSON (cgi-bin/message/custom/send), touser filled in when sent
	Enabled  bool
	Position int // rules apply in this order (keywords: the first match wins); 0 when adding = last
	Updated  time.Time
}

// OfficeHours are the days and the time of day (Beijing time) someone answers.
type OfficeHours struct {
	Weekdays uint8 // bit d set = open on time.Weekday(d) (bit 0 Sunday)
	From, To int   // minutes after 00:00, From < To ≤ 24*60 (To excluded)
}

// Open tells whether t falls within the office hours (in Beijing time).
func (h OfficeHours) Open(t time.Time) bool {
	t = t.In(Beijing)
	m := t.Hour()*60 + t.Minute()
	return h.Weekdays&(1<<uint(t.Weekday())) != 0 && m >= h.From && m < h.To
}

// Weekdays is the bit set of days for OfficeHours.
func Weekdays(days ...time.Weekday) uint8 {
	var b uint8
	for _, d := range days {
		b |= 1 << uint(d)
	}
	return b
}

func (db *DB) validateAutoReply(ctx context.Context, q querier, accountID int64, r *AutoReplyRule) error {
	r.Keyword = strings.TrimSpace(r.Keyword)
	if r.Kind != AutoReplyKeyword {
		r.Keyword, r.Match = "", ""
	} else if r.Match == "" {
		r.Match = MatchExact
	}
	if r.Kind != AutoReplyHours {
		r.Hours = OfficeHours{}
	}
	switch r.Kind {
	case AutoReplyFollow, AutoReplyDefault:
	case AutoReplyKeyword:
		switch n := utf8.RuneCountInString(r.Keyword); {
		case n == 0:
			return invalid("keyword", "请填写关键词。", "Enter the keyword.")
		case n > MaxKeywordRunes:
			return invalid("keyword", fmt.Sprintf("关键词最多 %d 个字（现在 %d 个）。", MaxKeywordRunes, n),
				fmt.Sprintf("A keyword has at most %d characters (now %d).", MaxKeywordRunes, n))
		}
		if r.Match != MatchExact && r.Match != MatchContains {
			return invalid("match", "匹配方式应为「完全匹配」(exact) 或「包含」(contains)。", "The match is exact or contains.")
		}
	case AutoReplyHours:
		h := r.Hours
		switch {
		case h.Weekdays == 0 || h.Weekdays > 0x7f:
			return invalid("weekdays", "请至少选择一天工作日。", "Choose at least one working day.")
		case h.From < 0 || h.To > 24*60 || h.From >= h.To:
			return invalid("hours", "工作时间应为当天的开始到结束（北京时间），开始早于结束，例如 09:00–18:00。",
				"Office hours run from a start to a later end on the same day (Beijing time), e.g. 09:00–18:00.")
		}
	default:
		return invalid("kind", "规则类型应为关注回复、关键词回复、默认回复或工作时间。", "A rule is follow, keyword, default or hours.")
	}
	var kind string
	if err := q.QueryRowContext(ctx, `SELECT kind FROM accounts WHERE id = ?`, accountID).Scan(&kind); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	return checkReplyBody(r.Body, kind == KindMP)
}

// checkReplyBody checks a reply as the send would (api.Message.Validate), with a
// stand-in recipient when touser is empty (it is filled in when sent).
func checkReplyBody(body string, miniProgram bool) error {
	if strings.TrimSpace(body) == "" {
		return invalid("body", "请填写回复内容。", "Enter the reply.")
	}
	m, err := api.ParseMessage([]byte(body))
	if err != nil {
		return invalid("body", "回复内容不是客服消息 JSON："+err.Error(), "The reply is not a custom-service message JSON body: "+err.Error())
	}
	if m.ToUser == "" {
		m.ToUser = "oStandInRecipientForRules000"
	}
	if err := m.Validate(miniProgram); err != nil {
		var b api.Bilingual
		if errors.As(err, &b) {
			return invalid("body", "回复内容："+b.ZH(), "The reply: "+b.EN())
		}
		return err
	}
	return nil
}

// AddAutoReply validates and stores a rule. An account has one follow, one
// default and one hours rule: adding one replaces the one there was (keeping its
// place). Two keyword rules with the same keyword and match are refused.
func (db *DB) AddAutoReply(ctx context.Context, accountID int64, r AutoReplyRule) (AutoReplyRule, error) {
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := db.validateAutoReply(ctx, tx, accountID, &r); err != nil {
			return err
		}
		if r.Position <= 0 {
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(position), 0) + 1 FROM autoreply_rules WHERE account_id = ?`,
				accountID).Scan(&r.Position); err != nil {
				return err
			}
		}
		r.Updated = clock.Now().Truncate(time.Second)
		err := tx.QueryRowContext(ctx, `INSERT INTO autoreply_rules(account_id, kind, keyword, match, weekdays, from_min, to_min,
			body, enabled, position, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(account_id, kind) WHERE kind IN ('follow', 'default', 'hours') DO UPDATE SET
			weekdays = excluded.weekdays, from_min = excluded.from_min, to_min = excluded.to_min, body = excluded.body,
			enabled = excluded.enabled, updated_at = excluded.updated_at
			RETURNING id, position`,
			accountID, r.Kind, r.Keyword, r.Match, r.Hours.Weekdays, r.Hours.From, r.Hours.To, r.Body, r.Enabled, r.Position,
			r.Updated.Unix()).Scan(&r.ID, &r.Position)
		if isUnique(err) {
			return api.Describe(ErrDuplicate, fmt.Sprintf("已有关键词「%s」的同类规则。", r.Keyword),
				fmt.Sprintf("There is a rule for the keyword %q with this match already.", r.Keyword))
		}
		return err
	})
	return r, err
}

// UpdateAutoReply saves changes to the rule r.ID of the account (its kind, too).
func (db *DB) UpdateAutoReply(ctx context.Context, accountID int64, r AutoReplyRule) error {
	return db.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := db.validateAutoReply(ctx, tx, accountID, &r); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE autoreply_rules SET kind = ?, keyword = ?, match = ?, weekdays = ?, from_min = ?,
			to_min = ?, body = ?, enabled = ?, position = CASE WHEN ? > 0 THEN ? ELSE position END, updated_at = ?
			WHERE id = ? AND account_id = ?`, r.Kind, r.Keyword, r.Match, r.Hours.Weekdays, r.Hours.From, r.Hours.To, r.Body,
			r.Enabled, r.Position, r.Position, clock.Now().Unix(), r.ID, accountID)
		if isUnique(err) {
			return api.Describe(ErrDuplicate, "已有同类规则，请修改那一条。", "There is such a rule already: change that one.")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ruleNotFound(r.ID)
		}
		return nil
	})
}

func ruleNotFound(id int64) error {
	return api.Describe(ErrNotFound, fmt.Sprintf("没有编号为 %d 的自动回复规则。", id), fmt.Sprintf("There is no auto-reply rule %d.", id))
}

// SetAutoReplyEnabled switches a rule on or off.
func (db *DB) SetAutoReplyEnabled(ctx context.Context, accountID, id int64, on bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE autoreply_rules SET enabled = ?, updated_at = ? WHERE id = ? AND account_id = ?`,
		on, clock.Now().Unix(), id, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ruleNotFound(id)
	}
	return nil
}

// RemoveAutoReply deletes a rule.
func (db *DB) RemoveAutoReply(ctx context.Context, accountID, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM autoreply_rules WHERE id = ? AND account_id = ?`, id, accountID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ruleNotFound(id)
	}
	return nil
}

// AutoReplyRules lists an account's rules in order (disabled ones too).
func (db *DB) AutoReplyRules(ctx context.Context, accountID int64) ([]AutoReplyRule, error) {
	return queryAll(ctx, db.r, func(row interface{ Scan(...any) error }) (AutoReplyRule, error) {
		var r AutoReplyRule
		var at int64
		err := row.Scan(&r.ID, &r.Kind, &r.Keyword, &r.Match, &r.Hours.Weekdays, &r.Hours.From, &r.Hours.To, &r.Body,
			&r.Enabled, &r.Position, &at)
		r.Updated = time.Unix(at, 0)
		return r, err
	}, `SELECT id, kind, keyword, match, weekdays, from_min, to_min, body, enabled, position, updated_at
		FROM autoreply_rules WHERE account_id = ? ORDER BY position, id`, accountID)
}

// Forwarding is the "forward to the KF system" setting: unmatched customer
// messages are answered with transfer_customer_service, so mpkf / 客服小助手 see them.
// https://developers.weixin.qq.com/doc/subscription/guide/product/kf/forwarding.html
type Forwarding struct {
	On        bool
	KFAccount string // "" = any KF account; else this one (prefix@OA-WeChat-ID)
}

// Forward reads the account's forwarding setting: on, to any KF account, until set.
func (db *DB) Forward(ctx context.Context, accountID int64) (Forwarding, error) {
	f := Forwarding{On: true}
	err := db.r.QueryRowContext(ctx, `SELECT enabled, kf_account FROM autoreply_forward WHERE account_id = ?`, accountID).Scan(&f.On, &f.KFAccount)
	if errors.Is(err, sql.ErrNoRows) {
		return Forwarding{On: true}, nil
	}
	return f, err
}

// SetForward sets forwarding. A KF account is checked against the account's
// WeChat ID when it is known (a transfer to a misspelt one reaches nobody).
func (db *DB) SetForward(ctx context.Context, accountID int64, f Forwarding) error {
	f.KFAccount = strings.TrimSpace(f.KFAccount)
	if f.KFAccount != "" {
		oaID, err := db.OAWeChatID(ctx, accountID)
		if err != nil {
			return err
		}
		if err := api.CheckKFAccount(f.KFAccount, oaID); err != nil {
			return err
		}
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO autoreply_forward(account_id, enabled, kf_account) VALUES (?, ?, ?)
		ON CONFLICT(account_id) DO UPDATE SET enabled = excluded.enabled, kf_account = excluded.kf_account`, accountID, f.On, f.KFAccount)
	if isForeignKey(err) {
		return ErrNotFound
	}
	return err
}

// DefaultReplyDue tells whether the customer may get the default reply at now
// (none in the DefaultReplyInterval before). For display; to send, ClaimDefaultReply.
func (db *DB) DefaultReplyDue(ctx context.Context, accountID int64, openid string, now time.Time) (bool, error) {
	var last int64
	err := db.r.QueryRowContext(ctx, `SELECT sent_at FROM autoreply_default_sent WHERE account_id = ? AND openid = ?`,
		accountID, openid).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return err == nil && now.UnixMilli()-last >= DefaultReplyInterval.Milliseconds(), err
}

// ClaimDefaultReply is DefaultReplyDue and, when due, the record of the reply at
// now, in one statement: two workers answering two quick messages of one customer
// cannot both get true. The claim stands even if the send then fails (the
// customer gets no default reply for the hour rather than two).
func (db *DB) ClaimDefaultReply(ctx context.Context, accountID int64, openid string, now time.Time) (bool, error) {
	res, err := db.w.ExecContext(ctx, `INSERT INTO autoreply_default_sent(account_id, openid, sent_at) VALUES (?, ?, ?)
		ON CONFLICT(account_id, openid) DO UPDATE SET sent_at = excluded.sent_at
		WHERE excluded.sent_at - sent_at >= ?`, accountID, openid, now.UnixMilli(), DefaultReplyInterval.Milliseconds())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
