package cli

import (
	"fmt"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("session waiting", "session waiting          (customers waiting for a KF account, oldest first; --json: one object per line)", sessionWaiting)
	register("session list", "session list [--kf KF]   (open sessions of each KF account; --json: one object per line)", sessionList)
	register("session take", "session take KF OPENID   (KF account KF serves the customer)", sessionTake)
	register("session close", "session close KF OPENID", sessionClose)
	register("session transfer", "session transfer OPENID --to KF   (WeChat has no transfer: closes the session and opens one for KF)", sessionTransfer)
}

// say prints a line on stderr in the chosen language.
func (e *Env) say(zh, en string) {
	if e.zh() {
		fmt.Fprintln(e.Stderr, zh)
	} else {
		fmt.Fprintln(e.Stderr, en)
	}
}

func sessionWaiting(e *Env, args []string) error {
	if _, err := parse(flags("session waiting"), args); err != nil {
		return err
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	w, err := e.WS.WaitingCustomers(e.Ctx, a)
	if err != nil {
		return err
	}
	if e.G.JSON {
		for _, c := range w.List {
			if err := e.printJSON(c); err != nil {
				return err
			}
		}
		return nil
	}
	if w.Count == 0 {
		e.say("没有等待接入的客户。", "Nobody is waiting.")
		return nil
	}
	zh := e.zh()
	t := newTable(e.Stdout)
	if zh {
		fmt.Fprintln(t, "OPENID\t最后一条消息\t已等待")
	} else {
		fmt.Fprintln(t, "OPENID\tLAST MESSAGE\tWAITING")
	}
	now := clock.Now()
	for _, c := range w.List {
		at := time.Unix(c.LatestTime, 0)
		fmt.Fprintf(t, "%s\t%s\t%s\n", c.OpenID, workspace.FormatTime(at, "01-02 15:04"), waitedText(now.Sub(at), zh))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if w.Count > len(w.List) {
		e.say(fmt.Sprintf("共 %d 人等待，微信只列出最早的 %d 人。", w.Count, len(w.List)),
			fmt.Sprintf("%d are waiting; WeChat lists only the first %d.", w.Count, len(w.List)))
	}
	return nil
}

// waitedText: "3 min", "2 h 5 min" (Chinese: 分钟, 小时).
func waitedText(d time.Duration, zh bool) string {
	mins := max(0, int(d.Minutes()))
	h, m := mins/60, mins%60
	switch {
	case zh && h > 0:
		return fmt.Sprintf("%d 小时 %d 分钟", h, m)
	case zh:
		return fmt.Sprintf("%d 分钟", m)
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d min", m)
}

func sessionList(e *Env, args []string) error {
	fs := flags("session list")
	kf := fs.String("kf", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: session list [--kf KF]", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	only := ""
	if *kf != "" {
		if _, only, err = e.kfTarget(*kf); err != nil {
			return err
		}
	}
	all, err := e.WS.Sessions(e.Ctx, a)
	if err != nil {
		return err
	}
	var rows []api.Session
	found := only == ""
	for _, k := range all {
		if only != "" && k.KF.Account != only {
			continue
		}
		found = true
		rows = append(rows, k.Sessions...)
	}
	if !found {
		return api.Describe(nil, fmt.Sprintf("没有客服账号 %s（用 kfdesk kf list 查看）。", only),
			fmt.Sprintf("There is no KF account %s (see `kfdesk kf list`).", only))
	}
	if e.G.JSON {
		for _, s := range rows {
			if err := e.printJSON(s); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		e.say("没有进行中的会话。", "No open sessions.")
		return nil
	}
	t := newTable(e.Stdout)
	if e.zh() {
		fmt.Fprintln(t, "客服账号\tOPENID\t接入时间")
	} else {
		fmt.Fprintln(t, "KF ACCOUNT\tOPENID\tSINCE")
	}
	for _, s := range rows {
		fmt.Fprintf(t, "%s\t%s\t%s\n", s.KFAccount, s.OpenID, workspace.FormatTime(time.Unix(s.CreateTime, 0), "01-02 15:04"))
	}
	return t.Flush()
}

// kfAndOpenID reads "KF OPENID" and resolves KF (a bare prefix is completed).
func (e *Env) kfAndOpenID(name string, args []string) (a storage.Account, kf, openid string, err error) {
	pos, err := parse(flags(name), args)
	if err != nil {
		return a, "", "", err
	}
	if len(pos) != 2 {
		return a, "", "", fmt.Errorf("%w: %s KF OPENID", ErrUsage, name)
	}
	a, kf, err = e.kfTarget(pos[0])
	return a, kf, pos[1], err
}

func sessionTake(e *Env, args []string) error {
	a, kf, openid, err := e.kfAndOpenID("session take", args)
	if err != nil {
		return err
	}
	if err := e.WS.TakeCustomer(e.Ctx, a, kf, openid); err != nil {
		return err
	}
	e.say(fmt.Sprintf("%s 已接入 %s", kf, openid), fmt.Sprintf("%s now serves %s", kf, openid))
	return nil
}

func sessionClose(e *Env, args []string) error {
	a, kf, openid, err := e.kfAndOpenID("session close", args)
	if err != nil {
		return err
	}
	if err := e.WS.CloseSession(e.Ctx, a, kf, openid); err != nil {
		return err
	}
	e.say(fmt.Sprintf("已关闭 %s 与 %s 的会话", kf, openid), fmt.Sprintf("closed the session of %s with %s", kf, openid))
	return nil
}

func sessionTransfer(e *Env, args []string) error {
	fs := flags("session transfer")
	to := fs.String("to", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *to == "" {
		return fmt.Errorf("%w: session transfer OPENID --to KF", ErrUsage)
	}
	a, kf, err := e.kfTarget(*to)
	if err != nil {
		return err
	}
	if err := e.WS.TransferSession(e.Ctx, a, "", kf, pos[0]); err != nil {
		return err
	}
	e.say(fmt.Sprintf("已把 %s 转接给 %s", pos[0], kf), fmt.Sprintf("%s is now served by %s", pos[0], kf))
	return nil
}
