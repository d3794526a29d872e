package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"kfdesk/api/clock"
)

// Reports (issue 13): how busy the account is and how well it is answered, over a
// period of the chat-record archive. Customer messages are opercodes 2001 and 2003,
// KF messages 2002 (api.OperCodeDirection); session events do not count. A report
// adds up each day's stored figures and walks only the days after them
// (reports_days.go); memory grows with the customers and a day's conversations, not
// with the records.

// ConversationGap: a customer's messages with no gap longer than this are one
// conversation. The next message after a longer silence starts a new one.
const ConversationGap = 30 * time.Minute

// FirstResponse is how long a conversation waited for its first KF reply: from
// its first customer message to the next KF message to that customer (ok false
// while there is none).
func FirstResponse(conversationStart, firstReply time.Time) (time.Duration, bool) {
	if firstReply.IsZero() || firstReply.Before(conversationStart) {
		return 0, false
	}
	return firstReply.Sub(conversationStart), true
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 1) of sorted values:
// the smallest value with at least p of all values at or below it. 0 for none.
func Percentile[T int64 | time.Duration](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ReportOptions choose a report's account and period.
type ReportOptions struct {
	From, To        time.Time     // Beijing days, inclusive; zero From: the first archived day, zero To: today
	Now             time.Time     // "today" and the age of unanswered messages
	UnansweredAfter time.Duration // a customer's last message older than this counts as unanswered; default ConversationGap
	Words           int           // how many frequent words; default 30
}

// Report is every figure of the Reports page. Durations are in seconds.
type Report struct {
	From             string           `json:"from"` // YYYY-MM-DD, Beijing
	To               string           `json:"to"`
	CustomerMessages int              `json:"customer_messages"`
	Replies          int              `json:"kf_replies"`
	Conversations    int              `json:"conversations"`
	Answered         int              `json:"answered_conversations"`
	MedianFirst      int64            `json:"median_first_response_s"`
	P90First         int64            `json:"p90_first_response_s"`
	Days             []DayFigures     `json:"days"`
	Workers          []WorkerFigures  `json:"workers"`
	Heat             [7][24]int       `json:"heat_map"` // customer messages by weekday (0 = Monday) and hour, Beijing time
	Unanswered       []UnansweredChat `json:"unanswered"`
	Words            []WordCount      `json:"words"`
	Menus            []MenuFigures    `json:"menus"`
}

// DayFigures are one Beijing day's figures; conversations count on the day they began.
type DayFigures struct {
	Day              string `json:"day"`
	CustomerMessages int    `json:"customer_messages"`
	Replies          int    `json:"kf_replies"`
	Conversations    int    `json:"conversations"`
	Answered         int    `json:"answered_conversations"`
	MedianFirst      int64  `json:"median_first_response_s"`
	P90First         int64  `json:"p90_first_response_s"`
}

// WorkerFigures are one KF worker's: conversations they wrote in, messages they sent,
// and the first responses they gave (a conversation's first reply belongs to its writer).
type WorkerFigures struct {
	Worker        string `json:"worker"`
	Conversations int    `json:"conversations"`
	Messages      int    `json:"messages"`
	Answered      int    `json:"first_responses"`
	MedianFirst   int64  `json:"median_first_response_s"`
	P90First      int64  `json:"p90_first_response_s"`
}

// UnansweredChat is a customer whose last message in the period is theirs, older
// than ReportOptions.UnansweredAfter: Last opens the conversation.
type UnansweredChat struct {
	OpenID  string `json:"openid"`
	Last    Record `json:"-"`
	Since   string `json:"since"` // RFC 3339, Beijing
	Waiting int64  `json:"waiting_s"`
}

// WordCount is a frequent word or phrase and how many customer messages contain it.
type WordCount struct {
	Word     string `json:"word"`
	Messages int    `json:"messages"`
}

// MenuFigures are the answers to one menu (msgmenu messages with the same head
// and options) sent in the period. Each send counts its customer's last tap.
type MenuFigures struct {
	Head     string       `json:"head"`
	Sent     int          `json:"sent"`
	Answered int          `json:"answered"`
	Options  []MenuOption `json:"options"`
	// Satisfied is the share of 满意 among the 满意 and 不满意 answers (HasSatisfaction: the menu has both kinds of option).
	HasSatisfaction bool    `json:"has_satisfaction"`
	Satisfied       float64 `json:"satisfied"`
}

// MenuOption is one option of a menu and how many answered with it.
type MenuOption struct {
	ID      string `json:"id"`
	Text    string `json:"text"`
	Answers int    `json:"answers"`
}

// Satisfaction classifies a menu option's text: +1 satisfied (满意, 非常满意),
// -1 dissatisfied (不满意), 0 neither.
func Satisfaction(option string) int {
	switch {
	case strings.Contains(option, "不满意"):
		return -1
	case strings.Contains(option, "满意"):
		return 1
	}
	return 0
}

type reportWorker struct {
	WorkerFigures
	first []int64
}

// Report computes the figures of an account over a period.
func (db *DB) Report(ctx context.Context, accountID int64, o ReportOptions) (*Report, error) {
	return db.report(ctx, accountID, o, true)
}

func (db *DB) report(ctx context.Context, accountID int64, o ReportOptions, retry bool) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = clock.Now()
	}
	if o.UnansweredAfter <= 0 {
		o.UnansweredAfter = ConversationGap
	}
	if o.Words <= 0 {
		o.Words = 30
	}
	from, to := BeijingDay(o.From), BeijingDay(o.To)
	if o.To.IsZero() {
		to = BeijingDay(o.Now)
	}
	if o.From.IsZero() {
		var first sql.NullInt64
		if err := db.r.QueryRowContext(ctx, `SELECT min(id) FROM records WHERE account_id = ?`, accountID).Scan(&first); err != nil {
			return nil, err
		}
		from = to
		if first.Valid && BeijingDay(time.Unix(first.Int64>>idShift, 0)).Before(to) {
			from = BeijingDay(time.Unix(first.Int64>>idShift, 0))
		}
	}
	if from.After(to) {
		return nil, &ValidationError{Field: "from", Chinese: "开始日期晚于结束日期。", English: "The start date is after the end date."}
	}
	end := to.AddDate(0, 0, 1).Unix()
	rep := &Report{From: dayKey(from), To: dayKey(to)}
	for d := from; d.Unix() < end; d = d.AddDate(0, 0, 1) {
		rep.Days = append(rep.Days, DayFigures{Day: dayKey(d)})
	}
	start := from.Unix()
	first := beijingDayNumber(start)
	m := newPartMerger(rep, first, end)
	if err := db.mergeReportDays(ctx, accountID, first, first+int64(len(rep.Days))-1, o.Now, m); retry && errors.Is(err, errDayPart) {
		// A damaged stored day: walk again (and store again), once.
		if _, err := db.w.ExecContext(ctx, `DELETE FROM report_days WHERE account_id = ?`, accountID); err != nil {
			return nil, err
		}
		return db.report(ctx, accountID, o, false)
	} else if err != nil {
		return nil, err
	}
	m.finish()
	// As things stood at the period's end (or now, if that is earlier).
	asOf := time.Unix(min(o.Now.Unix(), end), 0)
	cutoff := asOf.Add(-o.UnansweredAfter)
	for _, c := range m.last {
		if t := time.Unix(c.id>>idShift, 0); c.code != 2002 && !t.After(cutoff) {
			l := Record{ID: c.id, AccountID: accountID, OpenID: c.openid, Time: t, OperCode: c.code}
			rep.Unanswered = append(rep.Unanswered, UnansweredChat{OpenID: c.openid, Last: l,
				Since: t.In(Beijing).Format(time.RFC3339), Waiting: int64(asOf.Sub(t) / time.Second)})
		}
	}
	sort.Slice(rep.Unanswered, func(i, j int) bool { return rep.Unanswered[i].Last.ID > rep.Unanswered[j].Last.ID })
	if err := db.fillUnanswered(ctx, rep.Unanswered); err != nil {
		return nil, err
	}
	rep.Words = m.words.top(o.Words)
	var err error
	if rep.Menus, err = db.menuFigures(ctx, accountID, start, end); err != nil {
		return nil, err
	}
	return rep, nil
}

// readSnapshot runs fn on one reader connection in one read transaction: every
// query of fn sees the same committed state (a sync committing meanwhile is not
// half seen).
func (db *DB) readSnapshot(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return err
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) }() // a read: nothing to undo
	return fn(conn)
}

// eachRow runs a query on conn and hands fn each row's values as the driver gives
// them (int64, string, []byte, nil): rows cost about a third less CPU than through
// database/sql's Scan (docs/BENCHMARKS.md). The values are fn's to keep.
func eachRow(ctx context.Context, conn *sql.Conn, query string, args []any, fn func([]driver.Value) error) error {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return conn.Raw(func(dc any) error {
		rows, err := dc.(driver.QueryerContext).QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		v := make([]driver.Value, len(rows.Columns()))
		for {
			switch err := rows.Next(v); {
			case err == io.EOF:
				return nil
			case err != nil:
				return err
			}
			if err := fn(v); err != nil {
				return err
			}
		}
	})
}

// fillUnanswered reads the text of each unanswered customer's last message.
func (db *DB) fillUnanswered(ctx context.Context, list []UnansweredChat) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	at := make(map[int64]int, len(list))
	for i, u := range list {
		ids[i], at[u.Last.ID] = u.Last.ID, i
	}
	b, _ := json.Marshal(ids)
	rows, err := db.r.QueryContext(ctx, `SELECT r.id, r.text FROM json_each(?) j JOIN records r ON r.id = j.value`, string(b))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return err
		}
		list[at[id]].Last.Text = text
	}
	return rows.Err()
}

// beijingDayNumber counts Beijing days since 1970-01-01 (Beijing has no DST).
func beijingDayNumber(unix int64) int64 { return (unix + 8*3600) / 86400 }

// menuTapSlack: a tap a moment "before" the menu was sent (our clock against WeChat's
// CreateTime, whole seconds) still answers it.
const menuTapSlack = 2 * time.Second

// menuFigures counts the answers to the msgmenu messages sent in [start, end):
// each tap (a push with a bizmsgmenuid) answers the latest menu sent to that
// customer before it that has the option (as MenuChoice, bounded in time).
func (db *DB) menuFigures(ctx context.Context, accountID, start, end int64) ([]MenuFigures, error) {
	type send struct {
		key    string
		answer string // the option id of the customer's last tap
		at     int64
	}
	sends := map[int64]*send{}
	menus := map[string]*MenuFigures{}
	var order []string
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, coalesce(j->>'$.head_content', ''), coalesce(j->>'$.tail_content', ''), coalesce(j->'$.list', '[]')
			FROM (SELECT id, CASE WHEN json_valid(body) THEN body->'$.msgmenu' END AS j FROM send_log
				WHERE account_id = ? AND msgtype = 'msgmenu' AND status <> 'failed' AND sent_at >= ? AND sent_at < ? ORDER BY id)
			WHERE j IS NOT NULL`, accountID, start*1000, end*1000)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var head, tail, list string
			if err := rows.Scan(&id, &head, &tail, &list); err != nil {
				return err
			}
			var opts []struct {
				ID      json.RawMessage `json:"id"`
				Content string          `json:"content"`
			}
			if json.Unmarshal([]byte(list), &opts) != nil {
				continue
			}
			key := head + "\x00" + tail + "\x00" + list
			m := menus[key]
			if m == nil {
				m = &MenuFigures{Head: head}
				for _, o := range opts {
					m.Options = append(m.Options, MenuOption{ID: strings.Trim(string(o.ID), `"`), Text: o.Content})
				}
				menus[key] = m
				order = append(order, key)
			}
			m.Sent++
			sends[id] = &send{key: key}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(sends) == 0 {
			return nil
		}
		taps, err := tx.QueryContext(ctx, `SELECT p.menu_id, p.create_time, (SELECT s.id
				FROM send_log s, json_each(CASE WHEN json_valid(s.body) THEN s.body ELSE '{}' END, '$.msgmenu.list') o
				WHERE s.account_id = p.account_id AND s.touser = p.openid AND s.msgtype = 'msgmenu' AND s.status <> 'failed'
				AND s.sent_at <= p.create_time * 1000 + ? AND CAST(o.value->>'id' AS TEXT) = p.menu_id
				ORDER BY s.sent_at DESC, s.id DESC LIMIT 1)
			FROM pushes p WHERE p.account_id = ? AND p.msg_type <> 'event' AND p.menu_id <> '' AND p.create_time >= ?
			ORDER BY p.create_time, p.id`, menuTapSlack.Milliseconds(), accountID, start-int64(menuTapSlack/time.Second))
		if err != nil {
			return err
		}
		defer taps.Close()
		for taps.Next() {
			var option string
			var at int64
			var sendID sql.NullInt64
			if err := taps.Scan(&option, &at, &sendID); err != nil {
				return err
			}
			if s := sends[sendID.Int64]; sendID.Valid && s != nil && at >= s.at {
				s.answer, s.at = option, at
			}
		}
		return taps.Err()
	})
	if err != nil {
		return nil, err
	}
	for _, s := range sends {
		if s.answer == "" {
			continue
		}
		m := menus[s.key]
		m.Answered++
		for i := range m.Options {
			if m.Options[i].ID == s.answer {
				m.Options[i].Answers++
				break
			}
		}
	}
	out := make([]MenuFigures, 0, len(order))
	for _, k := range order {
		m := menus[k]
		var pos, neg, good, bad int
		for _, o := range m.Options {
			switch Satisfaction(o.Text) {
			case 1:
				pos++
				good += o.Answers
			case -1:
				neg++
				bad += o.Answers
			}
		}
		if m.HasSatisfaction = pos > 0 && neg > 0; m.HasSatisfaction && good+bad > 0 {
			m.Satisfied = float64(good) / float64(good+bad)
		}
		out = append(out, *m)
	}
	return out, nil
}
