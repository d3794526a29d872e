package cli

import (
	"fmt"
	"strings"
	"time"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("inbox list", "inbox list [--account NAME] [--since TIME]   (what kfdesk serve received, oldest first, every account unless --account; TIME: YYYY-MM-DD[ HH:MM] in Beijing time, UTC+8, or RFC 3339; --json: one object per line)", inboxList)
}

func inboxList(e *Env, args []string) error {
	fs := flags("inbox list")
	sinceText := fs.String("since", "", "")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("%w: inbox list takes no arguments, only --account/--since", ErrUsage)
	}
	var since time.Time
	if *sinceText != "" {
		t, err := workspace.ParseInboxTime(*sinceText)
		if err != nil {
			return err
		}
		since = t
	}
	var accountID int64
	names := map[int64]string{}
	if e.G.Account != "" {
		a, err := e.WS.CurrentAccount(e.Ctx, e.G.Account)
		if err != nil {
			return err
		}
		accountID, names[a.ID] = a.ID, a.Name
	} else { // a server serves several accounts: all of them
		accs, err := e.WS.DB.Accounts(e.Ctx)
		if err != nil {
			return err
		}
		for _, a := range accs {
			names[a.ID] = a.Name
		}
	}
	n := 0
	err := e.WS.Inbox(e.Ctx, accountID, since, func(p storage.Push) error {
		n++
		if e.G.JSON {
			it := workspace.NewPushItem(p, names[p.AccountID])
			it.Media = p.MediaPath
			return e.printJSON(it)
		}
		acct := ""
		if accountID == 0 && len(names) > 1 {
			acct = names[p.AccountID] + "  "
		}
		_, err := fmt.Fprintf(e.Stdout, "%s  %s%s  %s  %s\n", workspace.FormatTime(p.CreateTime, "2006-01-02 15:04:05"), acct, p.OpenID,
			pushKind(p), oneLine(pushSummary(p)))
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 && !e.G.JSON {
		fmt.Fprintln(e.Stderr, "nothing received yet / 还没有收到消息")
	}
	return nil
}

// pushKind is the message type, or event/NAME.
func pushKind(p storage.Push) string {
	if p.IsEvent() {
		return "event/" + p.Event
	}
	return p.MsgType
}

// pushSummary is what a push says, in a few words.
func pushSummary(p storage.Push) string {
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch {
	case p.MenuID != "":
		add(fmt.Sprintf("chose %s (%s)", p.Content, p.MenuID))
	case p.IsEvent():
		add(p.EventKey)
	default:
		add(p.Content)
	}
	add(p.Recognition)
	add(p.Title)
	add(p.URL)
	if l := p.Location; l != nil {
		add(fmt.Sprintf("%s (%g, %g)", l.Label, l.X, l.Y))
	}
	if p.MediaPath != "" {
		add(p.MediaPath)
	} else if p.MediaID != "" {
		add("[media not downloaded yet / 媒体尚未下载]")
	}
	return strings.Join(parts, "  ")
}

// oneLine keeps a message on its line: line breaks and tabs become visible escapes.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`, "\t", " ").Replace(s)
}
