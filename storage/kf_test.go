package storage

import (
	"context"
	"testing"
)

func TestOAWeChatIDIsPerAccountAndGoesWithIt(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a, err := db.AddAccount(ctx, Account{Name: "tea", Kind: KindOA, AppID: "wx0123456789abcdef", TokenMode: TokenStable})
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.AddAccount(ctx, Account{Name: "bakery", Kind: KindOA, AppID: "wxabcdef0123456789", TokenMode: TokenStable})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := db.OAWeChatID(ctx, a.ID); err != nil || id != "" {
		t.Fatalf("before: %q %v", id, err)
	}
	for _, v := range []string{"teashop_old", "teashop"} {
		if err := db.SetOAWeChatID(ctx, a.ID, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetOAWeChatID(ctx, b.ID, "bakery88"); err != nil {
		t.Fatal(err)
	}
	if id, _ := db.OAWeChatID(ctx, a.ID); id != "teashop" {
		t.Fatalf("a: %q", id)
	}
	if err := db.DeleteAccount(ctx, "tea"); err != nil {
		t.Fatal(err)
	}
	if id, _ := db.OAWeChatID(ctx, a.ID); id != "" {
		t.Fatalf("kept after the account was deleted: %q", id)
	}
	if id, _ := db.OAWeChatID(ctx, b.ID); id != "bakery88" {
		t.Fatalf("b: %q", id)
	}
}
