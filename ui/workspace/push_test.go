package workspace

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kfdesk/api"
	"kfdesk/api/push"
	"kfdesk/storage"
)

func addPushAccount(t *testing.T, ws *Workspace, name, appid string) storage.Account {
	t.Helper()
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: name, Kind: storage.KindOA, AppID: appid}, "app-secret")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The generated Token and EncodingAESKey are what the console accepts and what the
// receiver can use (push.New in safe mode, and a message sealed with them opens
// again); they differ every time; a second init keeps them, --new replaces them.
func TestInitPushGeneratesWorkingValuesEachTimeNew(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	shop := addPushAccount(t, ws, "shop", "wx0123456789abcdef")
	bakery := addPushAccount(t, ws, "bakery", "wxabcdef0123456789")

	p, changed, err := ws.InitPush(ctx, shop, PushInit{})
	if err != nil || !changed {
		t.Fatalf("init: %v, changed %v", err, changed)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`).MatchString(p.Token) {
		t.Errorf("token %q is not 3–32 letters or digits", p.Token)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{43}$`).MatchString(p.EncodingAESKey) {
		t.Errorf("EncodingAESKey %q is not 43 letters or digits, as the console makes them", p.EncodingAESKey)
	}
	v, err := push.New(push.Config{Token: p.Token, EncodingAESKey: p.EncodingAESKey, AppID: shop.AppID, RequireEncryption: true})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := v.Encrypt(rand.Reader, []byte("<xml><Content><![CDATA[满意]]></Content></xml>"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Decrypt(sealed); err != nil || string(got) != "<xml><Content><![CDATA[满意]]></Content></xml>" {
		t.Fatalf("round trip: %q, %v", got, err)
	}

	// Many draws: every key opens (push.New decodes as WeChat does, so a last
	// character with low bits set is fine), and every one of the 62 characters occurs.
	seen := map[rune]bool{}
	for range 200 {
		k := NewEncodingAESKey()
		if _, err := push.New(push.Config{Token: NewPushToken(), EncodingAESKey: k, AppID: shop.AppID}); err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		for _, c := range k {
			seen[c] = true
		}
	}
	if len(seen) != 62 {
		t.Errorf("%d distinct characters in 200 keys, want all 62", len(seen))
	}

	other, _, err := ws.InitPush(ctx, bakery, PushInit{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Token == p.Token || other.EncodingAESKey == p.EncodingAESKey {
		t.Fatalf("two accounts got the same value: %+v and %+v", p, other)
	}

	// Run again: nothing changes (what was pasted into the console stays right).
	again, changed, err := ws.InitPush(ctx, shop, PushInit{})
	if err != nil || changed || again != p {
		t.Fatalf("second init: %+v changed %v (%v), want %+v kept", again, changed, err, p)
	}
	if got, err := ws.PushSettings(ctx, shop); err != nil || got != p {
		t.Fatalf("stored %+v, %v; want %+v", got, err, p)
	}
	renewed, changed, err := ws.InitPush(ctx, shop, PushInit{Regenerate: true})
	if err != nil || !changed || renewed.Token == p.Token || renewed.EncodingAESKey == p.EncodingAESKey {
		t.Fatalf("--new: %+v changed %v (%v), old %+v", renewed, changed, err, p)
	}

	// Secrets, so never in the database file.
	db, err := os.ReadFile(filepath.Join(ws.Dir, storage.DBFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{renewed.Token, renewed.EncodingAESKey, other.Token, other.EncodingAESKey} {
		if bytes.Contains(db, []byte(s)) {
			t.Fatalf("%q is in the database file", s)
		}
	}
}

// The console's values are adopted as they are (the official sample key, which
// strict base64 refuses, included), partly too; wrong ones are refused naming the
// field, without quoting the value, and the kept settings stay.
func TestInitPushAdoptsTheConsolesValuesAndRefusesWrongOnes(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	a := addPushAccount(t, ws, "shop", "wx0123456789abcdef")
	const sampleKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" // WXBizMsgCrypt's sample
	p, _, err := ws.InitPush(ctx, a, PushInit{Token: " pamtest\n", EncodingAESKey: sampleKey})
	if err != nil {
		t.Fatal(err)
	}
	if want := (PushSettings{Token: "pamtest", EncodingAESKey: sampleKey}); p != want {
		t.Fatalf("adopted %+v, want %+v", p, want)
	}
	// Only the Token changed in the console: the key is kept.
	if p, _, err = ws.InitPush(ctx, a, PushInit{Token: "NewToken2026"}); err != nil || p.EncodingAESKey != sampleKey || p.Token != "NewToken2026" {
		t.Fatalf("token only: %+v, %v", p, err)
	}

	for _, c := range []struct {
		in    PushInit
		field string
	}{
		{PushInit{Token: "ab"}, "token"},                                // too short
		{PushInit{Token: strings.Repeat("x", 33)}, "token"},             // too long
		{PushInit{Token: "has-dash_and space"}, "token"},                // not letters or digits
		{PushInit{EncodingAESKey: sampleKey[:42]}, "encoding_aes_key"},  // 42 characters
		{PushInit{EncodingAESKey: sampleKey + "="}, "encoding_aes_key"}, // copied with the "="
		{PushInit{EncodingAESKey: "!" + sampleKey[1:]}, "encoding_aes_key"},
	} {
		_, _, err := ws.InitPush(ctx, a, c.in)
		var ie *api.InputError
		if !errors.As(err, &ie) || ie.Field != c.field || ie.Chinese == "" || ie.English == "" {
			t.Errorf("%+v: %v, want a bilingual refusal of %s", c.in, err, c.field)
			continue
		}
		for _, v := range []string{c.in.Token, c.in.EncodingAESKey} {
			if v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("the refusal quotes the value: %v", err)
			}
		}
	}
	if got, err := ws.PushSettings(ctx, a); err != nil || got != p {
		t.Fatalf("after refusals: %+v, %v; want %+v kept", got, err, p)
	}
}

func TestPushSettingsBeforeInitSayWhatToRun(t *testing.T) {
	ws := openTemp(t)
	a := addPushAccount(t, ws, "shop", "wx0123456789abcdef")
	_, err := ws.PushSettings(context.Background(), a)
	if !errors.Is(err, storage.ErrSecretNotFound) || !strings.Contains(err.Error(), "kfdesk serve init --account shop") {
		t.Fatalf("got %v", err)
	}
}

// Removing an account removes its push settings with its AppSecret.
func TestRemoveAccountRemovesItsPushSettings(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	a := addPushAccount(t, ws, "shop", "wx0123456789abcdef")
	keep := addPushAccount(t, ws, "bakery", "wxabcdef0123456789")
	p, _, err := ws.InitPush(ctx, a, PushInit{})
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := ws.InitPush(ctx, keep, PushInit{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.RemoveAccount(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.Secrets.Get(pushKey(a)); !errors.Is(err, storage.ErrSecretNotFound) {
		t.Fatalf("push settings left behind: %v", err)
	}
	file, err := os.ReadFile(filepath.Join(ws.Dir, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(p.Token)) || bytes.Contains(file, []byte(p.EncodingAESKey)) {
		t.Fatal("the removed account's push secrets are still in secrets.json")
	}
	if got, err := ws.PushSettings(ctx, keep); err != nil || got != kept {
		t.Fatalf("the other account's settings: %+v, %v", got, err)
	}
}

func TestPushURLBaseOnlyPorts80And443(t *testing.T) {
	ok := map[string]string{
		"https://kf.example.com":          "https://kf.example.com",
		"https://kf.example.com/":         "https://kf.example.com",
		"https://kf.example.com:443/desk": "https://kf.example.com:443/desk",
		"http://kf.example.com:80":        "http://kf.example.com:80",
		" https://客服.example.cn ":         "https://客服.example.cn",
	}
	for in, want := range ok {
		if got, err := CheckPushURLBase(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "kf.example.com", "https://kf.example.com:8443", "http://kf.example.com:443",
		"ftp://kf.example.com", "https://user:pw@kf.example.com", "https://kf.example.com/?a=1", "https://"} {
		var ie *api.InputError
		if _, err := CheckPushURLBase(in); !errors.As(err, &ie) || ie.Field != "url_base" {
			t.Errorf("%q: %v, want refused", in, err)
		}
	}
	a := storage.Account{AppID: "wx0123456789abcdef"}
	if got := PushURL("https://kf.example.com", a); got != "https://kf.example.com/wx/wx0123456789abcdef" {
		t.Errorf("PushURL %q", got)
	}
}

// Damaged settings (a hand-edited secrets.json) are explained, and --new mends them.
func TestDamagedPushSettingsAreMendedByRegenerate(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	a := addPushAccount(t, ws, "shop", "wx0123456789abcdef")
	if err := ws.Secrets.Set(pushKey(a), `{"token":`); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.PushSettings(ctx, a); err == nil || !strings.Contains(err.Error(), "serve init --new") {
		t.Fatalf("damaged: %v", err)
	}
	if _, _, err := ws.InitPush(ctx, a, PushInit{}); err == nil {
		t.Fatal("init over damaged settings made new ones silently")
	}
	p, changed, err := ws.InitPush(ctx, a, PushInit{Regenerate: true})
	if err != nil || !changed {
		t.Fatalf("--new: %v", err)
	}
	if got, err := ws.PushSettings(ctx, a); err != nil || got != p {
		t.Fatalf("after --new: %+v, %v", got, err)
	}
}
