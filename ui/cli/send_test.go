package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

const customer = "oCustomer0000000000000000001"

// shopHarness has one account on a fake server where customer just wrote.
func shopHarness(t *testing.T) (*harness, *wechattest.Server) {
	t.Helper()
	h := newHarness(t)
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s"})
	t.Cleanup(srv.Close)
	h.env["KFDESK_APPSECRET"] = "s"
	if err := h.run("", "account", "add", "shop", "--appid", "wx0123456789abcdef", "--api-base", srv.URL); err != nil {
		t.Fatal(err)
	}
	srv.UserMessage(customer, time.Time{})
	return h, srv
}

func lastBody(srv *wechattest.Server) string {
	s := srv.Sent()
	if len(s) == 0 {
		return ""
	}
	return string(s[len(s)-1].Body)
}

func TestSendTextAndJSON(t *testing.T) {
	h, srv := shopHarness(t)
	if err := h.run("", "send", "--to", customer, "--text", "您好 <b>&"); err != nil {
		t.Fatal(err)
	}
	if got, want := lastBody(srv), `{"touser":"`+customer+`","msgtype":"text","text":{"content":"您好 <b>&"}}`; got != want {
		t.Fatalf("got %s", got)
	}
	// touser from the file; the documented body passes through unchanged.
	body := `{"touser":"` + customer + `","msgtype":"msgmenu","msgmenu":{"head_content":"满意吗？","list":[{"id":"1","content":"满意"},{"id":"2","content":"不满意"}],"tail_content":""}}`
	if err := h.run(body, "--json", "send", "--body", "-"); err != nil {
		t.Fatal(err)
	}
	if lastBody(srv) != body {
		t.Fatalf("got %s", lastBody(srv))
	}
	var out map[string]any
	if err := json.Unmarshal(h.stdout.Bytes(), &out); err != nil || out["errcode"] != float64(0) {
		t.Fatalf("%q %v", h.stdout.String(), err)
	}
	// --to overrides the file; --as adds customservice.
	srv.UserMessage("oOther00000000000000000000001", time.Time{})
	f := filepath.Join(t.TempDir(), "m.json")
	_ = os.WriteFile(f, []byte(`{"touser":"`+customer+`","msgtype":"wxcard","wxcard":{"card_id":"C1"}}`), 0o600)
	kf := addKF(t, srv)
	if err := h.run("", "send", "--body="+f, "--to", "oOther00000000000000000000001", "--as", kf); err != nil {
		t.Fatal(err)
	}
	if want := `{"touser":"oOther00000000000000000000001","msgtype":"wxcard","wxcard":{"card_id":"C1"},"customservice":{"kf_account":"` + kf + `"}}`; lastBody(srv) != want {
		t.Fatalf("got %s", lastBody(srv))
	}
}

// addKF creates a KF account on the fake through the documented HTTP endpoint.
func addKF(t *testing.T, srv *wechattest.Server) string {
	t.Helper()
	tok := srv.IssueToken()
	body := `{"kf_account":"xiaomei@` + srv.Config().WeChatID + `","nickname":"小美"}`
	resp, err := http.Post(srv.URL+"/customservice/kfaccount/add?access_token="+tok, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return "xiaomei@" + srv.Config().WeChatID
}

// The input flag was --json, which is also the global "print JSON" flag; the old spelling
// still sends, and says on stderr (in both languages) what to write instead.
func TestSendOldJSONSpellingStillWorks(t *testing.T) {
	h, srv := shopHarness(t)
	body := `{"touser":"` + customer + `","msgtype":"text","text":{"content":"旧写法"}}`
	f := filepath.Join(t.TempDir(), "m.json")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"send", "--json", "-"}, {"send", "--json", f}, {"send", "--json=" + f}} {
		n := len(srv.Sent())
		if err := h.run(body, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if len(srv.Sent()) != n+1 || lastBody(srv) != body {
			t.Fatalf("%v: not sent: %s", args, lastBody(srv))
		}
		if e := h.stderr.String(); !strings.Contains(e, "--body FILE") || !strings.Contains(e, "已弃用") {
			t.Fatalf("%v: no deprecation line: %q", args, e)
		}
	}
	// The new spelling sends without the warning, and --json is then only the output format.
	if err := h.run(body, "send", "--body", f); err != nil || strings.Contains(h.stderr.String(), "已弃用") || h.stdout.Len() != 0 {
		t.Fatalf("%v stderr %q stdout %q", err, h.stderr.String(), h.stdout.String())
	}
	if err := h.run(body, "send", "--body", f, "--json"); err != nil || !strings.Contains(h.stdout.String(), `"errcode":0`) ||
		strings.Contains(h.stderr.String(), "已弃用") {
		t.Fatalf("%v stderr %q stdout %q", err, h.stderr.String(), h.stdout.String())
	}
	if usage := Usage(); !strings.Contains(usage, "--body FILE|-") || strings.Contains(usage, "--json FILE") {
		t.Fatalf("usage: %s", usage)
	}
}

// "help" is a word like any other where the command takes a value or a search word.
func TestHelpWordIsSentNotObeyed(t *testing.T) {
	h, srv := shopHarness(t)
	for _, text := range []string{"help", "-h", "--help"} {
		n := len(srv.Sent())
		if err := h.run("", "send", "--to", customer, "--text", text); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		want := `{"touser":"` + customer + `","msgtype":"text","text":{"content":"` + text + `"}}`
		if len(srv.Sent()) != n+1 || lastBody(srv) != want || strings.Contains(h.stdout.String(), "usage:") {
			t.Fatalf("%q: sent %s, stdout %q", text, lastBody(srv), h.stdout.String())
		}
	}
	// Where a flag is expected, -h and --help show the command's usage and send nothing.
	for _, args := range [][]string{{"send", "--help"}, {"send", "--to", customer, "-h"}, {"--account", "shop", "send", "--help"}} {
		n := len(srv.Sent())
		if err := h.run("", args...); err != nil || !strings.Contains(h.stdout.String(), "usage: kfdesk send") || len(srv.Sent()) != n {
			t.Fatalf("%v: %v %q", args, err, h.stdout.String())
		}
	}
}

func TestSendValidatesLikeTheWindow(t *testing.T) {
	h, srv := shopHarness(t)
	body := `{"touser":"` + customer + `","msgtype":"news","news":{"articles":[{"title":"a","url":"https://a.cn"},{"title":"b","url":"https://b.cn"}]}}`
	err := h.run(body, "send", "--body", "-")
	if err == nil || !strings.Contains(h.stderr.String(), "news.articles") || !strings.Contains(h.stderr.String(), "1 篇") {
		t.Fatalf("%v %q", err, h.stderr.String())
	}
	if len(srv.Sent()) != 0 || srv.Calls("/cgi-bin/message/custom/send") != 0 {
		t.Fatal("an invalid message reached the server")
	}
	if err := h.run("", "send", "--text", "hi"); err == nil || !strings.Contains(h.stderr.String(), "touser") {
		t.Fatalf("no recipient: %v %q", err, h.stderr.String())
	}
	if err := h.run("", "send", "--to", customer); err == nil {
		t.Fatal("neither --text nor --body accepted")
	}
}

func TestSendFailureIsExplainedAndLogged(t *testing.T) {
	h, srv := shopHarness(t)
	srv.FailNth("/cgi-bin/message/custom/send", 1, wechattest.Errcode(-1, ""))
	err := h.run("", "send", "--to", customer, "--text", "在吗")
	if err == nil || !strings.Contains(err.Error(), "微信系统繁忙") {
		t.Fatalf("%v", err)
	}
	a, _ := h.ws.CurrentAccount(context.Background(), "")
	log, _ := h.ws.DB.SendLog(context.Background(), a.ID, 0, 10)
	if len(log) != 1 || log[0].Status != storage.SendFailed || *log[0].ErrCode != -1 {
		t.Fatalf("%+v", log)
	}
}

func TestTypingCommand(t *testing.T) {
	h, srv := shopHarness(t)
	if err := h.run("", "typing", "--to", customer); err != nil || !srv.Typing(customer) {
		t.Fatalf("typing: %v", err)
	}
	if err := h.run("", "typing", "--to", customer, "--cancel"); err != nil || srv.Typing(customer) {
		t.Fatalf("cancel: %v", err)
	}
	if err := h.run("", "typing"); err == nil {
		t.Fatal("no --to accepted")
	}
}

func TestMediaUploadCommand(t *testing.T) {
	h, srv := shopHarness(t)
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7919 % 251)
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	p := filepath.Join(dir, "cover.png")
	_ = os.WriteFile(p, b.Bytes(), 0o600)

	if err := h.run("", "--json", "media", "upload", "--type", "image", p); err != nil {
		t.Fatal(err)
	}
	var out struct {
		MediaID string `json:"media_id"`
	}
	if err := json.Unmarshal(h.stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if m, ok := srv.Media(out.MediaID); !ok || m.Type != "image" || !bytes.Equal(m.Data, b.Bytes()) {
		t.Fatalf("server has %v", ok)
	}
	// A PNG cannot be a thumb (JPG, 64 KB) — unless re-encoded.
	if err := h.run("", "media", "upload", "--type", "thumb", p); err == nil || !strings.Contains(err.Error(), "JPG") {
		t.Fatalf("png thumb: %v", err)
	}
	if err := h.run("", "media", "upload", "--type", "thumb", "--shrink", p); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(h.stdout.String())
	if m, ok := srv.Media(id); !ok || m.Type != "thumb" || len(m.Data) > 64<<10 || m.Filename != "cover.jpg" {
		t.Fatalf("thumb %q: %v %d %q", id, ok, len(m.Data), m.Filename)
	}
	if err := h.run("", "media", "upload", "--type", "file", p); err == nil {
		t.Fatal("unknown type accepted")
	}
}

// A template saved in the composer is sent from the command line by name, to the
// recipient given; an unknown name says which templates exist.
func TestSendTemplate(t *testing.T) {
	h, srv := shopHarness(t)
	ctx := context.Background()
	a, err := h.ws.CurrentAccount(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// As the composer keeps it: the whole form, with another type's leftovers and no recipient.
	body := `{"message":{"touser":"","msgtype":"msgmenu","text":{"content":"left over"},` +
		`"msgmenu":{"head_content":"满意吗？","list":[{"id":"1","content":"满意"},{"id":"2","content":"不满意"}],"tail_content":"谢谢"}}}`
	if err := h.ws.SaveTemplate(ctx, a, "满意度", body); err != nil {
		t.Fatal(err)
	}
	if err := h.run("", "send", "--to", customer, "--template", "满意度"); err != nil {
		t.Fatal(err)
	}
	want := `{"touser":"` + customer + `","msgtype":"msgmenu","msgmenu":{"head_content":"满意吗？","list":[{"id":"1","content":"满意"},{"id":"2","content":"不满意"}],"tail_content":"谢谢"}}`
	if got := lastBody(srv); got != want {
		t.Fatalf("sent %s\nwant %s", got, want)
	}
	sent := len(srv.Sent())
	err = h.run("", "send", "--to", customer, "--template", "没有这个")
	if err == nil || !strings.Contains(err.Error(), "满意度") || !strings.Contains(err.Error(), "没有名为") {
		t.Fatalf("unknown template: %v", err)
	}
	if err := h.run("", "send", "--to", customer, "--template", "满意度", "--text", "hi"); !errors.Is(err, ErrUsage) {
		t.Fatalf("--template with --text: %v", err)
	}
	if len(srv.Sent()) != sent {
		t.Fatal("a refused command sent something")
	}
}
