package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"kfdesk/api"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// Every shape of error KF Desk explains is an api.Bilingual: the window shows it in
// the UI's language only, the command line (Error()) in both.
func TestErrorsShowOnlyTheUILanguage(t *testing.T) {
	ws := func() *workspace.Workspace {
		t.Setenv("KFDESK_SECRETS", "file")
		w, err := workspace.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close() })
		return w
	}()
	ctx := context.Background()
	_, badAppID := ws.AddAccount(ctx, storage.Account{Name: "shop", Kind: storage.KindOA, AppID: "not-an-appid"}, "s")
	_, unknown := ws.CurrentAccount(ctx, "no-such-shop")
	msgErr := (&api.Message{MsgType: api.TypeText, Text: &api.Text{}}).Validate(false)
	cases := map[string]error{
		"WeChat's answer":       &api.Error{Kind: api.KindAPI, Code: 45015},
		"refused input":         api.CheckKFNick(strings.Repeat("长", 40)),
		"refused account field": badAppID,
		"media check":           api.MediaTooLarge(api.MediaImage, 5<<20),
		"message check":         msgErr,
		"one message field":     api.ValidationErrors(msgErr.(api.ValidationErrors))[0],
		"unknown account":       unknown,
		"no account":            workspace.ErrNoAccount,
		"wrapped":               fmt.Errorf("sync: %w", &api.Error{Kind: api.KindAPI, Code: 45009}),
	}
	for name, err := range cases {
		if err == nil {
			t.Fatalf("%s: no error to show", name)
		}
		var b api.Bilingual
		if !errors.As(err, &b) {
			t.Errorf("%s: %T is not api.Bilingual", name, err)
			continue
		}
		SetLanguage("zh")
		zh := errorText(err)
		SetLanguage("en")
		en := errorText(err)
		if !hasHan(zh) || zh != b.ZH() || strings.Contains(zh, b.EN()) {
			t.Errorf("%s in Chinese: %q", name, zh)
		}
		if hasHan(en) || en != b.EN() {
			t.Errorf("%s in English: %q", name, en)
		}
		parts := []api.Bilingual{b}
		if v, ok := err.(api.ValidationErrors); ok { // one "field: 中文 / English" per field
			parts = nil
			for _, fe := range v {
				parts = append(parts, fe)
			}
		}
		for _, p := range parts {
			if line := err.Error(); !strings.Contains(line, p.ZH()) || !strings.Contains(line, p.EN()) {
				t.Errorf("%s on the command line: %q lacks one language", name, line)
			}
		}
	}
	// The account form puts a refused field at its field, in one language.
	if field, text, ok := fieldError(badAppID); !ok || field != "appid" || hasHan(text) {
		t.Errorf("field error %q %q %v", field, text, ok)
	}
	// A wrapped cause stays reachable.
	if !errors.Is(unknown, storage.ErrNotFound) {
		t.Error("the unknown account is not ErrNotFound")
	}
}
