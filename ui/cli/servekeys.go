package cli

import (
	"fmt"
	"time"

	"kfdesk/ui/workspace"
)

// Desktop keys for kfdesk serve's API (issue 11 §5): one per desktop, shown once, revocable.
func init() {
	register("serve key add", "serve key add NAME      (a key for the desktop NAME, and its connection code to paste there; printed once, only its hash is kept)", serveKeyAdd)
	register("serve key list", "serve key list          (names, created, last used, revoked; never the keys)", serveKeyList)
	register("serve key revoke", "serve key revoke NAME   (that desktop's key stops working at once)", serveKeyRevoke)
}

// oneName takes the NAME argument of a key command.
func oneName(cmd string, args []string) (string, error) {
	pos, err := parse(flags(cmd), args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("%w: %s NAME (one name, e.g. 前台电脑)", ErrUsage, cmd)
	}
	return pos[0], nil
}

func serveKeyAdd(e *Env, args []string) error {
	name, err := oneName("serve key add", args)
	if err != nil {
		return err
	}
	key, err := e.WS.AddDesktopKey(e.Ctx, name)
	if err != nil {
		return err
	}
	base, err := e.WS.PushURLBase(e.Ctx)
	if err != nil {
		return err
	}
	code := ""
	if base != "" {
		code = workspace.ConnectionCode(workspace.Connection{URL: base, Key: key})
	}
	if e.G.JSON {
		return e.printJSON(struct {
			Name string `json:"name"`
			Key  string `json:"key"`
			Code string `json:"connection_code,omitempty"`
		}{name, key, code})
	}
	fmt.Fprintf(e.Stdout, "%s\n", key)
	if code != "" {
		fmt.Fprintf(e.Stdout, "connection code / 连接码: %s\n", code)
	} else {
		fmt.Fprintln(e.Stderr, "no connection code: the server's address is not known yet (serve init --url-base https://HOST) / 还不知道服务器地址，无法生成连接码")
	}
	fmt.Fprintf(e.Stderr, "The key of %q is shown only now: copy it into that desktop; it cannot be shown again (revoke it and add a new one if lost).\n"+
		"「%s」的密钥只显示这一次：请复制到那台电脑；之后无法再查看（丢失时请吊销后重新添加）。\n", name, name)
	return nil
}

func serveKeyList(e *Env, args []string) error {
	if pos, err := parse(flags("serve key list"), args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: serve key list takes no arguments", ErrUsage)
	}
	keys, err := e.WS.DesktopKeys(e.Ctx)
	if err != nil {
		return err
	}
	stamp := func(t time.Time, layout string) string {
		if t.IsZero() {
			return ""
		}
		return workspace.FormatTime(t, layout)
	}
	if e.G.JSON {
		for _, k := range keys {
			if err := e.printJSON(struct {
				Name     string `json:"name"`
				Created  string `json:"created"`
				LastUsed string `json:"last_used"` // "" if never
				Revoked  string `json:"revoked"`   // "" while valid
			}{k.Name, stamp(k.Created, time.RFC3339), stamp(k.LastUsed, time.RFC3339), stamp(k.Revoked, time.RFC3339)}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(keys) == 0 {
		fmt.Fprintln(e.Stderr, "no desktop keys yet: `kfdesk serve key add NAME` / 还没有电脑密钥")
		return nil
	}
	const layout = "2006-01-02 15:04"
	t := newTable(e.Stdout)
	fmt.Fprintf(t, "NAME\tCREATED (%s)\tLAST USED\tREVOKED\n", workspace.TimeZoneNameEN)
	for _, k := range keys {
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", k.Name, stamp(k.Created, layout), dash(stamp(k.LastUsed, layout)), dash(stamp(k.Revoked, layout)))
	}
	return t.Flush()
}

func serveKeyRevoke(e *Env, args []string) error {
	name, err := oneName("serve key revoke", args)
	if err != nil {
		return err
	}
	if err := e.WS.RevokeDesktopKey(e.Ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "revoked the key of %q: it no longer connects / 已吊销「%s」的密钥\n", name, name)
	return nil
}
