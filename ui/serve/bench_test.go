package serve

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/push"
	"kfdesk/api/wechattest"
)

// benchPushers is how many pushes are in flight at once, like WeChat's several
// connections to one server under load.
const benchPushers = 8

// BenchmarkPushes measures the push server (issue 11 §9, docs/BENCHMARKS.md "Push
// server"): the fake WeChat pushes text messages of 1,000 customers in safe mode over
// loopback, benchPushers at once, to the real handler (serve.Handler → Receiver:
// verify, decrypt, store in SQLite exactly once with its jobs, decide the
// auto-reply, answer). The baseline, in the same run, is the same front door with
// storage switched off: verify, decrypt, parse and answer the same way (a sealed
// passive reply or "success"), no database. Each pair is run with forwarding on (the
// default: an OA answers transfer_customer_service, sealed) and off ("success").
// Reported: pushes/s over the whole run and the answer time's p50 and p99 as the
// fake sees it (signing and encrypting the push included, in the baseline too).
//
//	go test -tags sqlite_fts5,migrated_fynedo -run '^$' -bench Pushes -benchtime 20000x ./ui/serve/
func BenchmarkPushes(b *testing.B) {
	for _, fwd := range []bool{true, false} {
		name := "forwarding on (passive transfer)"
		if !fwd {
			name = "forwarding off (success)"
		}
		b.Run(name+"/stored", func(b *testing.B) {
			e := newEnv(b)
			e.forward(b, fwd)
			benchPushes(b, e.url, e.wechat)
			if n := len(e.stored(b)); n < min(b.N, 1000) {
				b.Fatalf("%d pushes stored of %d", n, b.N)
			}
		})
		b.Run(name+"/baseline no storage", func(b *testing.B) {
			wechat := wechattest.NewServer(wechattest.Config{AppID: appID, Secret: "s"})
			b.Cleanup(wechat.Close)
			srv := startServer(b, noStorage(b, fwd))
			benchPushes(b, srv.URL+"/wx/"+appID, wechat)
		})
	}
}

// startServer serves h on loopback with the production server's settings (NewServer).
func startServer(tb testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config = NewServer("", h)
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

// noStorage is the baseline handler: Handler's POST path and Receive's work without
// the database — open (signature, time window, decryption, appid), parse, and answer
// as Receive would (sealed transfer_customer_service when fwd, else "success").
func noStorage(tb testing.TB, fwd bool) http.Handler {
	v, err := push.New(push.Config{Token: token, EncodingAESKey: aesKey, AppID: appID})
	if err != nil {
		tb.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(io.LimitReader(req.Body, push.MaxBody+1))
		if err != nil {
			reply(w, http.StatusBadRequest, nil)
			return
		}
		p, err := v.Open(req.URL.Query(), body, clock.Now(), push.DefaultWindow)
		if err != nil {
			reply(w, http.StatusForbidden, nil)
			return
		}
		m, err := push.ParseMessage(p.Body)
		if err != nil {
			reply(w, http.StatusBadRequest, nil)
			return
		}
		answer := []byte(push.Success)
		if fwd {
			r, err := push.TransferReply(m, clock.Now(), "")
			if err == nil {
				answer, err = v.Seal(rand.Reader, p, r, clock.Now())
			}
			if err != nil {
				reply(w, http.StatusInternalServerError, nil)
				return
			}
		}
		reply(w, http.StatusOK, answer)
	})
}

// benchPushes pushes b.N text messages to url with benchPushers goroutines sharing one
// Pusher (safe for concurrent use) and reports pushes/s, p50 and p99.
func benchPushes(b *testing.B, url string, wechat *wechattest.Server) {
	p, err := wechat.NewPusher(wechattest.PushConfig{URL: url, Token: token, EncodingAESKey: aesKey,
		Mode: wechattest.PushSafe, KeepDeliveries: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	// Warm up the connections and the database outside the timed part.
	for i := range benchPushers {
		if d, err := p.Push(context.Background(), wechattest.Text(fmt.Sprintf("oWarm%023d", i), "在吗")); err != nil ||
			(d.Verdict != wechattest.Accepted && d.Verdict != wechattest.PassiveReply) {
			b.Fatalf("warm-up push: %v %s %s", err, d.Verdict, d.Reason)
		}
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range benchPushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N || failed.Load() != nil {
					return
				}
				m := wechattest.Text(fmt.Sprintf("oBench%022d", i%1000), "你好，请问我的普洱茶发货了吗？订单 #12345")
				t0 := time.Now()
				d, err := p.Push(context.Background(), m)
				lat[i] = time.Since(t0)
				if err != nil || (d.Verdict != wechattest.Accepted && d.Verdict != wechattest.PassiveReply) || len(d.Attempts) != 1 {
					msg := fmt.Sprintf("push %d: %v %s after %d attempts %s", i, err, d.Verdict, len(d.Attempts), d.Reason)
					failed.CompareAndSwap(nil, &msg)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if msg := failed.Load(); msg != nil {
		b.Fatal(*msg)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pushes/s")
	b.ReportMetric(ms(lat[len(lat)*50/100]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
	b.ReportMetric(0, "ns/op") // pushes/s says it, for b.N pushes in flight benchPushers at a time
	if b.N >= 1000 {
		b.Logf("%d pushes, %d at once, %s; load: %s", b.N, benchPushers, elapsed.Round(time.Millisecond), loadAverage())
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadAverage is the machine's 1/5/15-minute load (the figures are read beside it).
func loadAverage() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		return strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if out, err := exec.Command("uptime").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "unknown"
}
