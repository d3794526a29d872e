package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDesktopKeys(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	front, err := db.AddDesktopKey(ctx, " 前台电脑 ")
	if err != nil {
		t.Fatal(err)
	}
	back, err := db.AddDesktopKey(ctx, "back-office")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(front, DesktopKeyPrefix) || len(front) != len(DesktopKeyPrefix)+43 || front == back {
		t.Fatalf("keys %q %q", front, back)
	}
	// Only the SHA-256 is stored.
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM desktop_keys WHERE hash = ?`, hashDesktopKey(front)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("stored hash: %d %v", n, err)
	}
	for key, want := range map[string]string{front: "前台电脑", back: "back-office"} {
		if name, ok, err := db.CheckDesktopKey(ctx, key); err != nil || !ok || name != want {
			t.Fatalf("check: %q %v %v, want %q", name, ok, err, want)
		}
	}
	flipped := front[:len(front)-1] + string(front[len(front)-1]^1)
	for _, bad := range []string{"", "kfd_", flipped, strings.ToUpper(front), front + "x", front[len(DesktopKeyPrefix):]} {
		if name, ok, err := db.CheckDesktopKey(ctx, bad); err != nil || ok || name != "" {
			t.Fatalf("%q passed: %q %v %v", bad, name, ok, err)
		}
	}
	keys, err := db.DesktopKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].Name != "前台电脑" || keys[0].LastUsed.IsZero() || !keys[0].Revoked.IsZero() {
		t.Fatalf("keys %+v %v", keys, err)
	}

	if _, err := db.AddDesktopKey(ctx, "前台电脑"); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("same name while valid: %v", err)
	}
	if err := db.RevokeDesktopKey(ctx, "前台电脑"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.CheckDesktopKey(ctx, front); ok || err != nil {
		t.Fatalf("revoked key passed: %v", err)
	}
	if err := db.RevokeDesktopKey(ctx, "前台电脑"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked twice: %v", err)
	}
	// The name is free again; the revoked key stays listed and keeps failing.
	again, err := db.AddDesktopKey(ctx, "前台电脑")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.CheckDesktopKey(ctx, front); ok {
		t.Fatal("the old key passed after its name was reused")
	}
	if name, ok, _ := db.CheckDesktopKey(ctx, again); !ok || name != "前台电脑" {
		t.Fatal("the new key failed")
	}
	keys, _ = db.DesktopKeys(ctx)
	if len(keys) != 3 || keys[0].Revoked.IsZero() || !keys[2].Revoked.IsZero() {
		t.Fatalf("keys %+v", keys)
	}
	for _, name := range []string{"", "  ", strings.Repeat("k", 65), "a\nb"} {
		var ve *ValidationError
		if _, err := db.AddDesktopKey(ctx, name); !errors.As(err, &ve) || ve.Field != "name" {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if err := db.RevokeDesktopKey(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}
