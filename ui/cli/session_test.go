package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

// sessionHarness: an account on the sample fake "teashop" (小美 online with 4
// customers, 阿杰 bound but offline, 2 customers waiting).
func sessionHarness(t *testing.T) (*harness, *wechattest.Server) {
	t.Helper()
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "shop-secret", WeChatID: "teashop", Sample: true})
	t.Cleanup(srv.Close)
	h := newHarness(t)
	h.env["KFDESK_APPSECRET"] = "shop-secret"
	if err := h.run("", "account", "add", "shop", "--appid", "wx0123456789abcdef", "--api-base", srv.URL); err != nil {
		t.Fatal(err)
	}
	return h, srv
}

// jsonLines runs the command with --json and decodes one object per line.
func (h *harness) jsonLines(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	if err := h.run("", append([]string{"--json"}, args...)...); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(h.stdout.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestSessionCommands(t *testing.T) {
	h, _ := sessionHarness(t)
	waiting := h.jsonLines(t, "session", "waiting")
	if len(waiting) != 2 || waiting[0]["openid"] == nil || waiting[0]["latest_time"] == nil {
		t.Fatalf("waiting %v", waiting)
	}
	cust := waiting[0]["openid"].(string)
	if err := h.run("", "session", "take", "ajie@teashop", cust); !api.IsCode(err, 65415) || !strings.Contains(err.Error(), "客服小助手") {
		t.Fatalf("take by an offline account: %v", err)
	}
	if err := h.run("", "session", "take", "xiaomei@teashop", cust); err != nil {
		t.Fatal(err)
	}
	if got := h.stderr.String(); got != "xiaomei@teashop now serves "+cust+"\n" {
		t.Fatalf("stderr %q", got)
	}
	mine := h.jsonLines(t, "session", "list", "--kf", "xiaomei@teashop")
	if len(mine) != 5 || mine[4]["openid"] != cust || mine[4]["kf_account"] != "xiaomei@teashop" {
		t.Fatalf("list %v", mine)
	}
	if len(h.jsonLines(t, "session", "waiting")) != 1 {
		t.Fatal("the taken customer still waits")
	}

	// Chinese when the system speaks it; a table of every account's sessions.
	h.env["LANG"] = "zh_CN.UTF-8"
	if err := h.run("", "session", "list"); err != nil {
		t.Fatal(err)
	}
	if out := h.stdout.String(); !strings.Contains(out, "接入时间") || strings.Count(out, "xiaomei@teashop") != 5 {
		t.Fatalf("table:\n%s", out)
	}
	// The list taught the OA WeChat ID: a bare prefix names the KF account.
	if err := h.run("", "session", "close", "xiaomei", cust); err != nil || h.stderr.String() != "已关闭 xiaomei@teashop 与 "+cust+" 的会话\n" {
		t.Fatalf("close: %v %q", err, h.stderr.String())
	}
	if err := h.run("", "session", "close", "xiaomei@teashop", cust); !api.IsCode(err, 65413) {
		t.Fatalf("second close: %v", err)
	}
	if err := h.run("", "session", "list", "--kf", "nobody@teashop"); err == nil || !strings.Contains(err.Error(), "nobody@teashop") {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestSessionTransferCommand(t *testing.T) {
	h, srv := sessionHarness(t)
	cust := h.jsonLines(t, "session", "list", "--kf", "xiaomei@teashop")[0]["openid"].(string)
	if err := h.run("", "session", "transfer", cust, "--to", "ajie@teashop"); !api.IsCode(err, 65415) {
		t.Fatalf("to an offline account: %v", err)
	}
	srv.SetKFStatus("ajie@teashop", 1)
	if err := h.run("", "session", "transfer", cust, "--to", "ajie@teashop"); err != nil {
		t.Fatal(err)
	}
	jie := h.jsonLines(t, "session", "list", "--kf", "ajie@teashop")
	if len(jie) != 1 || jie[0]["openid"] != cust {
		t.Fatalf("ajie serves %v", jie)
	}
	if err := h.run("", "session", "transfer", cust); err == nil || !strings.Contains(err.Error(), "--to KF") {
		t.Fatalf("no --to: %v", err)
	}
}
