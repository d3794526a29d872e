// Package workspace joins storage and the WeChat client for the window and the
// command line alike: it opens the data folder, keeps secrets in the secret store,
// and hands out one api.Client per account (the demo account's talks to the
// in-process fake WeChat server). It has no Fyne code, so the CLI can use it.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

// Demo account constants. The secret only opens the in-process fake server.
const (
	DemoName   = "演示账号 Demo"
	DemoAppID  = "wxd0e5c0de00000001"
	demoSecret = "kfdesk-demo-secret"
)

// Setting keys.
const (
	SettingCurrentAccount = "current_account"
	SettingLanguage       = "language" // "", "zh" or "en"
)

// Workspace is an open data folder.
type Workspace struct {
	DB      *storage.DB
	Secrets storage.SecretStore
	// SecretsNote explains a fallback to the file store (empty when the OS store is used).
	SecretsNote string
	Dir         string
	// SeenCustomers replaces where the composer's recipient list finds customers
	// seen in chat records; nil = the archive (DB.RecentCustomers).
	SeenCustomers SeenCustomersFunc

	mu      sync.Mutex
	demo    *wechattest.Server
	clients map[int64]*api.Client
	pushed  signal // a push was stored (desktopapi.go)

	demoWatchers int                // inbox watches of the demo account (inbox_demo.go)
	demoSimStop  context.CancelFunc // stops the demo's customer simulator
}

// Open opens (creating when needed) the data folder dir; "" means the default.
func Open(dir string) (*Workspace, error) {
	if dir == "" {
		d, err := storage.DefaultDataDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	db, err := storage.Open(filepath.Join(dir, storage.DBFileName))
	if err != nil {
		return nil, err
	}
	sec, note := storage.OpenSecrets(dir)
	return &Workspace{DB: db, Secrets: sec, SecretsNote: note, Dir: dir, clients: map[int64]*api.Client{}}, nil
}

// Close stops the demo server and closes the database.
func (w *Workspace) Close() error {
	w.mu.Lock()
	if w.demoSimStop != nil {
		w.demoSimStop()
	}
	if w.demo != nil {
		w.demo.Close()
		w.demo = nil
	}
	w.mu.Unlock()
	return w.DB.Close()
}

func secretKey(a storage.Account) string { return "account-" + strconv.FormatInt(a.ID, 10) }

// AddAccount stores the account and its secret (AppSecret, or the token in static
// mode), and makes it the current account: whoever adds an account, in the window or
// on the command line, means to work with it next (a scheduled job names its
// account with --account).
func (w *Workspace) AddAccount(ctx context.Context, a storage.Account, secret string) (storage.Account, error) {
	if secret == "" && a.TokenMode != storage.TokenURL {
		return a, &storage.ValidationError{Field: "secret", Chinese: "请填写 AppSecret。", English: "Enter the AppSecret."}
	}
	a, err := w.DB.AddAccount(ctx, a)
	if err != nil {
		return a, err
	}
	if secret != "" {
		if err := w.Secrets.Set(secretKey(a), secret); err != nil {
			if derr := w.DB.DeleteAccount(ctx, a.Name); derr != nil {
				err = errors.Join(err, derr)
			}
			return a, secretError(err, "无法把 AppSecret 保存到%s。", "Could not save the AppSecret in %s.", w.Secrets.Where())
		}
	}
	return a, w.DB.SetSetting(ctx, SettingCurrentAccount, a.Name)
}

// UseAccount makes the named account the current one (the window's choice, `account use`).
func (w *Workspace) UseAccount(ctx context.Context, name string) error {
	if _, err := w.DB.Account(ctx, name); err != nil {
		return err
	}
	return w.DB.SetSetting(ctx, SettingCurrentAccount, name)
}

// Language is the UI language chosen in Settings: "zh", "en", or "" to follow the system.
func (w *Workspace) Language(ctx context.Context) (string, error) {
	code, _, err := w.DB.Setting(ctx, SettingLanguage)
	return code, err
}

// SetLanguage chooses the UI language ("zh", "en", or "" to follow the system).
func (w *Workspace) SetLanguage(ctx context.Context, code string) error {
	switch code {
	case "", "zh", "en":
		return w.DB.SetSetting(ctx, SettingLanguage, code)
	}
	return &storage.ValidationError{Field: "language", Chinese: "语言只能是 zh、en 或留空（跟随系统）。", English: "The language is zh, en, or empty (follow the system)."}
}

// Chinese tells whether to speak Chinese: the language chosen in Settings, else the
// system's (LC_ALL, LC_MESSAGES, LANG, as getenv reads them).
func (w *Workspace) Chinese(ctx context.Context, getenv func(string) string) bool {
	if l, err := w.Language(ctx); err == nil && l != "" {
		return l == "zh"
	}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			return strings.HasPrefix(v, "zh")
		}
	}
	return false
}

// UpdateAccount saves changed settings; an empty secret keeps the stored one.
func (w *Workspace) UpdateAccount(ctx context.Context, a storage.Account, secret string) error {
	if err := w.DB.UpdateAccount(ctx, a); err != nil {
		return err
	}
	if secret != "" {
		if err := w.Secrets.Set(secretKey(a), secret); err != nil {
			return secretError(err, "无法把 AppSecret 保存到%s。", "Could not save the AppSecret in %s.", w.Secrets.Where())
		}
	}
	// Settings (and maybe the secret) changed: forget the client and its cached tokens.
	w.mu.Lock()
	delete(w.clients, a.ID)
	w.mu.Unlock()
	for _, m := range []api.TokenMode{api.TokenStable, api.TokenClassic, api.TokenURL} {
		if err := w.DB.DeleteToken(ctx, tokenKey(a, m)); err != nil { // a stale token is renewed on its first error
			slog.Warn("could not forget a cached token", "err", err)
		}
	}
	return nil
}

// RemoveAccount deletes the account, its tokens and its secrets (AppSecret, push settings).
func (w *Workspace) RemoveAccount(ctx context.Context, name string) error {
	a, err := w.DB.Account(ctx, name)
	if err != nil {
		return err
	}
	if err := w.DB.DeleteAccount(ctx, name); err != nil {
		return err
	}
	w.mu.Lock()
	delete(w.clients, a.ID)
	w.mu.Unlock()
	if err := w.Secrets.Delete(secretKey(a)); err != nil && !errors.Is(err, storage.ErrSecretNotFound) {
		return secretError(err, "无法从%s删除 AppSecret。", "Could not remove the AppSecret from %s.", w.Secrets.Where())
	}
	if err := w.Secrets.Delete(pushServerKey(a)); err != nil && !errors.Is(err, storage.ErrSecretNotFound) {
		return secretError(err, "无法从%s删除接收服务器的连接码。", "Could not remove the push server's connection code from %s.", w.Secrets.Where())
	}
	if err := w.Secrets.Delete(pushKey(a)); err != nil && !errors.Is(err, storage.ErrSecretNotFound) {
		return secretError(err, "无法从%s删除消息推送设置。", "Could not remove the push settings from %s.", w.Secrets.Where())
	}
	if cur, _, err := w.DB.Setting(ctx, SettingCurrentAccount); err != nil || cur != name {
		return err
	}
	return w.DB.SetSetting(ctx, SettingCurrentAccount, "")
}

// BackupFileName is the dated name of a backup made now (kfdesk-backup-YYYYMMDD-HHMMSS.db, in TimeZone).
func BackupFileName() string { return storage.BackupFileName(clock.Now().In(TimeZone)) }

// Backup writes a complete, checked copy of the database to path while it stays in
// use (no secrets; tokens left out). progress gets bytes done of total; it may be nil.
func (w *Workspace) Backup(ctx context.Context, path string, progress func(done, total int64)) error {
	return w.DB.Backup(ctx, path, progress)
}

// SaveSetting remembers a setting (window size, last page, a choice made on a screen).
func (w *Workspace) SaveSetting(ctx context.Context, key, value string) error {
	return w.DB.SetSetting(ctx, key, value)
}

// EnsureDemo returns the built-in demo account, creating it when missing.
func (w *Workspace) EnsureDemo(ctx context.Context) (storage.Account, error) {
	accs, err := w.DB.Accounts(ctx)
	if err != nil {
		return storage.Account{}, err
	}
	for _, a := range accs {
		if a.Demo {
			return a, nil
		}
	}
	return w.DB.AddAccount(ctx, storage.Account{
		Name: DemoName, Kind: storage.KindOA, AppID: DemoAppID, TokenMode: storage.TokenStable, Demo: true,
	})
}

// CurrentAccount returns the account the operator last chose, the only one there is,
// or ErrNoAccount.
func (w *Workspace) CurrentAccount(ctx context.Context, name string) (storage.Account, error) {
	if name != "" {
		return w.DB.Account(ctx, name)
	}
	if cur, ok, _ := w.DB.Setting(ctx, SettingCurrentAccount); ok && cur != "" {
		if a, err := w.DB.Account(ctx, cur); err == nil {
			return a, nil
		}
	}
	accs, err := w.DB.Accounts(ctx)
	if err != nil {
		return storage.Account{}, err
	}
	if len(accs) == 0 {
		return storage.Account{}, ErrNoAccount
	}
	return accs[0], nil
}

// ErrNoAccount: nothing is configured yet.
var ErrNoAccount error = api.Describe(nil, "还没有配置账号（请添加账号，或运行 kfdesk demo 使用演示账号）。",
	"No account is configured yet (add one, or run `kfdesk demo`).")

// secretError explains a failure of the secret store (where: Secrets.Where()).
func secretError(err error, zh, en, where string) error {
	return api.Describe(err, fmt.Sprintf(zh, where), fmt.Sprintf(en, where))
}

func tokenKey(a storage.Account, m api.TokenMode) string {
	return a.AppID + ":" + string(m)
}

// client returns the WeChat client of an account, creating it on first use. It is
// unexported: the window and the command line reach WeChat only through Workspace methods.
func (w *Workspace) client(ctx context.Context, a storage.Account) (*api.Client, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.clients[a.ID]; ok {
		return c, nil
	}
	mode := api.TokenMode(a.TokenMode)
	cfg := api.TokenConfig{Mode: mode, AppID: a.AppID, URL: a.TokenURL, Store: w.DB, StoreKey: tokenKey(a, mode)}
	base := a.APIBase
	if a.Demo {
		if w.demo == nil {
			w.demo = wechattest.NewServer(DemoConfig())
		}
		base = w.demo.URL
		cfg.Secret = demoSecret
		cfg.Store = nil // the demo server's tokens die with the process
	} else if conn, ok := w.serverTokens(a); ok {
		cfg.Mode, cfg.URL, cfg.StoreKey = api.TokenURL, serverTokenURL(conn, a), tokenKey(a, api.TokenURL)
	} else if mode != api.TokenURL {
		s, err := w.Secrets.Get(secretKey(a))
		if err != nil {
			return nil, api.Describe(err, fmt.Sprintf("无法从%s读取账号「%s」的 AppSecret。", w.Secrets.Where(), a.Name),
				fmt.Sprintf("Could not read the AppSecret of %q from %s.", a.Name, w.Secrets.Where()))
		}
		cfg.Secret = s
	}
	c, err := api.New(api.Options{BaseURL: base, Tokens: cfg})
	if err != nil {
		return nil, err
	}
	w.clients[a.ID] = c
	return c, nil
}

// DemoConfig is the fake server's configuration for the demo account: the sample
// data set (followers, KF accounts, two months of conversations) ending now. The demo
// runs for the whole session and nobody reads its request log, so it keeps none, and
// of an uploaded file only what it is, not its bytes.
func DemoConfig() wechattest.Config {
	return wechattest.Config{AppID: DemoAppID, Secret: demoSecret, Kind: wechattest.OfficialAccount,
		WeChatID: "kfdesk_demo", Sample: true, Seed: 20261123, RequestLog: -1, DiscardUploads: true}
}

// TestConnection checks that the account's credentials work: it obtains a token
// (bypassing nothing but the memory cache) and makes one cheap authenticated call.
func (w *Workspace) TestConnection(ctx context.Context, a storage.Account) error {
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Ping(ctx)
}
