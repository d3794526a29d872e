package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// The auto-reply rules kfdesk serve answers pushes with (issue 11 §4). They apply
// to the next push: the server reads them afresh for each.

func init() {
	reply := "(--text TEXT | --body FILE|-)"
	register("autoreply list", "autoreply list           (rules in order, then forwarding; --json: one object per line)", autoreplyList)
	register("autoreply add", "autoreply add --keyword WORD [--match exact|contains] "+reply+"   (the first matching keyword answers; --body is the custom-service JSON)", autoreplyAdd)
	register("autoreply follow", "autoreply follow "+reply+"   (the greeting on follow; a Mini Program: on opening the chat)", autoreplyKind(storage.AutoReplyFollow))
	register("autoreply default", "autoreply default "+reply+"   (when nothing matched, at most once per customer per hour)", autoreplyKind(storage.AutoReplyDefault))
	register("autoreply hours", "autoreply hours --days 1-5 --from 09:00 --to 18:00 "+reply+"   (office hours, Beijing time; the reply is for out of hours)", autoreplyHours)
	register("autoreply forward", "autoreply forward on|off [--kf ACCOUNT]   (hand unmatched messages to the KF system, mpkf / 客服小助手; on until switched off)", autoreplyForward)
	register("autoreply remove", "autoreply remove ID", autoreplyRemove)
	register("autoreply import", "autoreply import         (carry over the console's 自动回复 before switching the push URL on)", autoreplyImport)
}

// replyFlags adds --text and --body to fs; body() gives the rule body they say.
func replyFlags(fs *flag.FlagSet) func(e *Env) (string, error) {
	text := fs.String("text", "", "")
	file := fs.String("body", "", "")
	return func(e *Env) (string, error) {
		switch {
		case *text != "" && *file != "", *text == "" && *file == "":
			return "", &api.InputError{Field: "body", Chinese: "请用 --text 给出回复文字，或用 --body 给出客服消息 JSON 文件（二选一）。",
				English: "Give the reply as --text TEXT or as --body FILE (custom-service JSON), one of the two."}
		case *text != "":
			return workspace.TextReplyBody(*text), nil
		}
		b, err := readInput(e, *file)
		return string(b), err
	}
}

func autoreplyList(e *Env, args []string) error {
	if _, err := parse(flags("autoreply list"), args); err != nil {
		return err
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	rules, fwd, err := e.WS.AutoReplies(e.Ctx, a)
	if err != nil {
		return err
	}
	if e.G.JSON {
		for _, r := range rules {
			o := map[string]any{"id": r.ID, "kind": r.Kind, "enabled": r.Enabled, "body": json.RawMessage(r.Body)}
			switch r.Kind {
			case storage.AutoReplyKeyword:
				o["keyword"], o["match"] = r.Keyword, r.Match
			case storage.AutoReplyHours:
				o["days"], o["from"], o["to"] = days(r.Hours.Weekdays), clockTime(r.Hours.From), clockTime(r.Hours.To)
			}
			if err := e.printJSON(o); err != nil {
				return err
			}
		}
		return e.printJSON(map[string]any{"kind": "forward", "enabled": fwd.On, "kf_account": fwd.KFAccount})
	}
	t := newTable(e.Stdout)
	fmt.Fprintln(t, "ID\tRULE\tWHEN\tREPLY")
	for _, r := range rules {
		when := "-"
		switch r.Kind {
		case storage.AutoReplyKeyword:
			when = r.Match + " " + strconv.Quote(r.Keyword)
		case storage.AutoReplyHours:
			when = fmt.Sprintf("open %s %s–%s (reply out of hours)", days(r.Hours.Weekdays), clockTime(r.Hours.From), clockTime(r.Hours.To))
		}
		kind := r.Kind
		if !r.Enabled {
			kind += " (off)"
		}
		fmt.Fprintf(t, "%d\t%s\t%s\t%s\n", r.ID, kind, when, replySummary(r.Body))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	switch {
	case !fwd.On:
		fmt.Fprintln(e.Stdout, "forward: off (unmatched messages get the default reply, or nothing)")
	case fwd.KFAccount != "":
		fmt.Fprintf(e.Stdout, "forward: on, to %s\n", fwd.KFAccount)
	default:
		fmt.Fprintln(e.Stdout, "forward: on, to any KF account")
	}
	return nil
}

// replySummary is a rule's reply on one line: a text's words, else its type.
func replySummary(body string) string {
	m, err := api.ParseMessage([]byte(body))
	if err != nil {
		return "?"
	}
	if m.MsgType == api.TypeText && m.Text != nil {
		s := strings.Join(strings.Fields(m.Text.Content), " ")
		if r := []rune(s); len(r) > 40 {
			s = string(r[:40]) + "…"
		}
		return s
	}
	return "[" + m.MsgType + "]"
}

func autoreplyAdd(e *Env, args []string) error {
	fs := flags("autoreply add")
	keyword := fs.String("keyword", "", "")
	match := fs.String("match", storage.MatchExact, "")
	body := replyFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *keyword == "" {
		return fmt.Errorf("%w: autoreply add --keyword WORD [--match exact|contains] (--text TEXT | --body FILE|-)", ErrUsage)
	}
	return e.addRule(storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: *keyword, Match: *match}, body)
}

func autoreplyKind(kind string) func(e *Env, args []string) error {
	return func(e *Env, args []string) error {
		fs := flags("autoreply " + kind)
		body := replyFlags(fs)
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return fmt.Errorf("%w: autoreply %s (--text TEXT | --body FILE|-)", ErrUsage, kind)
		}
		return e.addRule(storage.AutoReplyRule{Kind: kind}, body)
	}
}

func autoreplyHours(e *Env, args []string) error {
	fs := flags("autoreply hours")
	daysFlag := fs.String("days", "1-5", "")
	from := fs.String("from", "09:00", "")
	to := fs.String("to", "18:00", "")
	body := replyFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: autoreply hours --days 1-5 --from 09:00 --to 18:00 (--text TEXT | --body FILE|-)", ErrUsage)
	}
	var h storage.OfficeHours
	if h.Weekdays, err = parseDays(*daysFlag); err != nil {
		return err
	}
	if h.From, err = parseClock("from", *from); err != nil {
		return err
	}
	if h.To, err = parseClock("to", *to); err != nil {
		return err
	}
	return e.addRule(storage.AutoReplyRule{Kind: storage.AutoReplyHours, Hours: h}, body)
}

func (e *Env) addRule(r storage.AutoReplyRule, body func(*Env) (string, error)) error {
	var err error
	if r.Body, err = body(e); err != nil {
		return err
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	r, err = e.WS.AddAutoReply(e.Ctx, a, r)
	if err != nil {
		return err
	}
	if e.G.JSON {
		return e.printJSON(map[string]any{"id": r.ID, "kind": r.Kind})
	}
	fmt.Fprintf(e.Stderr, "auto-reply rule %d (%s) saved; it applies to the next message\n", r.ID, r.Kind)
	return nil
}

func autoreplyForward(e *Env, args []string) error {
	fs := flags("autoreply forward")
	kf := fs.String("kf", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "on" && pos[0] != "off" {
		return fmt.Errorf("%w: autoreply forward on|off [--kf ACCOUNT]", ErrUsage)
	}
	on := pos[0] == "on"
	if !on && *kf != "" {
		return &api.InputError{Field: "kf", Chinese: "关闭转发时不需要 --kf。", English: "--kf goes with forward on, not off."}
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	if err := e.WS.SetAutoReplyForward(e.Ctx, a, storage.Forwarding{On: on, KFAccount: *kf}); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "forwarding to the KF system is %s\n", pos[0])
	return nil
}

func autoreplyRemove(e *Env, args []string) error {
	pos, err := parse(flags("autoreply remove"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: autoreply remove ID", ErrUsage)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return &api.InputError{Field: "id", Chinese: fmt.Sprintf("规则编号应为数字（见 autoreply list），不是「%s」。", pos[0]),
			English: fmt.Sprintf("A rule ID is a number (see autoreply list), not %q.", pos[0])}
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	if err := e.WS.RemoveAutoReply(e.Ctx, a, id); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "auto-reply rule %d removed\n", id)
	return nil
}

// parseDays reads "1-5", "1,3,5" or "6-7" (1 = Monday … 7 = Sunday).
func parseDays(s string) (uint8, error) {
	bad := &api.InputError{Field: "days", Chinese: fmt.Sprintf("工作日写法如 1-5 或 1,3,5（1 = 周一 … 7 = 周日），不是「%s」。", s),
		English: fmt.Sprintf("Days are written like 1-5 or 1,3,5 (1 = Monday … 7 = Sunday), not %q.", s)}
	var set uint8
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || a < 1 || b > 7 || a > b {
			return 0, bad
		}
		for d := a; d <= b; d++ {
			set |= 1 << uint(d%7) // time.Weekday: Sunday is 0
		}
	}
	return set, nil
}

// parseClock reads "09:00" (and "24:00" for the end of the day) as minutes.
func parseClock(field, s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, &api.InputError{Field: field, Chinese: fmt.Sprintf("时间写法如 09:00 或 18:30（北京时间），不是「%s」。", s),
			English: fmt.Sprintf("A time is written like 09:00 or 18:30 (Beijing time), not %q.", s)}
	}
	return hh*60 + mm, nil
}

func clockTime(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// days writes a weekday set back as parseDays reads it (1 = Monday … 7 = Sunday).
func days(set uint8) string {
	var parts []string
	for d := 1; d <= 7; {
		if set&(1<<uint(time.Weekday(d%7))) == 0 {
			d++
			continue
		}
		end := d
		for end < 7 && set&(1<<uint((end+1)%7)) != 0 {
			end++
		}
		if end == d {
			parts = append(parts, strconv.Itoa(d))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", d, end))
		}
		d = end + 1
	}
	return strings.Join(parts, ",")
}

func autoreplyImport(e *Env, args []string) error {
	pos, err := parse(flags("autoreply import"), args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: autoreply import", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	res, err := e.WS.ImportAutoReplies(e.Ctx, a)
	if err != nil {
		return err
	}
	for _, r := range res.Added {
		if e.G.JSON {
			if err := e.printJSON(map[string]any{"id": r.ID, "kind": r.Kind, "keyword": r.Keyword, "match": r.Match}); err != nil {
				return err
			}
		}
	}
	for _, s := range res.Skipped {
		fmt.Fprintln(e.Stderr, "skipped 未导入: "+s)
	}
	fmt.Fprintf(e.Stderr, "imported %d auto-reply rules from the console / 已从公众平台导入 %d 条自动回复规则\n", len(res.Added), len(res.Added))
	if res.TempMedia > 0 {
		fmt.Fprintf(e.Stderr, "%d of them answer with temporary media, valid 3 days: replace them with autoreply add --body / "+
			"其中 %d 条使用临时素材（3 天内有效），请用 autoreply add --body 替换\n", res.TempMedia, res.TempMedia)
	}
	return nil
}
