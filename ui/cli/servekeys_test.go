package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// `serve key add` prints a new key once; `serve key list` shows names and dates but
// never a key; `serve key revoke` makes it fail storage.CheckDesktopKey. No key in
// any log line or on stderr.
func TestServeKeyAddListRevoke(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	if err := h.run("", "serve", "key", "add", "前台电脑"); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(h.stdout.String())
	if !strings.HasPrefix(key, storage.DesktopKeyPrefix) || strings.Contains(key, "\n") {
		t.Fatalf("add printed %q", h.stdout.String())
	}
	if !strings.Contains(h.stderr.String(), "shown only now") || !strings.Contains(h.stderr.String(), "只显示这一次") {
		t.Errorf("add does not say the key is shown only now: %q", h.stderr.String())
	}
	if strings.Contains(h.stderr.String(), key) {
		t.Error("the key is on stderr")
	}
	if err := h.run("", "--json", "serve", "key", "add", "仓库"); err != nil {
		t.Fatal(err)
	}
	var added struct{ Name, Key string }
	if err := json.Unmarshal(h.stdout.Bytes(), &added); err != nil || added.Name != "仓库" || !strings.HasPrefix(added.Key, storage.DesktopKeyPrefix) {
		t.Fatalf("add --json: %q %v", h.stdout.String(), err)
	}
	if name, ok, err := h.ws.DB.CheckDesktopKey(ctx, key); err != nil || !ok || name != "前台电脑" {
		t.Fatalf("the new key does not pass: %q %v %v", name, ok, err)
	}
	if err := h.run("", "serve", "key", "add", "前台电脑"); err == nil {
		t.Fatal("a second valid key with the same name")
	}

	if err := h.run("", "serve", "key", "revoke", "前台电脑"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := h.ws.DB.CheckDesktopKey(ctx, key); err != nil || ok {
		t.Fatalf("a revoked key still passes: %v %v", ok, err)
	}
	if err := h.run("", "serve", "key", "revoke", "前台电脑"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking it again: %v", err)
	}

	if err := h.run("", "serve", "key", "list"); err != nil {
		t.Fatal(err)
	}
	table := h.stdout.String()
	if !strings.Contains(table, "前台电脑") || !strings.Contains(table, "仓库") || strings.Count(table, "\n") != 3 {
		t.Fatalf("list:\n%s", table)
	}
	if err := h.run("", "--json", "serve", "key", "list"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	var front struct {
		Name, Created, Revoked string
		LastUsed               string `json:"last_used"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &front); err != nil || len(lines) != 2 || front.Name != "前台电脑" ||
		front.Created == "" || front.Revoked == "" || front.LastUsed == "" {
		t.Fatalf("list --json: %q %v", h.stdout.String(), err)
	}
	for _, out := range []string{table, h.stdout.String(), h.stderr.String(), logs.String()} {
		if strings.Contains(out, key) || strings.Contains(out, added.Key) {
			t.Fatalf("a key is shown: %q", out)
		}
	}
	if err := h.run("", "serve", "key", "add"); !errors.Is(err, ErrUsage) {
		t.Fatalf("add without a name: %v", err)
	}
}

// Once the server's address is known, a new key comes with a connection code that
// holds the address and the key, for the desktop to paste.
func TestServeKeyAddPrintsAConnectionCode(t *testing.T) {
	h, _ := shopHarness(t)
	if err := h.run("", "serve", "init", "--url-base", "https://kf.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "serve", "key", "add", "前台电脑"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "connection code / 连接码: kfdesk1.") {
		t.Fatalf("printed %q", lines)
	}
	c, err := workspace.ParseConnectionCode(strings.TrimPrefix(lines[1], "connection code / 连接码: "))
	if err != nil || c.URL != "https://kf.example.com" || c.Key != lines[0] {
		t.Fatalf("the code reads %+v %v", c, err)
	}
	if name, ok, err := h.ws.CheckDesktopKey(context.Background(), c.Key); err != nil || !ok || name != "前台电脑" {
		t.Fatalf("the code's key does not pass: %q %v %v", name, ok, err)
	}
}
