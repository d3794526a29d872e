package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

var _ api.TokenStore = (*DB)(nil)

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
		{"kind", func(a *Account) { a.Kind = "" }},
		{"appid", func(a *Account) { a.AppID = "wx123" }},
		{"appid", func(a *Account) { a.AppID = "ww0123456789abcdef" }},
		{"appid", func(a *Account) { a.AppID = "wx0123456789abcde-" }},
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
		if !errors.As(err, &ve) || ve.Field != c.field || ve.ZH() == "" || ve.EN() == "" {
			t.Errorf("%+v: err = %v, want a %s error", a, err, c.field)
		}
	}
	if accs, _ := db.Accounts(ctx); len(accs) != 0 {
		t.Fatalf("invalid accounts stored: %+v", accs)
	}
	// The limits themselves are allowed.
	ok := good
	ok.Name = strings.Repeat("名", 64)
	if _, err := db.AddAccount(ctx, ok); err != nil {
		t.Fatalf("64-rune name: %v", err)
	}
	// UpdateAccount validates too.
	a, _ := db.Account(ctx, ok.Name)
	a.AppID = "nope"
	var ve *ValidationError
	if err := db.UpdateAccount(ctx, a); !errors.As(err, &ve) || ve.Field != "appid" {
		t.Fatalf("update: %v", err)
	}
}

func TestAccountCRUD(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	before := clock.Now().Add(-time.Second)
	a, err := db.AddAccount(ctx, Account{Name: " 茶叶小铺 ", Kind: KindOA, AppID: "wx0123456789abcdef", APIBase: "https://relay.example.com/", Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Name != "茶叶小铺" || a.TokenMode != TokenStable || a.APIBase != "https://relay.example.com" {
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
	if err != nil || len(accs) != 2 || accs[0].Name != "bakery" || accs[1].Name != "茶叶小铺" {
		t.Fatalf("list %+v %v", accs, err)
	}
	got, err := db.Account(ctx, "茶叶小铺")
	if err != nil || !got.Demo || got.ID != a.ID || got.CreatedAt.Before(before) || got.CreatedAt.After(clock.Now()) {
		t.Fatalf("got %+v %v", got, err)
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
	got, err = db.Account(ctx, "面包房")
	if err != nil || got.TokenMode != TokenClassic || got.Kind != KindMP || got.TokenURL != "" {
		t.Fatalf("got %+v %v", got, err)
	}
	if _, err := db.Account(ctx, "bakery"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name: %v", err)
	}

	exp := clock.Now().Add(time.Hour)
	for _, k := range []string{b.AppID + ":classic", b.AppID + ":stable", a.AppID + ":stable"} {
		if err := db.SaveToken(ctx, k, api.Token{Value: "t-" + k, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteAccount(ctx, "面包房"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{b.AppID + ":classic", b.AppID + ":stable"} {
		if tok, _ := db.LoadToken(ctx, k); tok.Value != "" {
			t.Fatalf("token %s of a deleted account kept", k)
		}
	}
	if tok, _ := db.LoadToken(ctx, a.AppID+":stable"); tok.Value == "" {
		t.Fatal("another account's token was deleted")
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

// Two names for one AppID share its tokens: deleting one keeps them for the other.
func TestDeleteAccountKeepsTokensOfSameAppID(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	for _, n := range []string{"one", "two"} {
		if _, err := db.AddAccount(ctx, Account{Name: n, Kind: KindOA, AppID: "wx0123456789abcdef"}); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.SaveToken(ctx, "wx0123456789abcdef:stable", api.Token{Value: "shared", ExpiresAt: clock.Now().Add(time.Hour)})
	if err := db.DeleteAccount(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := db.LoadToken(ctx, "wx0123456789abcdef:stable"); tok.Value != "shared" {
		t.Fatal("token of the remaining account deleted")
	}
}

func TestTokenCacheRoundTrip(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	const key = "wx0123456789abcdef:stable"
	if tok, err := db.LoadToken(ctx, key); err != nil || tok != (api.Token{}) {
		t.Fatalf("empty cache: %+v %v", tok, err)
	}
	// Stored as unix seconds: sub-second parts go, the second itself survives.
	exp := time.Date(2026, 11, 23, 12, 0, 0, 999_999_999, time.FixedZone("CST", 8*3600))
	for _, v := range []string{"first", "second"} {
		if err := db.SaveToken(ctx, key, api.Token{Value: v, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := db.LoadToken(ctx, key)
	if err != nil || tok.Value != "second" || !tok.ExpiresAt.Equal(exp.Truncate(time.Second)) {
		t.Fatalf("got %+v %v, want expiry %v", tok, err, exp.Truncate(time.Second))
	}
	// An expired token comes back as it is; judging it is the token source's job.
	past := clock.Now().Add(-time.Hour).Truncate(time.Second)
	_ = db.SaveToken(ctx, key, api.Token{Value: "old", ExpiresAt: past})
	if tok, _ := db.LoadToken(ctx, key); tok.Value != "old" || !tok.ExpiresAt.Equal(past) {
		t.Fatalf("expired: %+v", tok)
	}
	if err := db.DeleteToken(ctx, key); err != nil {
		t.Fatal(err)
	}
	if tok, err := db.LoadToken(ctx, key); err != nil || tok.Value != "" {
		t.Fatalf("after delete: %+v %v", tok, err)
	}
}

func TestSettings(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	if _, ok, err := db.Setting(ctx, "language"); ok || err != nil {
		t.Fatalf("unset: %v %v", ok, err)
	}
	for _, v := range []string{"zh", "en", ""} {
		if err := db.SetSetting(ctx, "language", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := db.Setting(ctx, "language"); !ok || got != v || err != nil {
			t.Fatalf("%q %v %v, want %q", got, ok, err, v)
		}
	}
}
