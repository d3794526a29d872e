package push_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"kfdesk/api/push"
	"kfdesk/api/wechattest"
)

// Two independent readings of the same documentation: the fake WeChat's pushing side
// (api/wechattest) pushes, in every mode and format, to a receiver over 127.0.0.1 that
// opens the push with this package and answers with a sealed passive reply; the fake
// checks that reply as WeChat would. Any disagreement about signatures, ciphertext,
// envelopes or fields fails here.
func TestOpensWhatTheFakeWeChatPushes(t *testing.T) {
	const token, aesKey = "kfdeskToken42", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	for _, kind := range []wechattest.Kind{wechattest.OfficialAccount, wechattest.MiniProgram} {
		for _, format := range []wechattest.PushFormat{wechattest.PushXML, wechattest.PushJSON} {
			if kind == wechattest.OfficialAccount && format == wechattest.PushJSON {
				continue // an Official Account pushes XML only
			}
			for _, mode := range []wechattest.PushMode{wechattest.PushPlaintext, wechattest.PushCompatible, wechattest.PushSafe} {
				srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s", Kind: kind})
				v, err := push.New(push.Config{Token: token, EncodingAESKey: aesKey, AppID: "wx0123456789abcdef"})
				if err != nil {
					t.Fatal(err)
				}
				var got []*push.Message
				recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet {
						echo, err := v.Echo(r.URL.Query())
						if err != nil {
							http.Error(w, "forbidden", http.StatusForbidden)
							return
						}
						_, _ = io.WriteString(w, echo)
						return
					}
					body, _ := io.ReadAll(io.LimitReader(r.Body, push.MaxBody+1))
					p, err := v.Open(r.URL.Query(), body, srv.Now(), push.DefaultWindow)
					if err != nil {
						t.Errorf("open: %v", err)
						http.Error(w, "bad push", http.StatusBadRequest)
						return
					}
					m, err := push.ParseMessage(p.Body)
					if err != nil {
						t.Errorf("parse: %v", err)
						http.Error(w, "bad push", http.StatusBadRequest)
						return
					}
					got = append(got, m)
					reply := []byte(push.Success)
					if kind == wechattest.OfficialAccount && m.MsgType == push.TypeText {
						if reply, err = push.TextReply(m, srv.Now(), "收到："+m.Content); err != nil {
							t.Fatal(err)
						}
					}
					sealed, err := v.Seal(rand.Reader, p, reply, srv.Now())
					if err != nil {
						t.Fatal(err)
					}
					_, _ = w.Write(sealed)
				}))
				pusher, err := srv.NewPusher(wechattest.PushConfig{URL: recv.URL + "/wx", Token: token, EncodingAESKey: aesKey, Mode: mode, Format: format})
				if err != nil {
					t.Fatal(err)
				}
				if ver := pusher.VerifyURL(context.Background()); !ver.OK {
					t.Errorf("%v/%v/%v: URL verification: %+v", kind, format, mode, ver)
				}
				msgs := []wechattest.Message{wechattest.Text("oCustomer0000000000000000001", "退款到账了吗？<&>\"")}
				if kind == wechattest.OfficialAccount {
					msgs = append(msgs, wechattest.Click("oCustomer0000000000000000001", "MENU_HELP"),
						wechattest.Subscribe("oCustomer0000000000000000002", "shop_qr"))
				} else {
					msgs = append(msgs, wechattest.EnterTempSession("oCustomer0000000000000000001", "order-77"))
				}
				for _, m := range msgs {
					d, err := pusher.Push(context.Background(), m)
					if err != nil {
						t.Fatal(err)
					}
					want := wechattest.Accepted
					if kind == wechattest.OfficialAccount && m.MsgType == "text" {
						want = wechattest.PassiveReply
					}
					if d.Verdict != want {
						t.Errorf("%v/%v/%v %s: verdict %s (%s), want %s", kind, format, mode, m.MsgType, d.Verdict, d.Reason, want)
					}
				}
				if len(got) != len(msgs) {
					t.Fatalf("%v/%v/%v: opened %d of %d pushes", kind, format, mode, len(got), len(msgs))
				}
				if got[0].Content != "退款到账了吗？<&>\"" || got[0].FromUserName != "oCustomer0000000000000000001" || got[0].MsgID == "" {
					t.Errorf("%v/%v/%v: text read as %+v", kind, format, mode, got[0])
				}
				if got[1].MsgType != push.TypeEvent || got[1].Event == "" {
					t.Errorf("%v/%v/%v: event read as %+v", kind, format, mode, got[1])
				}
				pusher.Close()
				recv.Close()
				srv.Close()
			}
		}
	}
}
