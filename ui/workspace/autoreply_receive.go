package workspace

import (
	"context"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/push"
	"kfdesk/storage"
)

// The passive side of auto-replies: what Receive answers a push with.

// answerMemory is how long a push's passive reply is kept for WeChat's retries
// (three within about 15 s of the first attempt), and how many at most.
const (
	answerMemory   = time.Minute
	answersKept    = 10000
	answerTooLarge = 1 << 16
)

type answered struct {
	reply []byte // the unsealed passive reply; nil = "success"
	at    time.Time
}

// answer is the passive reply to a new push (nil = "success"). A notice answered
// here is claimed here; one that lost the claim to a quicker message of the same
// customer falls back to what the decision gives without it.
func (r *Receiver) answer(ctx context.Context, in *push.Message, sp storage.Push, rules []storage.AutoReplyRule,
	fwd storage.Forwarding, d AutoReply) []byte {
	mp := MiniProgram(r.account)
	transfer, reply := d.passive(mp)
	if reply != nil && isNotice(d.Rule.Kind) {
		ok, err := r.w.DB.ClaimDefaultReply(context.WithoutCancel(ctx), r.account.ID, sp.OpenID, sp.CreateTime)
		if err != nil || !ok {
			d, _ = decideAutoReply(rules, fwd, sp, mp, func() (bool, error) { return false, nil })
			transfer, reply = d.passive(mp)
		}
	}
	if !transfer && reply == nil {
		return nil
	}
	b, err := passiveXML(in, clock.Now(), transfer, d.KFAccount, reply)
	if err != nil {
		return nil // a reply XML cannot carry: "success" rather than an answer WeChat rejects
	}
	return b
}

// recall is the passive reply remembered for the stored push id, if any.
//
// WeChat resends a push only when it had no answer within 5 s, and shows the
// customer one answer per push (the one it accepts), so answering a retry is never
// a second reply on the screen. What must not happen is a different effect: a retry
// gets the very reply its first attempt was given (remembered for answerMemory).
// When that is gone (the server restarted between storing and answering), Receive
// decides again as for a new push: the hour's notice is then not due if the first
// attempt claimed it, and what goes through custom/send was queued with the push
// and is sent by its job only.
func (r *Receiver) recall(id int64) (reply []byte, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.answers[id]
	return a.reply, ok
}

// remember keeps a push's passive reply for its retries, dropping old ones.
func (r *Receiver) remember(id int64, reply []byte) {
	now := time.Now() // a duration, not a time of day
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answers == nil {
		r.answers = map[int64]answered{}
	}
	if len(r.answers) >= answersKept {
		for k, a := range r.answers {
			if now.Sub(a.at) > answerMemory {
				delete(r.answers, k)
			}
		}
	}
	if len(r.answers) < answersKept && len(reply) < answerTooLarge {
		r.answers[id] = answered{reply, now}
	}
}
