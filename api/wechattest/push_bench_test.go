package wechattest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"kfdesk/api/wechattest"
)

// BenchmarkPush measures the fake's pushing side in safe mode over loopback (sign,
// encrypt, POST, judge "success"), beside a baseline in the same run: plain POSTs of
// the same body to the same receiver. It shows the fake can drive the push server's
// load test (issue 11 §9 wants ≥ 2,000 pushes/s) without being the bottleneck.
func BenchmarkPush(b *testing.B) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "success")
	}))
	defer rcv.Close()
	srv := wechattest.NewServer(wechattest.Config{AppID: appID})
	defer srv.Close()
	p, err := srv.NewPusher(wechattest.PushConfig{URL: rcv.URL, Token: pushToken, EncodingAESKey: pushKey, Mode: wechattest.PushSafe})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.Run("pusher safe mode", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				d, err := p.Push(context.Background(), wechattest.Text(fmt.Sprintf("oBench%022d", n.Add(1)%1000), "你好，请问发货了吗？"))
				if err != nil || d.Verdict != wechattest.Accepted {
					b.Fatalf("%v %s %s", err, d.Verdict, d.Reason)
				}
			}
		})
	})
	body := p.Deliveries()[0].Attempts[0].Body
	u := p.Deliveries()[0].Attempts[0].URL
	b.Run("baseline plain POST", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := http.Post(u, "text/xml", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	})
}
