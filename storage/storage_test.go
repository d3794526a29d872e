package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"kfdesk/api"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "sub", DBFileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestOpenMigratesAndIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ms, _ := migrations()
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != ms[len(ms)-1].version {
		t.Fatalf("version %d, %v", v, err)
	}
	if _, err := db.AddAccount(ctx, Account{Name: "a", Kind: KindOA, AppID: "wx0123456789abcdef"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path) // again: nothing re-applied, data kept
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("%d migrations recorded, want %d (%v)", n, len(ms), err)
	}
	if accs, _ := db.Accounts(ctx); len(accs) != 1 {
		t.Fatalf("accounts = %+v", accs)
	}
}

func TestNewerSchemaRefusesToOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().Exec("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer KF Desk") {
		t.Fatalf("err = %v", err)
	}
}

func TestWALAndFTS5Trigram(t *testing.T) {
	db := openTemp(t)
	var mode string
	if err := db.Reader().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	w := db.Writer()
	if _, err := w.Exec("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='trigram')"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("INSERT INTO t(body) VALUES ('请问退款多久到账'), ('发货了吗')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM t WHERE t MATCH '"退款多"'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("match: %d %v", n, err)
	}
}

func TestReaderSeesCommittedStateDuringWrite(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if err := db.SetSetting(ctx, "k", "before"); err != nil {
		t.Fatal(err)
	}
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec("UPDATE settings SET value='during' WHERE key='k'"); err != nil {
			return err
		}
		v, _, err := db.Setting(ctx, "k") // reader pool, while the write is open
		if err == nil && v != "before" {
			err = fmt.Errorf("reader saw %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := db.Setting(ctx, "k"); v != "during" {
		t.Fatalf("after commit: %q", v)
	}
}

func TestAccountValidation(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	good := Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"}
	cases := []struct {
		field string
		edit  func(a *Account)
	}{
		{"name", func(a *Account) { a.Name = "  " }},
		{"name", func(a *Account) { a.Name = strings.Repeat("名", 65) }},
		{"kind", func(a *Account) { a.Kind = "corp" }},
		{"appid", func(a *Account) { a.AppID = "wx123" }},
		{"appid", func(a *Account) { a.AppID = "ww0123456789abcdef" }},
		{"token_mode", func(a *Account) { a.TokenMode = "magic" }},
		{"token_url", func(a *Account) { a.TokenMode = TokenURL }},
		{"token_url", func(a *Account) { a.TokenMode = TokenURL; a.TokenURL = "ftp://x" }},
		{"api_base", func(a *Account) { a.APIBase = "api.weixin.qq.com" }},
	}
	for _, c := range cases {
		a := good
		c.edit(&a)
		_, err := db.AddAccount(ctx, a)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || ve.ZH == "" || ve.EN == "" {
			t.Errorf("%+v: err = %v, want a %s error", a, err, c.field)
		}
	}
	if accs, _ := db.Accounts(ctx); len(accs) != 0 {
		t.Fatalf("invalid accounts stored: %+v", accs)
	}
}

func TestAccountCRUD(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a, err := db.AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef", APIBase: "https://relay.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.TokenMode != TokenStable || a.APIBase != "https://relay.example.com" {
		t.Fatalf("added %+v", a)
	}
	if _, err := db.AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindMP, AppID: "wxabcdef0123456789"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	b, err := db.AddAccount(ctx, Account{Name: "bakery", Kind: KindMP, AppID: "wxabcdef0123456789", TokenMode: TokenURL, TokenURL: "https://t.example.com/tok"})
	if err != nil {
		t.Fatal(err)
	}
	accs, err := db.Accounts(ctx)
	if err != nil || len(accs) != 2 || accs[0].Name != "bakery" {
		t.Fatalf("list %+v %v", accs, err)
	}
	b.Name = "茶叶小铺"
	if err := db.UpdateAccount(ctx, b); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("rename onto existing: %v", err)
	}
	b.Name = "面包房"
	b.TokenMode = TokenClassic
	b.TokenURL = ""
	if err := db.UpdateAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := db.Account(ctx, "面包房")
	if err != nil || got.TokenMode != TokenClassic || got.Kind != KindMP || got.CreatedAt.IsZero() {
		t.Fatalf("got %+v %v", got, err)
	}
	if err := db.SaveToken(ctx, b.AppID+":classic", api.Token{Value: "t", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAccount(ctx, "面包房"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := db.LoadToken(ctx, b.AppID+":classic"); tok.Value != "" {
		t.Fatal("tokens of a deleted account kept")
	}
	if _, err := db.Account(ctx, "面包房"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if err := db.DeleteAccount(ctx, "面包房"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := db.UpdateAccount(ctx, Account{ID: 999, Name: "x", Kind: KindOA, AppID: "wx0123456789abcdef"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
}

func TestTokenCacheRoundTrip(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if tok, err := db.LoadToken(ctx, "wx:stable"); err != nil || tok.Value != "" {
		t.Fatalf("empty cache: %+v %v", tok, err)
	}
	exp := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"first", "second"} {
		if err := db.SaveToken(ctx, "wx:stable", api.Token{Value: v, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := db.LoadToken(ctx, "wx:stable")
	if err != nil || tok.Value != "second" || !tok.ExpiresAt.Equal(exp) {
		t.Fatalf("got %+v %v", tok, err)
	}
	var _ api.TokenStore = db
}

func TestSettings(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if _, ok, err := db.Setting(ctx, "language"); ok || err != nil {
		t.Fatalf("unset: %v %v", ok, err)
	}
	_ = db.SetSetting(ctx, "language", "zh")
	_ = db.SetSetting(ctx, "language", "en")
	if v, ok, err := db.Setting(ctx, "language"); !ok || v != "en" || err != nil {
		t.Fatalf("%q %v %v", v, ok, err)
	}
}

func TestConcurrentWritersDoNotLock(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := db.SetSetting(ctx, fmt.Sprintf("k%d-%d", g, i), "v"); err != nil {
					errs <- err
				}
				if _, _, err := db.Setting(ctx, "k0-0"); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	_ = db.Reader().QueryRow("SELECT count(*) FROM settings").Scan(&n)
	if n != 200 {
		t.Fatalf("%d settings, want 200", n)
	}
}

func TestFileSecrets(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "file")
	dir := t.TempDir()
	s, note := OpenSecrets(dir)
	if note != "" || !strings.HasSuffix(s.Where(), "secrets.json") {
		t.Fatalf("store %s, note %q", s.Where(), note)
	}
	if _, err := s.Get("account-1"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := s.Set("account-1", "app-secret-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("account-2", "app-secret-2"); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, "secrets.json"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v %v", fi.Mode(), err)
		}
	}
	s2, _ := OpenSecrets(dir) // reopened: still there
	if v, err := s2.Get("account-1"); err != nil || v != "app-secret-1" {
		t.Fatalf("reopen: %q %v", v, err)
	}
	if err := s2.Delete("account-1"); err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete("account-1"); !errors.Is(err, ErrSecretNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if v, _ := s2.Get("account-2"); v != "app-secret-2" {
		t.Fatal("other secret lost")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".secrets-*"))
	if len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
}

func TestDamagedSecretsFileDoesNotEchoContent(t *testing.T) {
	t.Setenv("KFDESK_SECRETS", "file")
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "secrets.json"), []byte(`{"account-1":"very-secret-valu`), 0o600)
	s, _ := OpenSecrets(dir)
	_, err := s.Get("account-1")
	if err == nil || strings.Contains(err.Error(), "very-secret") {
		t.Fatalf("err = %v", err)
	}
}
