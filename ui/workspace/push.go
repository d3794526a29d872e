package workspace

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"kfdesk/api"
	"kfdesk/api/push"
	"kfdesk/storage"
)

// PushSettings are one account's 服务器配置 / 消息推送 (message push) as entered in
// the console. Both values are secrets: whoever has them can forge pushes or read
// them, so they live in the secret store beside the AppSecret, never in the database.
// https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html
type PushSettings struct {
	Token          string `json:"token"`
	EncodingAESKey string `json:"encoding_aes_key"`
}

// PushMode is the console's 消息加解密方式 KF Desk recommends: 安全模式 (safe), so a
// push is both signed and encrypted (api/push: Config.RequireEncryption).
const PushMode = push.ModeSafe

// SettingPushURLBase is where this server is reached from the internet
// (https://host, maybe with a path prefix): one per server, shared by every account.
const SettingPushURLBase = "push_url_base"

// pushKey is the secret-store key of an account's push settings: a second key per
// account beside its AppSecret's.
func pushKey(a storage.Account) string { return secretKey(a) + ":push" }

// PushPath is the account's path on the push server: one per account, so one server
// serves several accounts. The AppID is in it because it is public and fixed.
func PushPath(a storage.Account) string { return "/wx/" + a.AppID }

// PushURL is the full URL to paste into the console, or "" while no base is set.
func PushURL(base string, a storage.Account) string {
	if base == "" {
		return ""
	}
	return base + PushPath(a)
}

// PushInit says what `serve init` was given. Empty values are kept from the stored
// settings, else generated; Regenerate ignores the stored ones.
type PushInit struct {
	Token, EncodingAESKey string // adopted from the console
	Regenerate            bool
}

// PushSettings returns the account's stored push settings. Before `serve init` the
// error is storage.ErrSecretNotFound, explained.
func (w *Workspace) PushSettings(_ context.Context, a storage.Account) (PushSettings, error) {
	var p PushSettings
	s, err := w.Secrets.Get(pushKey(a))
	if errors.Is(err, storage.ErrSecretNotFound) {
		return p, api.Describe(err,
			fmt.Sprintf("账号「%s」还没有设置消息推送：请先运行 kfdesk serve init --account %s。", a.Name, a.Name),
			fmt.Sprintf("Account %q has no push settings yet: run `kfdesk serve init --account %s` first.", a.Name, a.Name))
	}
	if err != nil {
		return p, secretError(err, "无法从%s读取消息推送设置。", "Could not read the push settings from %s.", w.Secrets.Where())
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		// The error of encoding/json quotes no input, so it cannot leak the value.
		return p, secretError(err, "%s中的消息推送设置已损坏：请运行 kfdesk serve init --new（或用 --token - --aes-key - 填入公众平台中的值）。",
			"The push settings in %s are damaged: run `kfdesk serve init --new` (or adopt the console's values with --token - --aes-key -).", w.Secrets.Where())
	}
	return p, nil
}

// InitPush sets up the account's push settings: what in gives (adopted from the
// console), else what is stored, else new random values as the console makes them.
// Each is checked as the push receiver will use it (push.New, in safe mode). It
// returns the settings and whether they changed: a change must be pasted into the
// console again.
func (w *Workspace) InitPush(ctx context.Context, a storage.Account, in PushInit) (PushSettings, bool, error) {
	var old PushSettings
	stored := false
	if !in.Regenerate {
		p, err := w.PushSettings(ctx, a)
		switch {
		case err == nil:
			old, stored = p, true
		case !errors.Is(err, storage.ErrSecretNotFound):
			return old, false, err
		}
	}
	p := PushSettings{Token: strings.TrimSpace(in.Token), EncodingAESKey: strings.TrimSpace(in.EncodingAESKey)}
	if p.Token == "" {
		p.Token = old.Token
	}
	if p.EncodingAESKey == "" {
		p.EncodingAESKey = old.EncodingAESKey
	}
	if p.Token == "" {
		p.Token = NewPushToken()
	}
	if p.EncodingAESKey == "" {
		p.EncodingAESKey = NewEncodingAESKey()
	}
	if _, err := push.New(push.Config{Token: p.Token, EncodingAESKey: p.EncodingAESKey, AppID: a.AppID, RequireEncryption: true}); err != nil {
		return old, false, err // an api.InputError naming the field; it never quotes the value
	}
	if stored && p == old {
		return p, false, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return old, false, err
	}
	if err := w.Secrets.Set(pushKey(a), string(b)); err != nil {
		return old, false, secretError(err, "无法把消息推送设置保存到%s。", "Could not save the push settings in %s.", w.Secrets.Where())
	}
	return p, true, nil
}

// NewPushToken is a Token as the console accepts it (3–32 letters or digits): 32
// random ones, 190 bits.
func NewPushToken() string { return randomAlnum(32) }

// NewEncodingAESKey is an EncodingAESKey as the console's 随机生成 makes it: 43
// characters "comprised of letters (a-z and A-Z) and numbers (0-9)", which decode as
// Base64_Decode(EncodingAESKey + "=") to the 32-byte AES key (push.DecodeAESKey).
// https://developers.weixin.qq.com/doc/oplatform/en/Third-party_Platforms/Message_Encryption/Technical_Plan.html
// Plain base64 of 32 random bytes would be as strong for the receiver, but it has "+"
// and "/", which the console's 62 characters do not include.
func NewEncodingAESKey() string { return randomAlnum(43) }

// randomAlnum is n characters of [A-Za-z0-9] from crypto/rand, each equally likely:
// bytes of 248 and above are dropped so that b%62 has no bias (248 = 4×62).
func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/8+8)
	for len(out) < n {
		_, _ = rand.Read(buf) // never fails (https://pkg.go.dev/crypto/rand#Read)
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// PushURLBase is the address this server is reached at, as set by `serve init
// --url-base` ("" while unset).
func (w *Workspace) PushURLBase(ctx context.Context) (string, error) {
	s, _, err := w.DB.Setting(ctx, SettingPushURLBase)
	return s, err
}

// SetPushURLBase checks and keeps the address this server is reached at. WeChat
// pushes only to http:// on port 80 or https:// on port 443; a path prefix (a
// reverse proxy's) is allowed. It returns the base as kept (no trailing "/").
func (w *Workspace) SetPushURLBase(ctx context.Context, base string) (string, error) {
	base, err := CheckPushURLBase(base)
	if err != nil {
		return "", err
	}
	return base, w.DB.SetSetting(ctx, SettingPushURLBase, base)
}

// CheckPushURLBase validates a push server address and returns it without a trailing "/".
func CheckPushURLBase(base string) (string, error) {
	bad := &api.InputError{Field: "url_base",
		Chinese: "服务器地址应为 https://域名（端口 443）或 http://域名（端口 80），例如 https://kf.example.com；微信只向 80 和 443 端口推送。",
		English: "The server address must be https://DOMAIN (port 443) or http://DOMAIN (port 80), e.g. https://kf.example.com: WeChat pushes only to ports 80 and 443."}
	base = strings.TrimSpace(base)
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", bad
	}
	switch port := u.Port(); {
	case u.Scheme == "https" && (port == "" || port == "443"), u.Scheme == "http" && (port == "" || port == "80"):
	default:
		return "", bad
	}
	return strings.TrimRight(base, "/"), nil // as typed: url.URL.String would escape a Chinese domain
}
