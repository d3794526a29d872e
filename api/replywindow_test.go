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
