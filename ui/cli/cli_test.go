package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

type harness struct {
	ws             *workspace.Workspace
	stdout, stderr bytes.Buffer
	env            map[string]string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	ws, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return &harness{ws: ws, env: map[string]string{}}
}

// run executes a command line as main does; stdin feeds secrets.
func (h *harness) run(stdin string, args ...string) error {
	h.stdout.Reset()
	h.stderr.Reset()
	g, rest, err := ParseGlobal(args)
	if err != nil {
		return err
	}
	e := &Env{Ctx: context.Background(), WS: h.ws, G: g, Stdin: strings.NewReader(stdin),
		Stdout: &h.stdout, Stderr: &h.stderr, Getenv: func(k string) string { return h.env[k] }}
	return Run(e, rest)
}

func TestAccountAddListRemove(t *testing.T) {
	h := newHarness(t)
	h.env["KFDESK_APPSECRET"] = "secret-from-env"
	if err := h.run("", "account", "add", "茶叶小铺", "--appid", "wx0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	delete(h.env, "KFDESK_APPSECRET")
	if err := h.run("secret-from-stdin\n", "account", "add", "bakery", "--appid", "wxabcdef0123456789", "--kind", "mp"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"茶叶小铺": "secret-from-env", "bakery": "secret-from-stdin"} {
		a, err := h.ws.DB.Account(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := h.ws.Secrets.Get("account-" + strconv.FormatInt(a.ID, 10)); got != want {
			t.Fatalf("%s: secret %q, want %q", name, got, want)
		}
	}

	if err := h.run("", "--json", "account", "list"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", h.stdout.String())
	}
	var got []accountJSON
	for _, l := range lines {
		var a accountJSON
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, a)
	}
	// The account added last is the current one (workspace.AddAccount), as in the window.
	if got[0].Name != "bakery" || got[0].Kind != "mp" || !got[0].Current || got[1].Name != "茶叶小铺" || got[1].Current {
		t.Fatalf("list = %+v", got)
	}
	if strings.Contains(h.stdout.String(), "secret-from") {
		t.Fatal("list shows a secret")
	}

	if err := h.run("", "account", "list"); err != nil || !strings.Contains(h.stdout.String(), "* ") {
		t.Fatalf("table: %v %q", err, h.stdout.String())
	}

	if err := h.run("", "account", "remove", "bakery"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ws.DB.Account(context.Background(), "bakery"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("still there: %v", err)
	}
}

func TestAccountAddRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	err := h.run("s\n", "account", "add", "shop", "--appid", "123")
	var ve *storage.ValidationError
	if !errors.As(err, &ve) || ve.Field != "appid" {
		t.Fatalf("err = %v", err)
	}
	// A secret can never be given as a flag: it would show in `ps` and shell history.
	if err := h.run("", "account", "add", "shop", "--appid", "wx0123456789abcdef", "--secret", "x"); !errors.Is(err, ErrUsage) {
		t.Fatalf("--secret accepted: %v", err)
	}
	if err := h.run("", "account", "add", "shop", "--appid", "wx0123456789abcdef"); err == nil {
		t.Fatal("empty secret accepted")
	}
}

func TestDemoMakesDefaultAccount(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "demo"); err != nil { // twice is fine
		t.Fatal(err)
	}
	a, err := h.ws.CurrentAccount(context.Background(), "")
	if err != nil || !a.Demo {
		t.Fatalf("current = %+v, %v", a, err)
	}
	accs, _ := h.ws.DB.Accounts(context.Background())
	if len(accs) != 1 {
		t.Fatalf("accounts = %+v", accs)
	}
	// The demo account really talks to its in-process fake server.
	if err := h.ws.TestConnection(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownCommandIsAUsageError(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "frobnicate"); !errors.Is(err, ErrUsage) {
		t.Fatalf("err = %v", err)
	}
	for _, args := range [][]string{{"help"}, {"--help"}, {"--json", "-h"}} {
		if err := h.run("", args...); err != nil || !strings.Contains(h.stdout.String(), "account add") {
			t.Fatalf("%v: %v %q", args, err, h.stdout.String())
		}
	}
	// A group's help lists its commands.
	if err := h.run("", "records", "--help"); err != nil || !strings.Contains(h.stdout.String(), "usage: kfdesk records search") ||
		strings.Contains(h.stdout.String(), "account add") {
		t.Fatalf("records --help: %v %q", err, h.stdout.String())
	}
}

func TestParseGlobalAnywhere(t *testing.T) {
	g, rest, err := ParseGlobal([]string{"account", "--data-dir", "/d", "list", "--json", "--account=x"})
	if err != nil || g.DataDir != "/d" || !g.JSON || g.Account != "x" || strings.Join(rest, " ") != "account list" {
		t.Fatalf("%+v %v %v", g, rest, err)
	}
	// A help word after the command is the command's (a value, a search word); in the command's place it is help.
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"--json", "help", "send"}, {"--data-dir", "/d", "--help"}} {
		if g, rest, err := ParseGlobal(args); err != nil || !g.Help || len(rest) != 0 {
			t.Fatalf("%v: %+v %v %v", args, g, rest, err)
		}
	}
	for _, args := range [][]string{{"send", "--text", "help"}, {"records", "search", "help"}, {"send", "--text", "--help"}} {
		if g, rest, err := ParseGlobal(args); err != nil || g.Help || strings.Join(rest, " ") != strings.Join(args, " ") {
			t.Fatalf("%v: %+v %v %v", args, g, rest, err)
		}
	}
	// After "--" nothing is global.
	if g, rest, _ := ParseGlobal([]string{"records", "search", "--", "--json", "-h"}); g.JSON || strings.Join(rest, " ") != "records search -- --json -h" {
		t.Fatalf("%+v %v", g, rest)
	}
	if _, _, err := ParseGlobal([]string{"--account"}); err == nil {
		t.Fatal("missing value accepted")
	}
}

// A search word "help" is searched for, not taken as a request for the usage text.
func TestRecordsSearchForTheWordHelp(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"records", "search", "help"}, {"records", "search", "--", "-h"}, {"records", "search", "--openid", "help"}} {
		if err := h.run("", args...); err != nil || strings.Contains(h.stdout.String(), "usage") {
			t.Fatalf("%v: %v %q", args, err, h.stdout.String())
		}
	}
	if err := h.run("", "records", "search", "--help"); err != nil || !strings.Contains(h.stdout.String(), "usage: kfdesk records search") {
		t.Fatalf("--help: %v %q", err, h.stdout.String())
	}
}
