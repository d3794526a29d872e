package cli

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"kfdesk/api"
	"kfdesk/api/push"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func (h *harness) addAccount(t *testing.T, name, appid, kind string) storage.Account {
	t.Helper()
	h.env["KFDESK_APPSECRET"] = "app-secret"
	defer delete(h.env, "KFDESK_APPSECRET")
	if err := h.run("", "account", "add", name, "--appid", appid, "--kind", kind); err != nil {
		t.Fatal(err)
	}
	a, err := h.ws.DB.Account(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (h *harness) pushSettings(t *testing.T, a storage.Account) workspace.PushSettings {
	t.Helper()
	p, err := h.ws.PushSettings(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An Official Account: serve init keeps new values and prints, on standard output
// only, every field to paste, the mode, and the warning; serve show prints it again;
// --json gives the fields to a script.
func TestServeInitPrintsWhatToPasteIntoTheConsole(t *testing.T) {
	h := newHarness(t)
	a := h.addAccount(t, "shop", "wx0123456789abcdef", "oa")
	if err := h.run("", "serve", "init", "--account", "shop", "--url-base", "https://kf.example.com/"); err != nil {
		t.Fatal(err)
	}
	p := h.pushSettings(t, a)
	if _, err := push.New(push.Config{Token: p.Token, EncodingAESKey: p.EncodingAESKey, AppID: a.AppID}); err != nil {
		t.Fatal(err)
	}
	out, errOut := h.stdout.String(), h.stderr.String()
	for _, want := range []string{
		"设置与开发 → 基本配置 → 服务器配置",
		"https://kf.example.com/wx/wx0123456789abcdef",
		"Token（令牌）", p.Token, p.EncodingAESKey,
		"安全模式", "自动回复和自定义菜单将失效", "turns off the console's own auto-replies and custom menu",
		"kfdesk serve", // the receiver must run before submitting
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "数据格式") {
		t.Errorf("an Official Account pushes XML only, yet a data format is offered:\n%s", out)
	}
	if strings.Contains(errOut, p.Token) || strings.Contains(errOut, p.EncodingAESKey) {
		t.Errorf("a secret on stderr: %q", errOut)
	}

	if err := h.run("", "serve", "show", "--account", "shop"); err != nil {
		t.Fatal(err)
	}
	if h.stdout.String() != out {
		t.Errorf("serve show printed\n%s\nwant as serve init\n%s", h.stdout.String(), out)
	}

	if err := h.run("", "--json", "serve", "show", "--account", "shop"); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(h.stdout.Bytes(), &got); err != nil {
		t.Fatalf("%q: %v", h.stdout.String(), err)
	}
	want := map[string]string{"path": "/wx/wx0123456789abcdef", "url": "https://kf.example.com/wx/wx0123456789abcdef",
		"token": p.Token, "encoding_aes_key": p.EncodingAESKey, "mode": "safe"}
	if len(got) != len(want) {
		t.Errorf("JSON %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON %s = %q, want %q", k, got[k], v)
		}
	}

	// Again: the same values (the console stays right); --new makes new ones.
	if err := h.run("", "serve", "init"); err != nil || h.pushSettings(t, a) != p {
		t.Fatalf("second init changed the settings (%v)", err)
	}
	if err := h.run("", "serve", "init", "--new"); err != nil {
		t.Fatal(err)
	}
	if n := h.pushSettings(t, a); n.Token == p.Token || n.EncodingAESKey == p.EncodingAESKey {
		t.Fatalf("--new kept %+v", n)
	}
}

// A Mini Program: its console page, and the data format to choose.
func TestServeInitForAMiniProgramNamesItsPageAndTheDataFormat(t *testing.T) {
	h := newHarness(t)
	h.addAccount(t, "bakery", "wxabcdef0123456789", "mp")
	if err := h.run("", "serve", "init"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"开发管理 → 开发设置 → 消息推送", "数据格式 / Data format", "JSON",
		"https://你的域名 your-domain/wx/wxabcdef0123456789", "--url-base"} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, h.stdout.String())
		}
	}
	if err := h.run("", "--json", "serve", "show"); err != nil {
		t.Fatal(err)
	}
	var got pushJSON
	if err := json.Unmarshal(h.stdout.Bytes(), &got); err != nil || got.Format != "json" || got.URL != "" || got.Mode != "safe" {
		t.Fatalf("%q: %+v, %v", h.stdout.String(), got, err)
	}
}

// The console's own values come from the environment or standard input (one line
// each), never needing the command line; a value given there works with a warning
// that does not repeat it; wrong ones are refused in both languages.
func TestServeInitAdoptsTheConsolesValues(t *testing.T) {
	h := newHarness(t)
	a := h.addAccount(t, "shop", "wx0123456789abcdef", "oa")
	const key1 = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	const key2 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"

	h.env[envPushToken], h.env[envPushAESKey] = "FromEnv123", key1
	if err := h.run("", "serve", "init"); err != nil {
		t.Fatal(err)
	}
	delete(h.env, envPushToken)
	delete(h.env, envPushAESKey)
	if p := h.pushSettings(t, a); p != (workspace.PushSettings{Token: "FromEnv123", EncodingAESKey: key1}) {
		t.Fatalf("from the environment: %+v", p)
	}

	if err := h.run("FromStdin456\n"+key2+"\n", "serve", "init", "--token", "-", "--aes-key", "-"); err != nil {
		t.Fatal(err)
	}
	if p := h.pushSettings(t, a); p != (workspace.PushSettings{Token: "FromStdin456", EncodingAESKey: key2}) {
		t.Fatalf("from standard input: %+v", p)
	}
	if strings.Contains(h.stderr.String(), "warning") {
		t.Errorf("a warning for values from standard input: %q", h.stderr.String())
	}

	if err := h.run("", "serve", "init", "--token", "OnTheLine789"); err != nil {
		t.Fatal(err)
	}
	if p := h.pushSettings(t, a); p.Token != "OnTheLine789" || p.EncodingAESKey != key2 {
		t.Fatalf("from the command line: %+v", p)
	}
	if errOut := h.stderr.String(); !strings.Contains(errOut, "shows in `ps` and shell history") || strings.Contains(errOut, "OnTheLine789") {
		t.Errorf("stderr %q: want the warning, without the value", errOut)
	}

	for _, c := range []struct{ stdin, field string }{
		{"to\n" + key2 + "\n", "token"},
		{"Good123\n" + key2 + "=\n", "encoding_aes_key"},
	} {
		err := h.run(c.stdin, "serve", "init", "--token", "-", "--aes-key", "-")
		var ie *api.InputError
		if !errors.As(err, &ie) || ie.Field != c.field || errors.Is(err, ErrUsage) {
			t.Errorf("stdin %q: %v, want the %s refused", c.stdin, err, c.field)
		}
		if err != nil && strings.Contains(err.Error(), key2) {
			t.Errorf("the refusal quotes the key: %v", err)
		}
	}
	if err := h.run("\n", "serve", "init", "--token", "-"); !errors.Is(err, ErrUsage) {
		t.Errorf("an empty line: %v", err)
	}
	if p := h.pushSettings(t, a); p.Token != "OnTheLine789" || p.EncodingAESKey != key2 {
		t.Fatalf("refused input changed the settings: %+v", p)
	}
	if err := h.run("", "serve", "init", "--url-base", "https://kf.example.com:8443"); err == nil {
		t.Fatal("port 8443 accepted: WeChat pushes only to 80 and 443")
	}
	if base, _ := h.ws.PushURLBase(context.Background()); base != "" {
		t.Fatalf("a refused base was kept: %q", base)
	}
}

// Before serve init, serve show says what to run; after account remove, the settings are gone.
func TestServeShowBeforeInitAndAfterRemove(t *testing.T) {
	h := newHarness(t)
	h.addAccount(t, "shop", "wx0123456789abcdef", "oa")
	if err := h.run("", "serve", "show"); err == nil || !strings.Contains(err.Error(), "kfdesk serve init --account shop") {
		t.Fatalf("before init: %v", err)
	}
	if err := h.run("", "serve", "init"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "account", "remove", "shop"); err != nil {
		t.Fatal(err)
	}
	a := h.addAccount(t, "shop", "wx0123456789abcdef", "oa")
	if _, err := h.ws.PushSettings(context.Background(), a); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("the removed account's push settings: %v", err)
	}
}
