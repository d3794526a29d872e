package wechattest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"kfdesk/api/medialen"
	"kfdesk/api/wechattest"
)

// The demo's customers: over a few steps a realistic mix — questions in Chinese, a
// picture, a voice message, a video, a menu answer, someone waiting, a new follower
// — served by getmsglist and
// getwaitcase; the same seed tells the same story; the gap is 20–40 s.
func TestCustomerSimWritesARealisticMix(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Sample, c.Seed = true, 7 })
	sim := e.srv.NewCustomerSim(42)
	ctx := context.Background()
	kinds := map[string]int{}
	var story []string
	const steps = 20
	for range steps {
		e.clock.Advance(30 * time.Second)
		ev := sim.Step(ctx)
		kinds[ev.Kind]++
		story = append(story, ev.Kind+":"+ev.Text)
		if !ev.At.Equal(e.clock.Now().Truncate(time.Second)) || ev.OpenID == "" || ev.Text == "" || ev.Pushed {
			t.Fatalf("step %+v", ev)
		}
		if media := ev.Kind == wechattest.SimVoice || ev.Kind == wechattest.SimVideo; media != (ev.Length > 0) {
			t.Fatalf("step %+v: a length for voice and video only", ev)
		}
	}
	for _, k := range []string{wechattest.SimQuestion, wechattest.SimPicture, wechattest.SimVoice, wechattest.SimVideo,
		wechattest.SimMenu, wechattest.SimWaiting, wechattest.SimFollow} {
		if kinds[k] == 0 {
			t.Errorf("no %s in %v", k, story)
		}
	}
	again := newEnv(t, func(c *wechattest.Config) { c.Sample, c.Seed = true, 7 }).srv.NewCustomerSim(42)
	for i := range steps {
		if ev := again.Step(ctx); ev.Kind+":"+ev.Text != story[i] {
			t.Fatalf("step %d with the same seed: %s, want %s", i, ev.Kind+":"+ev.Text, story[i])
		}
	}
	start := e.clock.Now().Add(-steps * 30 * time.Second).Unix()
	recs := decodeRecords(t, e.msgList(start, e.clock.Now().Unix(), 1, 10000))
	var got, waitingSessions int
	for _, r := range recs {
		if r.OperCode == 2003 && r.Time > start {
			got++
		}
		if r.OperCode == 1000 && r.Time > start {
			waitingSessions++
		}
	}
	if got != steps || waitingSessions != kinds[wechattest.SimWaiting]+kinds[wechattest.SimFollow] {
		t.Fatalf("getmsglist has %d new customer messages and %d waiting sessions; kinds %v", got, waitingSessions, kinds)
	}
	w := e.apiGet("/customservice/kfsession/getwaitcase", nil)
	if n := int(w.num("count")); n < kinds[wechattest.SimWaiting] {
		t.Fatalf("%d waiting, want at least %d", n, kinds[wechattest.SimWaiting])
	}
	for range 50 {
		if g := sim.Gap(); g < 20*time.Second || g > 40*time.Second {
			t.Fatalf("gap %v", g)
		}
	}
}

// With a Pusher, the simulator's voice messages and videos push files that play
// as long as the step says (the demo's conversations show their length).
func TestCustomerSimPushesVoiceAndVideoThatPlay(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Sample, c.Seed = true, 7 })
	rc := newReceiver(t)
	sim := e.srv.NewCustomerSim(42)
	sim.SetPusher(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML))
	seen := map[string]bool{}
	for range 20 {
		e.clock.Advance(30 * time.Second)
		ev := sim.Step(context.Background())
		if ev.Kind != wechattest.SimVoice && ev.Kind != wechattest.SimVideo {
			continue
		}
		seen[ev.Kind] = true
		_, rest, _ := strings.Cut(string(rc.last().plain), "<MediaId><![CDATA[")
		id, _, _ := strings.Cut(rest, "]]>")
		m, ok := e.srv.Media(id)
		if !ok || !ev.Pushed {
			t.Fatalf("%s: pushed %v, media %q found %v", ev.Kind, ev.Pushed, id, ok)
		}
		if d, err := medialen.Duration(bytes.NewReader(m.Data)); err != nil || d != ev.Length {
			t.Errorf("%s: the file plays %v (%v), the step says %v", ev.Kind, d, err, ev.Length)
		}
	}
	if !seen[wechattest.SimVoice] || !seen[wechattest.SimVideo] {
		t.Fatalf("no voice or video in 20 steps: %v", seen)
	}
}
