package api

import (
	"testing"
	"time"
)

func TestReplyWindowAt(t *testing.T) {
	last := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		last    time.Time
		replies int
		now     time.Time
		want    ReplyState
		left    int
	}{
		{"nothing known", time.Time{}, 0, last, ReplyUnknown, 0},
		{"just written", last, 0, last.Add(time.Minute), ReplyOpen, 5},
		{"four sent", last, 4, last.Add(47 * time.Hour), ReplyOpen, 1},
		{"five sent", last, 5, last.Add(time.Hour), ReplyUsedUp, 0},
		{"exactly 48 h", last, 0, last.Add(48 * time.Hour), ReplyClosed, 0},
		{"five sent and 48 h passed", last, 5, last.Add(50 * time.Hour), ReplyClosed, 0},
	} {
		s := ReplyWindowAt(c.last, c.replies, c.now)
		if s.State != c.want || s.Left != c.left {
			t.Errorf("%s: %+v, want state %d with %d left", c.name, s, c.want, c.left)
		}
		if c.want == ReplyOpen && s.Rest != c.last.Add(ReplyWindow).Sub(c.now) {
			t.Errorf("%s: %v left, want until %v", c.name, s.Rest, c.last.Add(ReplyWindow))
		}
	}
}

func TestReplyFactsWithEvents(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		f    ReplyFacts
		want ReplyState
		left int
	}{
		{"nothing", ReplyFacts{}, ReplyUnknown, 0},
		{"a click 20 s ago", ReplyFacts{LastEvent: now.Add(-20 * time.Second)}, ReplyOpen, 3},
		{"a click, 3 sent", ReplyFacts{LastEvent: now.Add(-20 * time.Second), SendsSinceEvent: 3}, ReplyClosed, 0},
		{"a click 61 s ago", ReplyFacts{LastEvent: now.Add(-61 * time.Second)}, ReplyClosed, 0},
		{"MP entered, 1 sent", ReplyFacts{LastEvent: now.Add(-10 * time.Second), SendsSinceEvent: 1, MiniProgram: true}, ReplyOpen, 1},
		{"MP entered, 2 sent", ReplyFacts{LastEvent: now.Add(-10 * time.Second), SendsSinceEvent: 2, MiniProgram: true}, ReplyClosed, 0},
		{"message open wins", ReplyFacts{LastMessage: now.Add(-time.Hour), RepliesSince: 1, LastEvent: now.Add(-10 * time.Second)}, ReplyOpen, 4},
		{"used up, but a click", ReplyFacts{LastMessage: now.Add(-time.Hour), RepliesSince: 5, LastEvent: now.Add(-10 * time.Second), SendsSinceEvent: 1}, ReplyOpen, 2},
		{"used up, click spent", ReplyFacts{LastMessage: now.Add(-time.Hour), RepliesSince: 5, LastEvent: now.Add(-10 * time.Second), SendsSinceEvent: 3}, ReplyUsedUp, 0},
	} {
		if s := c.f.At(now); s.State != c.want || s.Left != c.left {
			t.Errorf("%s: %+v, want state %d with %d left", c.name, s, c.want, c.left)
		}
	}
}
