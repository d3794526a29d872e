package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"kfdesk/api"
	"kfdesk/ui/workspace"
)

func init() {
	register("send", "send [--to OPENID] [--as KF_ACCOUNT] (--text TEXT | --body FILE|- | --template NAME)   (a customer-service message; --body takes the documented JSON body, - = stdin; a template is one saved in the composer)", send)
	register("typing", "typing --to OPENID [--cancel]   (show or hide \"typing…\" in the customer's chat)", typing)
	register("media upload", "media upload --type image|voice|video|thumb [--shrink] FILE   (prints the media_id, valid 3 days; --shrink re-encodes a picture that is too large or not JPG as JPEG)", mediaUpload)
}

func send(e *Env, args []string) error {
	fs := flags("send")
	to := fs.String("to", "", "")
	as := fs.String("as", "", "")
	text := fs.String("text", "", "")
	body := fs.String("body", "", "")
	oldBody := fs.String("json", "", "") // --json=FILE, the old spelling
	template := fs.String("template", "", "")
	textSet := false
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "text" {
			textSet = true
		}
	})
	// The old "--json FILE" reaches us as the global --json plus a positional FILE.
	if *oldBody == "" && *body == "" && len(pos) == 1 && e.G.JSON {
		*oldBody, pos = pos[0], nil
	}
	if *oldBody != "" {
		fmt.Fprintln(e.Stderr, "kfdesk: send --json FILE is deprecated, use --body FILE (--json alone means JSON output) / "+
			"send --json FILE 已弃用，请改用 --body FILE（--json 单独使用表示以 JSON 输出）")
		if *body == "" {
			*body = *oldBody
		}
	}
	if given := btoi(textSet) + btoi(*body != "") + btoi(*template != ""); len(pos) != 0 || given != 1 {
		return fmt.Errorf("%w: send [--to OPENID] [--as KF_ACCOUNT] (--text TEXT | --body FILE|- | --template NAME)", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	var m *api.Message
	switch {
	case textSet:
		m = &api.Message{MsgType: api.TypeText, Text: &api.Text{Content: *text}}
	case *template != "":
		if m, err = e.WS.TemplateMessage(e.Ctx, a, *template); err != nil {
			return err
		}
		m = m.Wire() // only the chosen type's fields are sent
	default:
		b, err := readInput(e, *body)
		if err != nil {
			return err
		}
		if m, err = api.ParseMessage(b); err != nil {
			return err
		}
	}
	if *to != "" {
		m.ToUser = *to
	}
	if *as != "" {
		m.CustomService = &api.CustomService{KFAccount: *as}
	}
	entry, err := e.WS.Send(e.Ctx, a, m)
	var verr api.ValidationErrors
	if errors.As(err, &verr) {
		for _, fe := range verr {
			fmt.Fprintf(e.Stderr, "  %s: %s / %s\n", fe.Field, fe.ZH(), fe.EN())
		}
		return fmt.Errorf("the message was not sent: fix the fields above / 消息未发送，请修正以上内容")
	}
	if err != nil {
		return err
	}
	if e.G.JSON {
		return e.printJSON(map[string]any{"errcode": 0, "touser": entry.ToUser, "msgtype": entry.MsgType, "log_id": entry.ID})
	}
	fmt.Fprintf(e.Stderr, "sent %s to %s / 已发送\n", m.MsgType, m.ToUser)
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readInput reads a file, or standard input for "-".
func readInput(e *Env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.Stdin)
	}
	return os.ReadFile(name)
}

func typing(e *Env, args []string) error {
	fs := flags("typing")
	to := fs.String("to", "", "")
	cancel := fs.Bool("cancel", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || strings.TrimSpace(*to) == "" {
		return fmt.Errorf("%w: typing --to OPENID [--cancel]", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	return e.WS.Typing(e.Ctx, a, *to, !*cancel)
}

func mediaUpload(e *Env, args []string) error {
	fs := flags("media upload")
	typ := fs.String("type", "", "")
	shrink := fs.Bool("shrink", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if _, ok := api.MediaLimits[*typ]; !ok || len(pos) != 1 {
		return fmt.Errorf("%w: media upload --type image|voice|video|thumb FILE", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	f, err := workspace.ReadMedia(pos[0], *typ, workspace.MiniProgram(a))
	if *shrink && workspace.CanShrink(f, err) {
		if f, err = f.Shrink(); err == nil {
			fmt.Fprintf(e.Stderr, "re-encoded as JPEG, %s / 已压缩为 JPEG\n", api.SizeText(len(f.Data)))
		}
	}
	if err != nil {
		return err
	}
	m, err := e.WS.UploadMedia(e.Ctx, a, *typ, f.Name, f.Data, nil)
	if err != nil {
		return err
	}
	if e.G.JSON {
		return e.printJSON(map[string]string{"media_id": m.MediaID})
	}
	fmt.Fprintln(e.Stdout, m.MediaID)
	return nil
}
