package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/api/push"
	"kfdesk/storage"
)

// Auto-replies of kfdesk serve (issue 11 §4): turning the push URL on switches the
// console's own auto-replies off, so the server answers with the account's rules
// (storage/autoreply.go). One decision (decideAutoReply) serves both paths: the
// passive answer of an Official Account (Receiver.Receive) and custom/send in the
// background (RunAutoReplyJob, a Mini Program's only way to answer). The rules are
// read afresh for every push, so a rule changed while the server runs applies to
// the next push.
//
// Precedence, for a customer's message (what an operator of the console expects):
//  1. A keyword rule, the first enabled match in rule order (text only). It wins at
//     any hour, out of hours too: a keyword answers the question itself (the price
//     list, the address), which an out-of-hours notice ("we reply tomorrow") does not.
//     A matched message is answered, so it is not forwarded (as niefy/wx-api's
//     MsgHandler does: only unmatched messages go to the KF system).
//  2. Otherwise a notice, at most once per customer per hour (storage.ClaimDefaultReply,
//     like the console's 收到消息回复): the out-of-hours reply when an enabled hours
//     rule says the account is closed at the message's CreateTime (Beijing time),
//     else the default reply. Both say "we got it", so they share the hour.
//  3. And, for every unmatched message, "forward to the KF system" when on (the
//     default, so mpkf / 客服小助手 keep seeing customers): the passive answer is
//     transfer_customer_service, and a notice then goes through custom/send (one
//     passive answer cannot carry both; forwarding needs the KF function, which is
//     what custom/send needs too).
//
// For an event: the follow greeting answers subscribe (an Official Account) and
// user_enter_tempsession (a Mini Program's chat opening); other events get nothing,
// and events are never forwarded ("其他任何事件…都不应该转接").
//
// The time of a decision is the push's CreateTime (when the customer wrote), not
// when it is handled: a message written at 17:59 is in hours even if a retried job
// handles it at 18:01, and every run of a job decides the same.

// AutoReply is what to answer one push with.
type AutoReply struct {
	Rule      storage.AutoReplyRule // the rule that chose Reply (zero when none)
	Reply     *api.Message          // the message to answer with; nil = none
	Transfer  bool                  // hand the message to the KF system (transfer_customer_service)
	KFAccount string                // to this KF account ("" = any)
}

// isNotice: the rule kinds that share the once-per-hour claim.
func isNotice(kind string) bool {
	return kind == storage.AutoReplyDefault || kind == storage.AutoReplyHours
}

// decideAutoReply is the one decision. noticeDue says whether the customer may get
// a notice now; it is called only when a notice would be chosen (peek or claim).
func decideAutoReply(rules []storage.AutoReplyRule, fwd storage.Forwarding, p storage.Push, miniProgram bool,
	noticeDue func() (bool, error)) (AutoReply, error) {
	var d AutoReply
	pick := func(r storage.AutoReplyRule) error {
		m, err := api.ParseMessage([]byte(r.Body))
		if err != nil {
			return err
		}
		d.Rule, d.Reply = r, m
		return nil
	}
	find := func(kind string) (storage.AutoReplyRule, bool) {
		for _, r := range rules {
			if r.Enabled && r.Kind == kind {
				return r, true
			}
		}
		return storage.AutoReplyRule{}, false
	}
	if p.MsgType == push.TypeEvent {
		greets := p.Event == push.EventSubscribe && !miniProgram || p.Event == push.EventUserEnterSession && miniProgram
		if r, ok := find(storage.AutoReplyFollow); ok && greets {
			return d, pick(r)
		}
		return d, nil
	}
	if p.MsgType == push.TypeText {
		for _, r := range rules {
			if r.Enabled && r.Kind == storage.AutoReplyKeyword && keywordMatches(r, p.Content) {
				return d, pick(r)
			}
		}
	}
	d.Transfer, d.KFAccount = fwd.On, fwd.KFAccount
	notice, ok := find(storage.AutoReplyHours)
	if ok && notice.Hours.Open(p.CreateTime) {
		ok = false // in hours: the default reply, if any
	}
	if !ok {
		notice, ok = find(storage.AutoReplyDefault)
	}
	if !ok {
		return d, nil
	}
	due, err := noticeDue()
	if err != nil || !due {
		return d, err
	}
	return d, pick(notice)
}

func keywordMatches(r storage.AutoReplyRule, text string) bool {
	text = strings.TrimSpace(text)
	if r.Match == storage.MatchContains {
		return strings.Contains(text, r.Keyword)
	}
	return text == r.Keyword
}

// passive is the part of d an Official Account answers in the push's answer: the
// transfer, or a reply of a type a passive reply can carry. nil = "success".
func (d AutoReply) passive(miniProgram bool) (transfer bool, reply *api.Message) {
	if d.Transfer {
		return true, nil
	}
	if !miniProgram && d.Reply != nil && passiveType(d.Reply) {
		return false, d.Reply
	}
	return false, nil
}

// background is the part of d that goes through custom/send (nil = none): every
// reply of a Mini Program, and an Official Account's reply that is not passive.
func (d AutoReply) background(miniProgram bool) *api.Message {
	if _, r := d.passive(miniProgram); r != nil || d.Reply == nil {
		return nil
	}
	return d.Reply
}

// passiveType: the passive reply has text, image, voice, video, music and news
// (one article when answering a message); menus, cards, mini-program pages and
// published articles exist only in custom/send.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
func passiveType(m *api.Message) bool {
	switch m.MsgType {
	case api.TypeText, api.TypeImage, api.TypeVoice, api.TypeVideo, api.TypeMusic:
		return true
	case api.TypeNews:
		return m.News != nil && len(m.News.Articles) == 1
	}
	return false
}

// passiveXML builds the passive reply for the push in.
func passiveXML(in *push.Message, now time.Time, transfer bool, kf string, m *api.Message) ([]byte, error) {
	if transfer {
		return push.TransferReply(in, now, kf)
	}
	switch m.MsgType {
	case api.TypeText:
		return push.TextReply(in, now, m.Text.Content)
	case api.TypeImage:
		return push.ImageReply(in, now, m.Image.MediaID)
	case api.TypeVoice:
		return push.VoiceReply(in, now, m.Voice.MediaID)
	case api.TypeVideo:
		return push.VideoReply(in, now, push.Video{MediaID: m.Video.MediaID, Title: m.Video.Title, Description: m.Video.Description})
	case api.TypeMusic:
		return push.MusicReply(in, now, push.Music{Title: m.Music.Title, Description: m.Music.Description,
			MusicURL: m.Music.MusicURL, HQMusicURL: m.Music.HQMusicURL, ThumbMediaID: m.Music.ThumbMediaID})
	case api.TypeNews:
		a := m.News.Articles[0]
		return push.NewsReply(in, now, []push.Article{{Title: a.Title, Description: a.Description, PicURL: a.PicURL, URL: a.URL}})
	}
	return nil, fmt.Errorf("a %s reply cannot be passive", m.MsgType)
}

// autoReplyInputs reads what a decision needs: the rules and forwarding, as they
// are now (no cache: a change applies to the next push).
func (w *Workspace) autoReplyInputs(ctx context.Context, accountID int64) ([]storage.AutoReplyRule, storage.Forwarding, error) {
	rules, err := w.DB.AutoReplyRules(ctx, accountID)
	if err != nil {
		return nil, storage.Forwarding{}, err
	}
	fwd, err := w.DB.Forward(ctx, accountID)
	return rules, fwd, err
}

// RunAutoReplyJob runs a JobAutoReply job: it decides again (the same decision as
// the push's answer, at the push's CreateTime) and sends the part that goes
// through custom/send, exactly once: BeginEffect → claim the hour's notice → send →
// FinishEffect with the send log entry. A job run again after that (its worker
// died before FinishJob) finds the effect done and sends nothing; one that died
// during the send finds it in doubt, and closes it as "unknown" without sending.
// A send WeChat refused is logged and not retried (a late auto-reply helps nobody);
// its error is returned for the worker's log. The caller finishes the job.
func (w *Workspace) RunAutoReplyJob(ctx context.Context, job storage.Job) error {
	p, err := w.DB.Push(ctx, job.PushID)
	if err != nil {
		return err
	}
	a, err := w.accountByID(ctx, job.AccountID)
	if err != nil {
		return err
	}
	rules, fwd, err := w.autoReplyInputs(ctx, a.ID)
	if err != nil {
		return err // nothing begun: the job is simply retried
	}
	state, err := w.DB.BeginEffect(ctx, p.ID, storage.EffectAutoReply)
	if err != nil || state == storage.EffectDone {
		return err
	}
	if state == storage.EffectInDoubt {
		_, err := w.DB.FinishEffect(ctx, p.ID, storage.EffectAutoReply, &storage.SendLogEntry{Time: p.ReceivedAt, ToUser: p.OpenID,
			MsgType: "autoreply", Status: storage.SendUnknown,
			Error: "the server stopped while sending this auto-reply; it may have arrived / 发送自动回复时服务中断，可能已送达"})
		return err
	}
	d, err := decideAutoReply(rules, fwd, p, MiniProgram(a), func() (bool, error) {
		return w.DB.ClaimDefaultReply(ctx, a.ID, p.OpenID, p.CreateTime)
	})
	if err != nil {
		return w.abandonEffect(ctx, p.ID, err)
	}
	m := d.background(MiniProgram(a))
	if m == nil {
		_, err := w.DB.FinishEffect(ctx, p.ID, storage.EffectAutoReply, nil)
		return err
	}
	m = m.Clone()
	m.ToUser = p.OpenID
	e, sendErr, err := w.post(ctx, a, m)
	if err != nil { // nothing was sent (an invalid rule, no client)
		return w.abandonEffect(ctx, p.ID, err)
	}
	if _, err := w.DB.FinishEffect(context.WithoutCancel(ctx), p.ID, storage.EffectAutoReply, &e); err != nil {
		return err
	}
	return sendErr
}

// abandonEffect closes a begun effect that sent nothing, so a retry does not take
// it for one in doubt, and returns why.
func (w *Workspace) abandonEffect(ctx context.Context, pushID int64, why error) error {
	if _, err := w.DB.FinishEffect(context.WithoutCancel(ctx), pushID, storage.EffectAutoReply, nil); err != nil {
		return errors.Join(why, err)
	}
	return why
}

func (w *Workspace) accountByID(ctx context.Context, id int64) (storage.Account, error) {
	list, err := w.DB.Accounts(ctx)
	if err != nil {
		return storage.Account{}, err
	}
	for _, a := range list {
		if a.ID == id {
			return a, nil
		}
	}
	return storage.Account{}, storage.ErrNotFound
}

// TextReplyBody is the rule body of a text reply (custom-service JSON, touser
// filled in when sent).
func TextReplyBody(text string) string {
	b, _ := json.Marshal(map[string]any{"touser": "", "msgtype": api.TypeText, "text": map[string]string{"content": text}})
	return string(b)
}

// AutoReplies lists the account's rules in order and its forwarding setting.
func (w *Workspace) AutoReplies(ctx context.Context, a storage.Account) ([]storage.AutoReplyRule, storage.Forwarding, error) {
	return w.autoReplyInputs(ctx, a.ID)
}

// AddAutoReply adds a rule (a follow, default or hours rule replaces the one there
// was), enabled, after the others. It applies to the next push.
func (w *Workspace) AddAutoReply(ctx context.Context, a storage.Account, r storage.AutoReplyRule) (storage.AutoReplyRule, error) {
	r.Enabled = true
	return w.DB.AddAutoReply(ctx, a.ID, r)
}

// RemoveAutoReply deletes rule id of the account.
func (w *Workspace) RemoveAutoReply(ctx context.Context, a storage.Account, id int64) error {
	return w.DB.RemoveAutoReply(ctx, a.ID, id)
}

// SetAutoReplyForward switches forwarding unmatched messages to the KF system.
func (w *Workspace) SetAutoReplyForward(ctx context.Context, a storage.Account, f storage.Forwarding) error {
	return w.DB.SetForward(ctx, a.ID, f)
}
