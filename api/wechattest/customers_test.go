package wechattest_test

import (
	"context"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

// The demo's customers: over a few steps a realistic mix — questions in Chinese, a
// picture, a menu answer, someone waiting, a new follower — served by getmsglist and
// getwaitcase; the same seed tells the same story; the gap is 20–40 s.
func TestCustomerSimWritesARealisticMix(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Sample, c.Seed = true, 7 })
	sim := e.srv.NewCustomerSim(42)
	ctx := context.Background()
	kinds := map[string]int{}
	var story []string
	for range 14 {
		e.clock.Advance(30 * time.Second)
		ev := sim.Step(ctx)
		kinds[ev.Kind]++
		story = append(story, ev.Kind+":"+ev.Text)
		if !ev.At.Equal(e.clock.Now().Truncate(time.Second)) || ev.OpenID == "" || ev.Text == "" || ev.Pushed {
			t.Fatalf("step %+v", ev)
		}
	}
	for _, k := range []string{wechattest.SimQuestion, wechattest.SimPicture, wechattest.SimMenu, wechattest.SimWaiting, wechattest.SimFollow} {
		if kinds[k] == 0 {
			t.Errorf("no %s in %v", k, story)
		}
	}
	again := newEnv(t, func(c *wechattest.Config) { c.Sample, c.Seed = true, 7 }).srv.NewCustomerSim(42)
	for i := range 14 {
		if ev := again.Step(ctx); ev.Kind+":"+ev.Text != story[i] {
			t.Fatalf("step %d with the same seed: %s, want %s", i, ev.Kind+":"+ev.Text, story[i])
		}
	}
	start := e.clock.Now().Add(-14 * 30 * time.Second).Unix()
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
	if got != 14 || waitingSessions != kinds[wechattest.SimWaiting]+kinds[wechattest.SimFollow] {
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
