package cli

import (
	"bufio"
	"fmt"
	"io"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// The push server's setup (README, Push server): what `serve --listen` (serve_run.go) uses.
func init() {
	register("serve init", "serve init [--account NAME] [--url-base https://HOST] [--token -] [--aes-key -] [--new]\n"+
		"        set up the account's message push (消息推送/服务器配置): keeps a Token and an EncodingAESKey\n"+
		"        (new random ones, or the console's: $KFDESK_PUSH_TOKEN / $KFDESK_PUSH_AESKEY, or --token - and\n"+
		"        --aes-key - to type or pipe them, one line each) and prints what to paste into the console.\n"+
		"        --token VALUE also works but shows in `ps` and shell history. --new replaces kept values.\n"+
		"        With --json: {\"path\",\"token\",\"encoding_aes_key\",\"mode\"}, secrets included, for scripts", serveInit)
	register("serve show", "serve show [--account NAME]   (print the push settings again; --json as for serve init)", serveShow)
}

const (
	envPushToken  = "KFDESK_PUSH_TOKEN"
	envPushAESKey = "KFDESK_PUSH_AESKEY"
)

func serveInit(e *Env, args []string) error {
	fs := flags("serve init")
	urlBase := fs.String("url-base", "", "")
	token := fs.String("token", "", "")
	aesKey := fs.String("aes-key", "", "")
	regenerate := fs.Bool("new", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: serve init [--account NAME] [--url-base https://HOST]", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	in := workspace.PushInit{Regenerate: *regenerate}
	stdin := bufio.NewReader(e.Stdin) // one reader: --token - and --aes-key - take a line each
	if in.Token, err = e.pushValue(*token, "token", envPushToken, "Token: ", stdin); err != nil {
		return err
	}
	if in.EncodingAESKey, err = e.pushValue(*aesKey, "aes-key", envPushAESKey, "EncodingAESKey: ", stdin); err != nil {
		return err
	}
	if *urlBase != "" { // refused before anything is kept
		if _, err := workspace.CheckPushURLBase(*urlBase); err != nil {
			return err
		}
	}
	p, changed, err := e.WS.InitPush(e.Ctx, a, in)
	if err != nil {
		return err
	}
	var base string
	if *urlBase != "" {
		base, err = e.WS.SetPushURLBase(e.Ctx, *urlBase)
	} else {
		base, err = e.WS.PushURLBase(e.Ctx)
	}
	if err != nil {
		return err
	}
	if !e.G.JSON {
		if changed {
			fmt.Fprintf(e.Stderr, "push settings of %q kept in %s / 消息推送设置已保存\n", a.Name, e.WS.Secrets.Where())
		} else {
			fmt.Fprintf(e.Stderr, "push settings of %q unchanged (--new makes new ones) / 消息推送设置未变\n", a.Name)
		}
		if e.WS.SecretsNote != "" {
			fmt.Fprintln(e.Stderr, e.WS.SecretsNote)
		}
	}
	return e.printPush(a, base, p)
}

// pushValue is the Token or EncodingAESKey adopted from the console: --NAME -
// reads it (prompt without echo, or a line of standard input); --NAME VALUE takes
// it with a warning; else the environment variable, else "" (keep or generate).
func (e *Env) pushValue(flagValue, name, variable, prompt string, stdin *bufio.Reader) (string, error) {
	switch flagValue {
	case "":
		return e.Getenv(variable), nil
	case "-":
		v, err := e.readSecretFrom(variable, prompt, stdin)
		if err == nil && v == "" {
			err = fmt.Errorf("%w: --%s - read an empty line / 读到空行", ErrUsage, name)
		}
		return v, err
	}
	fmt.Fprintf(e.Stderr, "kfdesk: warning: --%s on the command line shows in `ps` and shell history; next time use $%s or --%s - / "+
		"警告：命令行中的 --%s 会出现在 ps 和命令历史中，下次请用环境变量 %s 或 --%s -\n", name, variable, name, name, variable, name)
	return flagValue, nil
}

func serveShow(e *Env, args []string) error {
	pos, err := parse(flags("serve show"), args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: serve show [--account NAME]", ErrUsage)
	}
	a, err := e.account()
	if err != nil {
		return err
	}
	p, err := e.WS.PushSettings(e.Ctx, a)
	if err != nil {
		return err
	}
	base, err := e.WS.PushURLBase(e.Ctx)
	if err != nil {
		return err
	}
	return e.printPush(a, base, p)
}

type pushJSON struct {
	Path           string `json:"path"`
	URL            string `json:"url,omitempty"` // once --url-base is set
	Token          string `json:"token"`
	EncodingAESKey string `json:"encoding_aes_key"`
	Mode           string `json:"mode"`
	Format         string `json:"format,omitempty"` // Mini Programs: the 数据格式 to choose
}

// pushFormat is the data format to choose for a Mini Program (an OA pushes XML only):
// JSON, where WeChat's newer pushes are heading (video-account pushes are JSON only).
func pushFormat(a storage.Account) string {
	if a.Kind == storage.KindMP {
		return "json"
	}
	return ""
}

// printPush prints the settings to paste into the console, on standard output: the
// one place the Token and EncodingAESKey are shown on purpose.
func (e *Env) printPush(a storage.Account, base string, p workspace.PushSettings) error {
	if e.G.JSON {
		return e.printJSON(pushJSON{workspace.PushPath(a), workspace.PushURL(base, a), p.Token, p.EncodingAESKey,
			workspace.PushMode.String(), pushFormat(a)})
	}
	writePushSetup(e.Stdout, a, base, p)
	return nil
}

func writePushSetup(w io.Writer, a storage.Account, base string, p workspace.PushSettings) {
	mp := a.Kind == storage.KindMP
	kind, where := "公众号 Official Account", "mp.weixin.qq.com → 设置与开发 → 基本配置 → 服务器配置 → 修改配置\n"+
		"   (或 or: 微信开发者平台 → 我的业务 → 公众号 → 基础信息 → 域名与消息推送配置)"
	if mp {
		kind, where = "小程序 Mini Program", "mp.weixin.qq.com → 开发管理 → 开发设置 → 消息推送"
	}
	u := workspace.PushURL(base, a)
	if u == "" {
		u = "https://你的域名 your-domain" + workspace.PushPath(a) + "   (kfdesk serve init --url-base https://DOMAIN fills this in)"
	}
	fmt.Fprintf(w, "账号「%s」（%s，AppID %s）的消息推送设置 / Push settings of %q\n\n", a.Name, kind, a.AppID, a.Name)
	fmt.Fprintf(w, "在这里填写 / Where to paste:\n   %s\n\n", where)
	// One field a line, its value alone on the next: easy to copy, and aligned whatever the
	// terminal makes of Chinese characters' width.
	field := func(name, value string) { fmt.Fprintf(w, "   %s:\n      %s\n", name, value) }
	field("URL（服务器地址）", u)
	field("Token（令牌）", p.Token)
	field("EncodingAESKey（消息加解密密钥）", p.EncodingAESKey)
	field("消息加解密方式 / Mode", "安全模式 (safe mode; recommended 推荐)")
	if mp {
		field("数据格式 / Data format", "JSON")
	}
	fmt.Fprint(w, `
注意 / Before you switch anything on:
 * 提交时微信会立即访问上面的 URL 进行验证：请先在服务器上运行 kfdesk serve（接收消息的服务尚在开发中）。
   WeChat checks the URL as soon as you submit: the push receiver (kfdesk serve) must be running there first
   (it is still being built).
 * 启用服务器配置后，公众平台里设置的自动回复和自定义菜单将失效，客户的消息只发到这个 URL。
   Enabling the push URL turns off the console's own auto-replies and custom menu: customers' messages go
   only to this URL.
 * Token 和 EncodingAESKey 是密钥：不要发到群里或截图。 / The Token and EncodingAESKey are secrets: do not
   share them in chats or screenshots.
`)
}
