package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func init() {
	register("account add", "account add NAME --appid ID [--kind oa|mp] [--api-base URL] [--token-url URL] [--token-mode stable|classic|static]", accountAdd)
	register("account list", "account list", accountList)
	register("account remove", "account remove NAME", accountRemove)
	register("account use", "account use NAME        (make NAME the default account)", accountUse)
	register("demo", "demo [--serve 127.0.0.1:PORT]   (set up the built-in demo account, or serve the fake WeChat API)", demo)
}

func accountAdd(e *Env, args []string) error {
	fs := flags("account add")
	appid := fs.String("appid", "", "")
	kind := fs.String("kind", storage.KindOA, "")
	apiBase := fs.String("api-base", "", "")
	tokenURL := fs.String("token-url", "", "")
	mode := fs.String("token-mode", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: account add NAME --appid ID", ErrUsage)
	}
	a := storage.Account{Name: pos[0], Kind: *kind, AppID: *appid, APIBase: *apiBase, TokenURL: *tokenURL, TokenMode: *mode}
	if a.TokenMode == "" {
		a.TokenMode = storage.TokenStable
		if a.TokenURL != "" {
			a.TokenMode = storage.TokenURL
		}
	}
	secret := ""
	if a.TokenMode != storage.TokenURL {
		prompt := "AppSecret: "
		if a.TokenMode == storage.TokenStatic {
			prompt = "access_token: "
		}
		if secret, err = e.readSecret(prompt); err != nil {
			return err
		}
	}
	a, err = e.WS.AddAccount(e.Ctx, a, secret)
	if err != nil {
		return err
	}
	if _, ok, _ := e.WS.DB.Setting(e.Ctx, workspace.SettingCurrentAccount); !ok {
		if err := e.WS.DB.SetSetting(e.Ctx, workspace.SettingCurrentAccount, a.Name); err != nil {
			slog.Warn("could not make the new account the default", "err", err)
		}
	}
	fmt.Fprintf(e.Stderr, "added account %q (secret kept in %s)\n", a.Name, e.WS.Secrets.Where())
	if e.WS.SecretsNote != "" {
		fmt.Fprintln(e.Stderr, e.WS.SecretsNote)
	}
	return nil
}

type accountJSON struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	AppID     string `json:"appid"`
	APIBase   string `json:"api_base"`
	TokenMode string `json:"token_mode"`
	TokenURL  string `json:"token_url"`
	Demo      bool   `json:"demo"`
	Current   bool   `json:"current"`
}

func accountList(e *Env, args []string) error {
	if _, err := parse(flags("account list"), args); err != nil {
		return err
	}
	accs, err := e.WS.DB.Accounts(e.Ctx)
	if err != nil {
		return err
	}
	cur, _ := e.WS.CurrentAccount(e.Ctx, "")
	if e.G.JSON {
		for _, a := range accs {
			if err := e.printJSON(accountJSON{a.Name, a.Kind, a.AppID, a.APIBase, a.TokenMode, a.TokenURL, a.Demo, a.Name == cur.Name}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(accs) == 0 {
		fmt.Fprintln(e.Stderr, "no accounts yet: `kfdesk account add NAME --appid ID` or `kfdesk demo`")
		return nil
	}
	t := newTable(e.Stdout)
	fmt.Fprintln(t, "\tNAME\tKIND\tAPPID\tTOKEN\tAPI")
	for _, a := range accs {
		mark := ""
		if a.Name == cur.Name {
			mark = "*"
		}
		base := a.APIBase
		if a.Demo {
			base = "(built-in demo)"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, a.Name, a.Kind, a.AppID, a.TokenMode, base)
	}
	return t.Flush()
}

func accountRemove(e *Env, args []string) error {
	pos, err := parse(flags("account remove"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: account remove NAME", ErrUsage)
	}
	if err := e.WS.RemoveAccount(e.Ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "removed account %q\n", pos[0])
	return nil
}

func accountUse(e *Env, args []string) error {
	pos, err := parse(flags("account use"), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: account use NAME", ErrUsage)
	}
	if _, err := e.WS.DB.Account(e.Ctx, pos[0]); err != nil {
		return fmt.Errorf("account %q: %w", pos[0], err)
	}
	return e.WS.DB.SetSetting(e.Ctx, workspace.SettingCurrentAccount, pos[0])
}

// demo sets up the demo account; with --serve it runs the fake WeChat API on a
// loopback address so other tools (or a second KF Desk) can be tried against it.
func demo(e *Env, args []string) error {
	fs := flags("demo")
	serve := fs.String("serve", "", "")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *serve != "" {
		host, _, err := net.SplitHostPort(*serve)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			return fmt.Errorf("%w: --serve takes a loopback address such as 127.0.0.1:8090", ErrUsage)
		}
		ln, err := net.Listen("tcp", *serve)
		if err != nil {
			return err
		}
		cfg := workspace.DemoConfig()
		srv := &http.Server{Handler: wechattest.New(cfg)}
		fmt.Fprintf(e.Stderr, "fake WeChat API on http://%s (appid %s, secret %s: sample data only); Ctrl+C stops it\n", ln.Addr(), cfg.AppID, cfg.Secret)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		go func() { <-stop; _ = srv.Close() }()
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			return err
		}
		return nil
	}
	a, err := e.WS.EnsureDemo(e.Ctx)
	if err != nil {
		return err
	}
	if err := e.WS.DB.SetSetting(e.Ctx, workspace.SettingCurrentAccount, a.Name); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "demo account %q is ready and is now the default; it talks to a built-in fake WeChat server with sample data\n", a.Name)
	return nil
}
