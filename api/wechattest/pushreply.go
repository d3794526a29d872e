package wechattest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxAnswer bounds what the fake reads of an answer (a passive reply is small).
const maxAnswer = 1 << 20

// deliver runs the attempts: one, then Retries more after each timeout, transport
// error or non-200 answer; the first 200 answer is judged and ends the delivery.
func (p *Pusher) deliver(ctx context.Context, d *Delivery) {
	for i := 0; i <= max(p.cfg.Retries, 0); i++ {
		if i > 0 && p.cfg.RetryDelay > 0 {
			t := time.NewTimer(p.cfg.RetryDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
		if ctx.Err() != nil {
			break
		}
		u, body := p.envelope(d, i == 0)
		a := Attempt{Time: p.s.Now(), URL: u, Body: body}
		a.Status, a.Answer, a.Err = p.send(ctx, http.MethodPost, u, body)
		d.Attempts = append(d.Attempts, a)
		if a.Err == "" && a.Status == http.StatusOK {
			p.judge(d, a.Answer)
			return
		}
		if a.Err == "timeout" {
			// WeChat's own timeline: the retry goes out when its 5 s are up, however
			// short the test's real Timeout is.
			if fc, ok := p.s.clock.(*FakeClock); ok {
				fc.Advance(DefaultPushTimeout)
			}
		}
	}
	d.Verdict = NoAnswer
	if n := len(d.Attempts); n > 0 {
		a := d.Attempts[n-1]
		d.Reason = a.Err
		if d.Reason == "" {
			d.Reason = fmt.Sprintf("HTTP %d", a.Status)
		}
		d.Reason = fmt.Sprintf("gave up after %d attempts: %s", n, d.Reason)
	} else {
		d.Reason = "cancelled before the first attempt"
	}
}

// send makes one request within Timeout; errText is "timeout" when the deadline passed.
func (p *Pusher) send(ctx context.Context, method, u string, body []byte) (status int, answer []byte, errText string) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err.Error()
	}
	req.Header.Set("User-Agent", "Mozilla/4.0")
	req.Header.Set("Accept", "*/*")
	if body != nil {
		req.Header.Set("Content-Type", p.cfg.ContentType)
	}
	resp, err := p.client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	}
	switch {
	case err == nil:
		return resp.StatusCode, answer, ""
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return 0, nil, "timeout"
	default:
		return 0, nil, err.Error()
	}
}

// judge sets the verdict for a 200 answer. The reply's Nonce is not compared with the
// query's: the doc only says echoing it "即可" (will do).
func (p *Pusher) judge(d *Delivery, answer []byte) {
	if len(answer) == 0 || string(answer) == "success" { // "回复空串或者success（无需加密）"
		d.Verdict = Accepted
		return
	}
	reply, root, reason := p.openReply(answer)
	d.Reply = reply
	if reason == "" {
		d.ReplyType, reason = p.checkPassive(d, root)
	}
	if reason != "" {
		d.Verdict, d.Reason = Rejected, reason
		return
	}
	d.Verdict = PassiveReply
	if d.ReplyType == "transfer_customer_service" {
		p.s.mu.Lock()
		p.s.addWait(d.Message.From, d.Message.CreateTime) // the customer now waits for a KF
		p.s.mu.Unlock()
	}
}

// openReply takes the answer out of its envelope: in safe and compatible mode an
// encrypted one (Encrypt, MsgSignature, TimeStamp, Nonce) must verify and decrypt
// with our appid; safe mode takes nothing else, plaintext mode nothing encrypted.
func (p *Pusher) openReply(answer []byte) (reply []byte, root *replyNode, reason string) {
	root, reason = p.parseReply(answer)
	if reason != "" {
		return answer, nil, reason
	}
	enc := root.child("Encrypt")
	if enc == nil {
		if p.cfg.Mode == PushSafe {
			return answer, root, "a plaintext reply in safe mode"
		}
		return answer, root, ""
	}
	if p.cfg.Mode == PushPlaintext {
		return answer, nil, "an encrypted reply in plaintext mode"
	}
	for _, name := range []string{"MsgSignature", "TimeStamp", "Nonce"} {
		if root.text(name) == "" {
			return answer, nil, "the encrypted reply has no " + name
		}
	}
	if root.json && (!root.child("TimeStamp").number || root.child("Nonce").number) {
		return answer, nil, "the JSON reply's TimeStamp must be a number and its Nonce a string"
	}
	ts := root.text("TimeStamp")
	if !isDigits(ts) {
		return answer, nil, fmt.Sprintf("TimeStamp %q is not an integer", ts)
	}
	if want := pushSignature(p.cfg.Token, ts, root.text("Nonce"), enc.Text); root.text("MsgSignature") != want {
		return answer, nil, "MsgSignature does not match sha1(sort(token, TimeStamp, Nonce, Encrypt))"
	}
	msg, appid, err := decryptPush(p.key, enc.Text)
	if err != nil {
		return answer, nil, "cannot decrypt the reply: " + err.Error()
	}
	if appid != p.cfg.AppID {
		return msg, nil, fmt.Sprintf("the reply is encrypted for appid %q, not %q", appid, p.cfg.AppID)
	}
	inner, reason := p.parseReply(msg)
	return msg, inner, reason
}

// parseReply reads an XML reply, or a JSON one from a Mini Program pushing JSON;
// an OA answering JSON is WeChat's example of "异常数据".
func (p *Pusher) parseReply(b []byte) (*replyNode, string) {
	t := bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(t) > 0 && t[0] == '{':
		if p.cfg.Format != PushJSON {
			return nil, "a JSON answer to an XML push"
		}
		var raw json.RawMessage
		if err := json.Unmarshal(t, &raw); err != nil {
			return nil, "malformed JSON reply: " + err.Error()
		}
		n := jsonNode(raw)
		if n.children == nil {
			return nil, "the JSON reply is not an object"
		}
		return n, ""
	case len(t) > 0 && t[0] == '<':
		var n replyNode
		if err := xml.Unmarshal(t, &n); err != nil {
			return nil, "malformed XML reply: " + err.Error()
		}
		if n.XMLName.Local != "xml" {
			return nil, fmt.Sprintf("the reply's root is <%s>, not <xml>", n.XMLName.Local)
		}
		return &n, ""
	}
	return nil, fmt.Sprintf("answered %q: not success, empty or a reply", clip(b))
}

// checkPassive checks a passive reply as the passive-reply doc shapes it
// (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html);
// a Mini Program can only hand over to customer service
// (https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/trans.html).
func (p *Pusher) checkPassive(d *Delivery, r *replyNode) (typ, reason string) {
	typ = r.text("MsgType")
	switch {
	case r.text("ToUserName") != d.Message.From:
		return typ, fmt.Sprintf("ToUserName %q is not the customer %q", r.text("ToUserName"), d.Message.From)
	case r.text("FromUserName") != p.cfg.OriginalID:
		return typ, fmt.Sprintf("FromUserName %q is not the account's original id %q", r.text("FromUserName"), p.cfg.OriginalID)
	case !isDigits(r.text("CreateTime")):
		return typ, fmt.Sprintf("CreateTime %q is not an integer", r.text("CreateTime"))
	case p.s.cfg.Kind == MiniProgram && typ != "transfer_customer_service":
		return typ, fmt.Sprintf("a Mini Program cannot reply %q passively (only transfer_customer_service)", typ)
	}
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	media := func(path []string, types ...string) string {
		n := r
		for _, name := range path {
			n = n.child(name)
		}
		id := n.text1()
		if s.checkMedia(id, now, types...) != nil {
			return fmt.Sprintf("%v %q is not a live media_id of type %v", path, id, types)
		}
		return ""
	}
	switch typ {
	case "text":
		if c := r.text("Content"); c == "" {
			return typ, "a text reply with an empty Content"
		} else if len(c) > maxTextBytes {
			return typ, "the text reply is over 2048 bytes"
		}
	case "image":
		return typ, media([]string{"Image", "MediaId"}, "image")
	case "voice":
		return typ, media([]string{"Voice", "MediaId"}, "voice")
	case "video":
		return typ, media([]string{"Video", "MediaId"}, "video")
	case "music":
		return typ, media([]string{"Music", "ThumbMediaId"}, "thumb", "image")
	case "news":
		n, err := strconv.Atoi(r.text("ArticleCount"))
		items := 0
		if a := r.child("Articles"); a != nil {
			for _, c := range a.Nodes {
				if c.XMLName.Local == "item" {
					items++
				}
			}
		}
		if err != nil || n < 1 || n > 8 || n != items {
			return typ, fmt.Sprintf("ArticleCount %q with %d items (want 1-8, equal)", r.text("ArticleCount"), items)
		}
	case "transfer_customer_service":
		if d.Message.MsgType == "event" {
			return typ, "transfer_customer_service answers an event; the doc forwards user messages only"
		}
		if kf := r.child("TransInfo").text("KfAccount"); kf != "" && s.findKF(kf) == nil {
			return typ, fmt.Sprintf("TransInfo names an unknown KfAccount %q", kf)
		}
	default:
		return typ, fmt.Sprintf("unknown reply MsgType %q", typ)
	}
	return typ, ""
}

// replyNode is a parsed reply element (XML, or JSON mapped onto the same shape).
type replyNode struct {
	XMLName xml.Name
	Text    string      `xml:",chardata"`
	Nodes   []replyNode `xml:",any"`

	json     bool                  // from JSON
	number   bool                  // a JSON number
	children map[string]*replyNode // JSON object members
}

func (n *replyNode) child(name string) *replyNode {
	if n == nil {
		return nil
	}
	if n.json {
		return n.children[name]
	}
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

// text1 is the node's own text.
func (n *replyNode) text1() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// text is the text of the child called name.
func (n *replyNode) text(name string) string { return n.child(name).text1() }

// jsonNode maps a JSON value onto replyNode (numbers keep their digits).
func jsonNode(raw json.RawMessage) *replyNode {
	n := &replyNode{json: true}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil && obj != nil {
		n.children = map[string]*replyNode{}
		for k, v := range obj {
			n.children[k] = jsonNode(v)
		}
		return n
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		n.Text = str
		return n
	}
	var num json.Number
	if json.Unmarshal(raw, &num) == nil {
		n.Text, n.number = num.String(), true
	}
	return n
}

// clip shortens an answer quoted in a reason.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
