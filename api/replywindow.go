package api

import "time"

// The reply window WeChat applies to customer-service messages since 2023-06-12: after
// a customer's message the account may send at most 5 messages within 48 hours
// (45015 when the time is up, 45047 when the count is).
// https://developers.weixin.qq.com/doc/service/en/guide/product/kf/intro.html
const (
	ReplyWindow = 48 * time.Hour
	ReplyLimit  = 5
)

// ReplyState is where a customer's reply window stands.
type ReplyState int

const (
	// ReplyUnknown: no message from the customer is known.
	ReplyUnknown ReplyState = iota
	// ReplyOpen: a message may be sent now.
	ReplyOpen
	// ReplyUsedUp: still within 48 hours, but the 5 replies are sent.
	ReplyUsedUp
	// ReplyClosed: 48 hours have passed since the customer's last message.
	ReplyClosed
)

// ReplyStatus is a customer's reply window at a moment.
type ReplyStatus struct {
	State ReplyState
	Until time.Time     // when the 48 hours end (zero when unknown)
	Left  int           // replies left while open
	Rest  time.Duration // time left while open
}

// ReplyWindowAt is the one rule for the reply window, from the customer's last
// message and the replies sent since: every screen and command uses it. WeChat has the
// final word; a local estimate may lag behind.
func ReplyWindowAt(lastMessage time.Time, repliesSince int, now time.Time) ReplyStatus {
	if lastMessage.IsZero() {
		return ReplyStatus{State: ReplyUnknown}
	}
	s := ReplyStatus{Until: lastMessage.Add(ReplyWindow)}
	switch {
	case !now.Before(s.Until):
		s.State = ReplyClosed
	case repliesSince >= ReplyLimit:
		s.State = ReplyUsedUp
	default:
		s.State, s.Left, s.Rest = ReplyOpen, ReplyLimit-repliesSince, s.Until.Sub(now)
	}
	return s
}

// After a menu click, a follow or a code scan an Official Account may send 3 messages
// within 1 minute; after a Mini Program customer enters the customer-service chat, 2.
// https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/send.html
const (
	EventReplyWindow  = time.Minute
	EventReplyLimitOA = 3
	EventReplyLimitMP = 2
)

// ReplyFacts is what the pushes tell of a customer: their last message and last
// allowance-giving event (a menu click, follow, scan; for a Mini Program, entering the
// chat), each with the sends since. Only a push server knows the event side.
type ReplyFacts struct {
	LastMessage     time.Time
	RepliesSince    int
	LastEvent       time.Time
	SendsSinceEvent int
	MiniProgram     bool
}

// At is the reply window at now: open if either allowance is open. It is exact where
// ReplyWindowAt (from the chat records alone) estimates: WeChat's CreateTimes and the
// sends logged on this computer. When both are open, Until and Left are the message
// window's (the larger); when only the event's is, they are the event's.
func (f ReplyFacts) At(now time.Time) ReplyStatus {
	msg := ReplyWindowAt(f.LastMessage, f.RepliesSince, now)
	if msg.State == ReplyOpen || f.LastEvent.IsZero() {
		return msg
	}
	limit := EventReplyLimitOA
	if f.MiniProgram {
		limit = EventReplyLimitMP
	}
	until := f.LastEvent.Add(EventReplyWindow)
	if now.Before(until) && f.SendsSinceEvent < limit {
		return ReplyStatus{State: ReplyOpen, Until: until, Left: limit - f.SendsSinceEvent, Rest: until.Sub(now)}
	}
	if msg.State == ReplyUnknown {
		return ReplyStatus{State: ReplyClosed, Until: until} // a click long ago: closed, not unknown
	}
	return msg
}
