package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// storePush stores one push for account a as the receiver would (test-only direct write).
func (h *harness) storePush(t *testing.T, a storage.Account, p storage.Push) int64 {
	t.Helper()
	if p.Raw == nil {
		p.Raw = []byte("<xml><RawOnly>raw body marker</RawOnly></xml>")
	}
	p.BodyFormat = storage.FormatXML
	id, _, err := h.ws.DB.StorePush(context.Background(), a.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// `inbox list` prints what the server received, one per line, oldest first, in
// Beijing time, with the saved media's path; --json one object per line with the
// documented fields; --since leaves out what came before. Never the raw body.
func TestInboxList(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.env["KFDESK_APPSECRET"] = "s"
	if err := h.run("", "account", "add", "茶叶小铺", "--appid", "wx0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	a, _ := h.ws.DB.Account(ctx, "茶叶小铺")
	at := time.Date(2026, 12, 1, 1, 2, 3, 0, time.UTC) // 09:02:03 in Beijing
	h.storePush(t, a, storage.Push{CreateTime: at, OpenID: "oA", MsgType: "text", MsgID: "7260000000000000001", Content: "退款\n到账了吗？"})
	img := h.storePush(t, a, storage.Push{CreateTime: at.Add(time.Second), OpenID: "oA", MsgType: "image", MsgID: "2", MediaID: "m1"})
	if err := h.ws.DB.SetPushMedia(ctx, img, "/srv/kfdesk/media/1/2.jpg", 10); err != nil {
		t.Fatal(err)
	}
	h.storePush(t, a, storage.Push{CreateTime: at.Add(2 * time.Second), OpenID: "oB", MsgType: "text", MsgID: "3", Content: "满意", MenuID: "101"})
	// The last one arrives a moment later, for --since.
	for start := clock.Now(); clock.Now().UnixMilli() == start.UnixMilli(); {
	}
	cut := clock.Now()
	for clock.Now().UnixMilli() == cut.UnixMilli() {
	}
	h.storePush(t, a, storage.Push{CreateTime: at.Add(3 * time.Second), OpenID: "oB", MsgType: "event", Event: "CLICK", EventKey: "MENU_HELP"})

	if err := h.run("", "inbox", "list"); err != nil {
		t.Fatal(err)
	}
	out := h.stdout.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		`2026-12-01 09:02:03  oA  text  退款\n到账了吗？`,
		"2026-12-01 09:02:04  oA  image  /srv/kfdesk/media/1/2.jpg",
		"2026-12-01 09:02:05  oB  text  chose 满意 (101)",
		"2026-12-01 09:02:06  oB  event/CLICK  MENU_HELP",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("inbox list:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	if err := h.run("", "--json", "inbox", "list", "--account", "茶叶小铺"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.stdout.String(), "raw body marker") {
		t.Fatal("the raw body is printed")
	}
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(h.stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		for _, k := range []string{"time", "openid", "msgtype", "event", "text", "msgid", "menu_id", "media"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%q has no %s", l, k)
			}
		}
		got = append(got, m)
	}
	if len(got) != 4 || got[0]["time"] != "2026-12-01T09:02:03+08:00" || got[0]["msgid"] != "7260000000000000001" ||
		got[0]["text"] != "退款\n到账了吗？" || got[1]["media"] != "/srv/kfdesk/media/1/2.jpg" || got[2]["menu_id"] != "101" || got[3]["event"] != "CLICK" {
		t.Fatalf("--json: %v", got)
	}
	if err := h.run("", "inbox", "list", "--since", cut.Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(h.stdout.String()); s != want[3] {
		t.Fatalf("--since %s: %q", cut.Format(time.RFC3339Nano), s)
	}
	if err := h.run("", "inbox", "list", "--since", workspace.FormatTime(clock.Now().Add(24*time.Hour), "2006-01-02")); err != nil ||
		h.stdout.Len() != 0 || !strings.Contains(h.stderr.String(), "nothing received") {
		t.Fatalf("--since tomorrow: %v %q %q", err, h.stdout.String(), h.stderr.String())
	}
	var ve *storage.ValidationError
	if err := h.run("", "inbox", "list", "--since", "last week"); !errorsAs(err, &ve) {
		t.Fatalf("--since 'last week': %v", err)
	}
}
