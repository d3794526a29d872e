package cli

import (
	"fmt"
	"strings"

	"kfdesk/ui/workspace"
)

func init() {
	register("suggest", `suggest "顾客的话" [--openid ID]   (suggested replies from the account's chat records: how often each was used, when last, and the exchanges it comes from)`, suggest)
}

type suggestionJSON struct {
	Text     string       `json:"text"`
	Count    int          `json:"count"`
	LastUsed string       `json:"last_used"`
	Sources  []sourceJSON `json:"sources"`
}

type sourceJSON struct {
	OpenID   string `json:"openid"`
	Time     string `json:"time"`
	Question string `json:"question"`
	Reply    string `json:"reply"`
}

const suggestTimeLayout = "2006-01-02 15:04"

func suggest(e *Env, args []string) error {
	fs := flags("suggest")
	openid := fs.String("openid", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(strings.Join(pos, " "))
	if text == "" {
		return fmt.Errorf(`%w: give the customer's message, e.g. kfdesk suggest "什么时候发货" / 请给出顾客的话，例如 kfdesk suggest "什么时候发货"`, ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	ss, err := e.WS.Suggest(e.Ctx, a, *openid, text)
	if err != nil {
		return err
	}
	zh := e.zh()
	if len(ss) == 0 && !e.G.JSON {
		if zh {
			fmt.Fprintln(e.Stderr, "没有建议：聊天记录里没有相似的问题（先同步聊天记录：kfdesk records sync）。")
		} else {
			fmt.Fprintln(e.Stderr, "No suggestion: nothing similar was asked in the chat records (sync them first: kfdesk records sync).")
		}
		return nil
	}
	for i, s := range ss {
		if e.G.JSON {
			j := suggestionJSON{Text: s.Text, Count: s.Count, LastUsed: workspace.FormatTime(s.LastUsed, suggestTimeLayout), Sources: []sourceJSON{}}
			for _, src := range s.Sources {
				j.Sources = append(j.Sources, sourceJSON{src.OpenID, workspace.FormatTime(src.Time, suggestTimeLayout), src.Question, src.Reply})
			}
			if err := e.printJSON(j); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(e.Stdout, "%d. %s\n", i+1, s.Text)
		if zh {
			fmt.Fprintf(e.Stdout, "   用过 %d 次，最近 %s\n", s.Count, workspace.FormatTime(s.LastUsed, suggestTimeLayout))
		} else {
			fmt.Fprintf(e.Stdout, "   used %d×, last %s\n", s.Count, workspace.FormatTime(s.LastUsed, suggestTimeLayout))
		}
		for _, src := range s.Sources {
			fmt.Fprintf(e.Stdout, "   ← %s  %s  %s\n", workspace.FormatTime(src.Time, suggestTimeLayout), src.OpenID, src.Question)
		}
	}
	return nil
}
