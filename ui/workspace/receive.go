package workspace

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/push"
	"kfdesk/storage"
)

// Background jobs a stored push queues; the workers that run them come with the
// auto-replies and the desktop feed (issue 11 §4, §5).
const (
	JobMedia     storage.JobKind = "media"     // download the push's media (media/get) while it lives
	JobAutoReply storage.JobKind = "autoreply" // the auto-reply's custom/send part, exactly once: RunAutoReplyJob
	JobNotify    storage.JobKind = "notify"    // tell connected desktops
)

// Receiver takes one account's message pushes: it verifies a request (signature,
// decryption, appid, time window), stores the push durably and exactly once
// (WeChat retries a push it got no answer to within 5 s, up to 3 times), queues the
// rest for the background and answers. Nothing slow happens before the answer.
// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
type Receiver struct {
	w        *Workspace
	account  storage.Account
	verifier *push.Verifier
	// Window is how far a push's timestamp may be from now (default push.DefaultWindow).
	Window time.Duration

	mu      sync.Mutex
	answers map[int64]answered // recent passive replies by push id, for WeChat's retries
}

// NewReceiver prepares the receiver of account a with its push settings (the
// Token and EncodingAESKey pasted into the console, and its AppID).
func (w *Workspace) NewReceiver(a storage.Account, cfg push.Config) (*Receiver, error) {
	if cfg.AppID == "" {
		cfg.AppID = a.AppID
	}
	v, err := push.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Receiver{w: w, account: a, verifier: v, Window: push.DefaultWindow}, nil
}

// Account is the account whose pushes this receiver takes.
func (r *Receiver) Account() storage.Account { return r.account }

// Verify answers the console's GET check: the echostr when the signature is
// right, 403 and nothing else when it is not.
func (r *Receiver) Verify(q url.Values) (status int, answer []byte) {
	echo, err := r.verifier.Echo(q)
	if err != nil {
		return http.StatusForbidden, nil
	}
	return http.StatusOK, []byte(echo)
}

// Receive takes one POSTed push. It answers 200 once the push is stored (a retry of
// a stored push too, so WeChat stops): with the auto-reply's passive part, sealed
// for the mode (see autoreply.go; a retry gets the same reply, see recall), or
// "success"; what goes through custom/send is queued as JobAutoReply. It answers
// 403 for a request that is not WeChat's (bad signature, wrong appid, too old), 400 for a body that cannot be a
// push, and 500 when it could not be stored: WeChat then retries. err says why a
// push was refused, for the server's log (it never holds the message's text).
func (r *Receiver) Receive(ctx context.Context, q url.Values, body []byte) (status int, answer []byte, err error) {
	now := clock.Now()
	p, err := r.verifier.Open(q, body, now, r.Window)
	if err != nil {
		return refusal(err), nil, err
	}
	m, err := push.ParseMessage(p.Body)
	if err != nil {
		return http.StatusBadRequest, nil, err
	}
	sp := storedPush(m, p)
	mp := MiniProgram(r.account)
	// Decide before storing (the rules are a fast local read), peeking at the hour's
	// notice: who sends it claims it, below or in the job.
	rules, fwd, err := r.w.autoReplyInputs(ctx, r.account.ID)
	decided := err == nil
	var d AutoReply
	if decided {
		d, err = decideAutoReply(rules, fwd, sp, mp, func() (bool, error) {
			return r.w.DB.DefaultReplyDue(ctx, r.account.ID, sp.OpenID, sp.CreateTime)
		})
		decided = err == nil
	}
	jobs := []storage.JobKind{JobNotify}
	if !decided || d.background(mp) != nil {
		jobs = append(jobs, JobAutoReply) // the job decides again, and sends
	}
	if m.MediaID != "" {
		jobs = append(jobs, JobMedia)
	}
	jobs = append(jobs, r.w.forgetJobs(ctx, r.account, m)...)
	// The store must finish even if WeChat hangs up: a half-answered push is retried
	// and then found stored.
	id, duplicate, err := r.w.DB.StorePush(context.WithoutCancel(ctx), r.account.ID, sp, jobs...)
	if err != nil {
		return http.StatusInternalServerError, nil, err
	}
	if !duplicate {
		r.w.pushed.broadcast() // desktops waiting on the feed read it now (desktopapi.go)
	}
	if !decided {
		return http.StatusOK, []byte(push.Success), nil
	}
	reply, ok := r.recall(id) // a retry (see recall)
	if !duplicate || !ok {
		reply = r.answer(ctx, m, sp, rules, fwd, d)
		r.remember(id, reply)
	}
	if reply == nil {
		return http.StatusOK, []byte(push.Success), nil
	}
	sealed, err := r.verifier.Seal(rand.Reader, p, reply, clock.Now())
	if err != nil {
		return http.StatusOK, []byte(push.Success), nil // stored; the customer just gets no passive reply
	}
	return http.StatusOK, sealed, nil
}

// refusal is the HTTP status for a push that does not open.
func refusal(err error) int {
	if errors.Is(err, push.ErrTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	for _, e := range []error{push.ErrMalformed, push.ErrBase64, push.ErrPadding, push.ErrLength} {
		if errors.Is(err, e) {
			return http.StatusBadRequest
		}
	}
	return http.StatusForbidden // signature, appid, time window, plaintext refused: not WeChat's
}

// storedPush is the decoded push as the archive keeps it.
func storedPush(m *push.Message, p *push.Push) storage.Push {
	sp := storage.Push{CreateTime: time.Unix(m.CreateTime, 0), ToUser: m.ToUserName, OpenID: m.FromUserName,
		MsgType: m.MsgType, Event: m.Event, EventKey: m.EventKey, MsgID: m.MsgID, Content: m.Content,
		MenuID: m.BizMsgMenuID, MediaID: m.MediaID, ThumbMediaID: m.ThumbMediaID, PicURL: m.PicURL,
		Format: m.Format, Recognition: m.Recognition, Title: m.Title, Description: m.Description, URL: m.URL,
		Raw: p.Body, BodyFormat: storage.FormatXML}
	if f, _ := push.DetectFormat(p.Body); f == push.FormatJSON { // the message's own format, not the envelope's
		sp.BodyFormat = storage.FormatJSON
	}
	if m.MsgType == push.TypeLocation {
		x, _ := strconv.ParseFloat(m.LocationX, 64)
		y, _ := strconv.ParseFloat(m.LocationY, 64)
		scale, _ := strconv.Atoi(m.Scale)
		sp.Location = &storage.Location{X: x, Y: y, Scale: scale, Label: m.Label}
	}
	extra := map[string]string{}
	for k, v := range map[string]string{"AppId": m.AppID, "PagePath": m.PagePath, "ThumbUrl": m.ThumbURL, "Ticket": m.Ticket,
		"KfAccount": m.KfAccount, "FromKfAccount": m.FromKfAccount, "ToKfAccount": m.ToKfAccount, "SessionFrom": m.SessionFrom} {
		if v != "" {
			extra[k] = v
		}
	}
	if len(extra) > 0 {
		sp.Extra = extra
	}
	return sp
}

// Receivers are the receivers of every account set up with `serve init`; accounts
// without push settings are left out.
func (w *Workspace) Receivers(ctx context.Context) ([]*Receiver, error) {
	accs, err := w.DB.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Receiver
	for _, a := range accs {
		if a.Demo {
			continue
		}
		p, err := w.PushSettings(ctx, a)
		if errors.Is(err, storage.ErrSecretNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r, err := w.NewReceiver(a, push.Config{Token: p.Token, EncodingAESKey: p.EncodingAESKey, AppID: a.AppID})
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
