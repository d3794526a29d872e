package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kfdesk/api"
	"kfdesk/api/wechattest"
)

// kfJSON runs `kf list --json` and decodes one object per line.
func (h *harness) kfJSON(t *testing.T) map[string]map[string]any {
	t.Helper()
	if err := h.run("", "--json", "kf", "list"); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(h.stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out[m["kf_account"].(string)] = m
	}
	return out
}

func TestKFCommandsOnTheDemoAccount(t *testing.T) {
	h := newHarness(t)
	if err := h.run("", "demo"); err != nil {
		t.Fatal(err)
	}
	list := h.kfJSON(t)
	mei, ok := list["xiaomei@kfdesk_demo"]
	if len(list) != 4 || !ok {
		t.Fatalf("list = %v", list)
	}
	for _, field := range []string{"kf_account", "kf_nick", "kf_id", "kf_headimgurl", "kf_wx", "invite_wx", "invite_expire_time", "invite_status", "status", "accepted_case"} {
		if _, ok := mei[field]; !ok {
			t.Errorf("no %q in %v", field, mei)
		}
	}
	if mei["kf_nick"] != "小美" || mei["kf_id"] != "1001" || mei["kf_wx"] != "xiaomei_cy" || mei["status"] != 1.0 {
		t.Fatalf("xiaomei = %v", mei)
	}

	// A bare prefix is completed with the OA WeChat ID learnt from the list.
	if err := h.run("", "kf", "add", "xiaoyu", "--nickname", "小雨"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "kf", "update", "xiaoyu@kfdesk_demo", "--nickname", "小雨 Rain"); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "kf", "invite", "xiaoyu", "--wx", "rain_2024"); err != nil {
		t.Fatal(err)
	}
	yu := h.kfJSON(t)["xiaoyu@kfdesk_demo"]
	if yu["kf_nick"] != "小雨 Rain" || yu["invite_wx"] != "rain_2024" || yu["invite_status"] != "waiting" {
		t.Fatalf("xiaoyu = %v", yu)
	}

	// Avatar: a PNG file becomes the account's 640×640 JPEG avatar.
	file := filepath.Join(t.TempDir(), "头像.png")
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 320, 200)))
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "kf", "avatar", "xiaoyu", file); err != nil {
		t.Fatal(err)
	}
	url, _ := h.kfJSON(t)["xiaoyu@kfdesk_demo"]["kf_headimgurl"].(string)
	resp, err := http.Get(url) // the demo's fake WeChat on 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	img, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 640 || cfg.Height != 640 {
		t.Fatalf("avatar %d×%d %v", cfg.Width, cfg.Height, err)
	}

	if err := h.run("", "kf", "delete", "xiaoyu"); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.kfJSON(t)["xiaoyu@kfdesk_demo"]; ok {
		t.Fatal("not deleted")
	}
	if err := h.run("", "kf", "list"); err != nil || !strings.Contains(h.stdout.String(), "waiting lili_tea88 until") {
		t.Fatalf("table: %v\n%s", err, h.stdout.String())
	}
}

func TestKFCommandErrors(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "shop-secret", WeChatID: "teashop"})
	defer srv.Close()
	h := newHarness(t)
	h.env["KFDESK_APPSECRET"] = "shop-secret"
	if err := h.run("", "account", "add", "shop", "--appid", "wx0123456789abcdef", "--api-base", srv.URL); err != nil {
		t.Fatal(err)
	}
	// No KF accounts yet, so the OA WeChat ID is unknown: a bare prefix cannot be completed.
	if err := h.run("", "kf", "add", "xiaomei", "--nickname", "小美"); err == nil || !strings.Contains(err.Error(), "prefix@OA-WeChat-ID") {
		t.Fatalf("err = %v", err)
	}
	// Rules are checked before sending.
	var ie *api.InputError
	if err := h.run("", "kf", "add", "far_too_long_prefix@teashop", "--nickname", "x"); !asInput(err, &ie) || ie.Field != "kf_account" {
		t.Fatalf("err = %v", err)
	}
	if srv.Calls("/customservice/kfaccount/add") != 0 {
		t.Fatal("refused input was sent")
	}
	// The first add teaches the OA WeChat ID; afterwards a prefix is enough.
	if err := h.run("", "kf", "add", "xiaomei@teashop", "--nickname", "小美"); err != nil {
		t.Fatal(err)
	}
	a, _ := h.ws.DB.Account(context.Background(), "shop")
	if id, _ := h.ws.DB.OAWeChatID(context.Background(), a.ID); id != "teashop" {
		t.Fatalf("remembered %q", id)
	}
	if err := h.run("", "kf", "add", "xiaomei", "--nickname", "又一个"); !api.IsCode(err, 65406) || !strings.Contains(err.Error(), "已经存在") {
		t.Fatalf("err = %v", err)
	}
	srv.SetKFEnabled(false)
	if err := h.run("", "kf", "list"); !api.IsCode(err, 65400) || !strings.Contains(err.Error(), "not enabled") {
		t.Fatalf("err = %v", err)
	}
	if err := h.run("", "kf", "avatar", "xiaomei", filepath.Join(t.TempDir(), "missing.png")); err == nil {
		t.Fatal("a missing file was accepted")
	}
	notImage := filepath.Join(t.TempDir(), "notes.txt")
	_ = os.WriteFile(notImage, []byte("hello"), 0o600)
	if err := h.run("", "kf", "avatar", "xiaomei", notImage); !asInput(err, &ie) || ie.Field != "image" {
		t.Fatalf("err = %v", err)
	}
	if err := h.run("", "kf", "invite", "xiaomei"); err == nil {
		t.Fatal("invite without --wx accepted")
	}
}

func asInput(err error, target **api.InputError) bool {
	return errors.As(err, target)
}
