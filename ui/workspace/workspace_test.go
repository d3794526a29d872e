package workspace

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

func openTemp(t *testing.T) *Workspace {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	ws, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func TestAccountLifecycleKeepsSecretsOutOfTheDatabase(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "first-secret"})
	defer srv.Close()

	a, err := ws.AddAccount(ctx, storage.Account{Name: "shop", Kind: storage.KindOA, AppID: "wx0123456789abcdef", APIBase: srv.URL}, "first-secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.TestConnection(ctx, a); err != nil {
		t.Fatal(err)
	}
	var hits int
	if err := ws.DB.Reader().QueryRow(`SELECT count(*) FROM accounts WHERE name LIKE '%secret%' OR appid LIKE '%secret%' OR api_base LIKE '%secret%'`).Scan(&hits); err != nil || hits != 0 {
		t.Fatalf("secret in the accounts table (%d, %v)", hits, err)
	}
	if tok, _ := ws.DB.LoadToken(ctx, "wx0123456789abcdef:stable"); tok.Value == "" {
		t.Fatal("token not cached")
	}

	// A wrong new secret: the cached client and token are dropped, so the change shows at once.
	if err := ws.UpdateAccount(ctx, a, "second-secret"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := ws.DB.LoadToken(ctx, "wx0123456789abcdef:stable"); tok.Value != "" {
		t.Fatal("token of the old settings kept")
	}
	err = ws.TestConnection(ctx, a)
	if !api.IsCode(err, 40125, 40001) {
		t.Fatalf("with a wrong secret: %v", err)
	}

	if err := ws.RemoveAccount(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Secrets.Get(secretKey(a)); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("secret left behind: %v", err)
	}
}

func TestAddAccountNeedsASecretUnlessTokenURL(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	_, err := ws.AddAccount(ctx, storage.Account{Name: "x", Kind: storage.KindOA, AppID: "wx0123456789abcdef"}, "")
	var ve *storage.ValidationError
	if !errors.As(err, &ve) || ve.Field != "secret" {
		t.Fatalf("err = %v", err)
	}
	if _, err := ws.AddAccount(ctx, storage.Account{Name: "x", Kind: storage.KindOA, AppID: "wx0123456789abcdef",
		TokenMode: storage.TokenURL, TokenURL: "https://token.example.com/t"}, ""); err != nil {
		t.Fatal(err)
	}
}

func TestCurrentAccount(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	if _, err := ws.CurrentAccount(ctx, ""); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("empty: %v", err)
	}
	demo, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ws.EnsureDemo(ctx); again.ID != demo.ID {
		t.Fatal("a second demo account was made")
	}
	if _, err := ws.AddAccount(ctx, storage.Account{Name: "a-shop", Kind: storage.KindOA, AppID: "wx0123456789abcdef"}, "s"); err != nil {
		t.Fatal(err)
	}
	if cur, _ := ws.CurrentAccount(ctx, ""); cur.Name != "a-shop" { // the account just added
		t.Fatalf("current = %q", cur.Name)
	}
	if err := ws.UseAccount(ctx, DemoName); err != nil {
		t.Fatal(err)
	}
	if cur, _ := ws.CurrentAccount(ctx, ""); !cur.Demo {
		t.Fatalf("current = %q", cur.Name)
	}
	if _, err := ws.AddAccount(ctx, storage.Account{Name: "b-shop", Kind: storage.KindOA, AppID: "wxabcdef0123456789"}, "s"); err != nil {
		t.Fatal(err)
	}
	if cur, _ := ws.CurrentAccount(ctx, ""); cur.Name != "b-shop" { // adding makes it current, whatever was chosen
		t.Fatalf("current after adding b-shop = %q", cur.Name)
	}
	if err := ws.UseAccount(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("use unknown: %v", err)
	}
	if cur, _ := ws.CurrentAccount(ctx, ""); cur.Name != "b-shop" {
		t.Fatalf("a failed use changed the current account to %q", cur.Name)
	}
	if _, err := ws.CurrentAccount(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestDemoAccountWorksWithoutCredentials(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	demo, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ws.client(ctx, demo)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if c2, _ := ws.client(ctx, demo); c2 != c {
		t.Fatal("client not reused")
	}
}

// One time zone for every printed and exported time, named in the CSV header.
func TestExportNamesTheTimeZone(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	demo, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.SyncRecords(ctx, demo, SyncRequest{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		zh     bool
		header string
	}{{true, "\uFEFF时间（北京时间）,OpenID,客服,方向,操作码,内容\r\n"}, {false, "\uFEFFTime (Beijing time UTC+8),OpenID,Worker,Direction,OperCode,Text\r\n"}} {
		path := filepath.Join(t.TempDir(), "out.csv")
		n, err := ws.ExportRecords(ctx, demo, path, storage.RecordFilter{}, c.zh, nil)
		if err != nil || n == 0 {
			t.Fatalf("%d %v", n, err)
		}
		b, _ := os.ReadFile(path)
		if !bytes.HasPrefix(b, []byte(c.header)) {
			t.Fatalf("header %q, want %q", b[:min(len(b), 80)], c.header)
		}
		rows := strings.Split(string(b), "\r\n")
		cells := strings.Split(rows[1], ",")
		if _, err := time.ParseInLocation("2006-01-02 15:04:05", cells[0], storage.Beijing); err != nil {
			t.Fatalf("time cell %q: %v", cells[0], err)
		}
	}
	if got := FormatTime(time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC), "2006-01-02 15:04"); got != "2026-12-01 01:30" {
		t.Fatalf("17:30 UTC shown as %s, want 2026-12-01 01:30 (Beijing)", got)
	}
}
