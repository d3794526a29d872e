package wechattest

import (
	"context"
	"fmt"
	"image/color"
	"math/rand/v2"
	"sync"
	"time"
)

// The demo comes alive (issue 12 §6): while the demo is open, the fake's customers
// write in every 20–40 s — questions in Chinese, pictures, voice messages and videos
// (files that play: samplemedia.go), menu answers, a new follower, someone waiting
// for a KF — as getmsglist records and wait cases, and as pushes too when a Pusher is set. Step is deterministic for a seed, so tests step
// it without sleeping; Run is the demo's clock.

// Customer simulator timing: the wait between two customers' actions.
const (
	SimMinGap = 20 * time.Second
	SimMaxGap = 40 * time.Second
)

// Kinds of SimEvent.
const (
	SimQuestion = "question"
	SimPicture  = "picture"
	SimVoice    = "voice"
	SimVideo    = "video"
	SimMenu     = "menu"
	SimFollow   = "follow"
	SimWaiting  = "waiting"
)

// SimEvent is what one step did.
type SimEvent struct {
	Kind   string
	OpenID string
	Text   string        // what getmsglist shows ("[image]" for a picture)
	Length time.Duration // a voice message's or video's (the pushed file plays this long)
	At     time.Time
	Pushed bool // also pushed (SetPusher), and the push was answered
}

// CustomerSim makes the server's customers write in.
type CustomerSim struct {
	s      *Server
	mu     sync.Mutex
	rng    *rand.Rand
	pusher *Pusher
	n      int // steps so far
	media  int // pictures, voice messages and videos so far
}

var simQuestions = []string{
	"你好，请问白茶和绿茶有什么区别？", "今天下单明天能到上海吗？", "这款普洱是生茶还是熟茶？", "有没有适合送长辈的礼盒？",
	"收到的茶叶有点受潮，怎么办？", "可以开增值税专用发票吗？", "请问你们的实体店在哪里？", "龙井一次泡多少克合适？",
	"我的订单显示已签收，但我没收到", "会员积分怎么用？",
}

var simWaitingOpeners = []string{"有人吗？想咨询一下", "在吗，急！订单地址填错了", "你好，我想退货", "请问还有优惠券吗？"}

// simMenuOptions are the answers of the satisfaction menu (msgmenu) the demo's workers send.
var simMenuOptions = []struct{ id, text string }{{"101", "满意"}, {"102", "一般"}, {"103", "不满意"}}

// NewCustomerSim is a simulator of the server's customers; one seed, one story.
func (s *Server) NewCustomerSim(seed uint64) *CustomerSim {
	return &CustomerSim{s: s, rng: rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))}
}

// SetPusher makes each step also push its message or event through p (nil: records only).
func (c *CustomerSim) SetPusher(p *Pusher) {
	c.mu.Lock()
	c.pusher = p
	c.mu.Unlock()
}

// Gap is the wait before the next step: 20–40 s.
func (c *CustomerSim) Gap() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return SimMinGap + time.Duration(c.rng.Int64N(int64(SimMaxGap-SimMinGap)+1))
}

// Run steps every Gap until ctx ends.
func (c *CustomerSim) Run(ctx context.Context) {
	for {
		t := time.NewTimer(c.Gap())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			c.Step(ctx)
		}
	}
}

// Step makes one customer act now (the server's clock). The mix, over every five
// steps: two questions, a picture (or in turn a voice message or a video), a menu
// answer, someone waiting, and now and then a new follower who writes in.
func (c *CustomerSim) Step(ctx context.Context) SimEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	kinds := []string{SimQuestion, SimPicture, SimQuestion, SimWaiting, SimMenu}
	kind := kinds[(c.n-1)%len(kinds)]
	if c.n%7 == 0 {
		kind = SimFollow
	} else if kind == SimPicture {
		kind = []string{SimPicture, SimVoice, SimVideo}[c.media%3]
		c.media++
	}
	s := c.s
	followers := s.Followers()
	pick := func() string {
		if len(followers) == 0 {
			return "oDemoCustomer" + sampleID(c.rng, 16)
		}
		return followers[c.rng.IntN(len(followers))]
	}
	ev := SimEvent{Kind: kind, OpenID: pick()}
	var msg Message
	var pre []Message // pushed before the message (a follow)
	worker := s.workerOf(ev.OpenID)
	switch kind {
	case SimQuestion:
		ev.Text = simQuestions[c.rng.IntN(len(simQuestions))]
		msg = Text(ev.OpenID, ev.Text)
	case SimPicture:
		ev.Text = "[image]"
		msg = Image(ev.OpenID, avatarJPEG(color.RGBA{uint8(c.rng.IntN(256)), uint8(c.rng.IntN(256)), 0x80, 0xff}))
	case SimVoice:
		ev.Text, ev.Length = "[voice]", time.Duration(3+c.rng.IntN(6))*time.Second // 3–8 s
		msg = Voice(ev.OpenID, AMR(ev.Length), "")
	case SimVideo:
		ev.Text, ev.Length = "[video]", time.Duration(10+c.rng.IntN(81))*time.Second // 10 s – 1:30
		msg = Video(ev.OpenID, MP4(ev.Length), nil)
	case SimMenu:
		o := simMenuOptions[c.rng.IntN(len(simMenuOptions))]
		ev.Text = o.text
		msg = Message{From: ev.OpenID, MsgType: "text", Content: o.text, MenuID: o.id}
	case SimFollow:
		ev.OpenID = "oDemo" + sampleID(c.rng, 23)
		ev.Text = "刚关注，想了解一下你们家的茶"
		pre = []Message{Subscribe(ev.OpenID, "")}
		msg = Text(ev.OpenID, ev.Text)
		worker = ""
	case SimWaiting:
		ev.Text = simWaitingOpeners[c.rng.IntN(len(simWaitingOpeners))]
		msg = Text(ev.OpenID, ev.Text)
		worker = ""
	}
	if kind == SimFollow {
		s.AddFollower(ev.OpenID)
	}
	ev.At = s.Now().Truncate(time.Second)
	if c.pusher != nil {
		ok := true
		for _, m := range append(pre, msg) {
			m.CreateTime = ev.At
			d, err := c.pusher.Push(ctx, m)
			ok = ok && err == nil && (d.Verdict == Accepted || d.Verdict == PassiveReply)
		}
		ev.Pushed = ok
	}
	recs := []Record{{OpenID: ev.OpenID, OperCode: 2003, Text: ev.Text, Time: ev.At.Unix(), Worker: worker}}
	if worker == "" {
		// A customer nobody serves yet: the session is created waiting (1000), and they queue.
		recs = append([]Record{{OpenID: ev.OpenID, OperCode: 1000, Time: ev.At.Unix()}}, recs...)
		s.AddWaitCase(ev.OpenID, ev.At)
	}
	s.AddRecords(recs...)
	s.mu.Lock()
	s.userMessage(ev.OpenID, ev.At)
	s.mu.Unlock()
	return ev
}

// workerOf is the KF account serving openid ("" when none: then a bound worker
// takes the question, as the KF system assigns it).
func (s *Server) workerOf(openid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss := s.sessions[openid]; ss != nil {
		return ss.kf
	}
	for _, k := range s.kfs {
		if k.WX != "" {
			return k.Account
		}
	}
	return fmt.Sprintf("kf2001@%s", s.weChatID)
}
