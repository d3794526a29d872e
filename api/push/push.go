// Package push is WeChat's message push (消息推送) protocol for Official Accounts
// and Mini Programs, exactly as documented: the signatures, WXBizMsgCrypt's AES
// scheme, the three modes, the message and event types, and the passive replies.
// Bytes in, typed values out: no HTTP server, no storage. Reading the body with a
// size limit is the caller's (io.LimitReader(r.Body, MaxBody+1)); every function
// here also refuses more than MaxBody.
//
//	https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html
//	https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
//	https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md
package push

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/url"
	"strconv"
	"time"
)

// MaxBody is the largest push body accepted. The largest documented push is a
// compatible-mode body ("消息包长度增加到原来的3倍左右", about 3× the message);
// a text is at most 2048 bytes, so real pushes stay under 16 KiB.
const MaxBody = 256 << 10

// DefaultWindow is how far a push's timestamp may be from now (CheckTimestamp).
// WeChat waits 5 s and retries 3 times; if the retries keep the first timestamp
// the last one is ~20 s old. Five minutes covers that and a server clock a few
// minutes off; a replay inside the window is caught by the dedup keys
// (Message.Key), so the window need not be tight.
const DefaultWindow = 5 * time.Minute

// Mode is the console's 消息加解密方式.
type Mode int

const (
	ModePlaintext  Mode = iota + 1 // 明文模式: no encryption, `signature` only
	ModeCompatible                 // 兼容模式: plaintext fields and Encrypt; only the decrypted copy is trusted
	ModeSafe                       // 安全模式: ToUserName and Encrypt only
)

func (m Mode) String() string {
	switch m {
	case ModePlaintext:
		return "plaintext"
	case ModeCompatible:
		return "compatible"
	case ModeSafe:
		return "safe"
	}
	return "unknown"
}

// Push is a verified push: the plaintext message, ready for ParseMessage.
type Push struct {
	Mode      Mode
	Format    Format // of the body WeChat sent; an encrypted reply uses the same envelope
	Body      []byte // the message: the body itself in plaintext mode, else the decrypted copy
	Timestamp string // the query's, as signed
	Nonce     string // the query's; an encrypted reply echoes it
	OpenID    string // the query's openid (informational: the message's FromUserName is what counts)
}

// CheckTimestamp refuses a timestamp (seconds, as in the query) further than
// window from now in either direction, as ErrTooOld; a timestamp that is not a
// number is ErrMalformed.
func CheckTimestamp(timestamp string, now time.Time, window time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrMalformed.with("timestamp is not a number")
	}
	d := now.Sub(time.Unix(ts, 0))
	if d > window || d < -window {
		return ErrTooOld.with("%s from now, window %s", d.Round(time.Second), window)
	}
	return nil
}

// Echo answers the console's GET URL verification: it returns echostr unchanged
// when signature = sha1(sort(token, timestamp, nonce)), else ErrSignature (the
// caller answers 403 with no echo). For OA and MP echostr is plaintext in every
// mode (unlike WeCom).
func (v *Verifier) Echo(q url.Values) (string, error) {
	if !v.VerifyURL(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
		return "", ErrSignature.with("GET signature")
	}
	return q.Get("echostr"), nil
}

// Open verifies a POSTed push and returns its plaintext message. In order: the
// size, the format (first non-blank byte), the signature (msg_signature over
// Encrypt in the encrypted modes, and `signature` whenever it is present), the
// timestamp (within window of now; 0 means DefaultWindow), then decryption with
// the appid check. In plaintext mode nothing signs the body itself (see
// Config.RequireEncryption). The signature is checked before the timestamp so ErrTooOld
// means a genuine push: a replay or a wrong server clock.
func (v *Verifier) Open(q url.Values, body []byte, now time.Time, window time.Duration) (*Push, error) {
	if len(body) > MaxBody {
		return nil, ErrTooLarge.with("%d bytes", len(body))
	}
	format, err := DetectFormat(body)
	if err != nil {
		return nil, err
	}
	p := &Push{Format: format, Timestamp: q.Get("timestamp"), Nonce: q.Get("nonce"), OpenID: q.Get("openid")}
	sig, hasSig := q["signature"]
	if hasSig && !v.VerifyURL(firstOf(sig), p.Timestamp, p.Nonce) {
		return nil, ErrSignature.with("signature")
	}
	switch q.Get("encrypt_type") {
	case "", "raw":
		if !hasSig {
			return nil, ErrSignature.with("no signature")
		}
		if v.encryptAll {
			return nil, ErrPlaintext
		}
		p.Mode, p.Body = ModePlaintext, body
	case "aes":
		f, err := parseFields(format, body)
		if err != nil {
			return nil, err
		}
		enc, ok := f["Encrypt"]
		if !ok {
			return nil, ErrMalformed.with("no Encrypt in an encrypt_type=aes body")
		}
		if !v.verifyMsg(q.Get("msg_signature"), p.Timestamp, p.Nonce, enc) {
			return nil, ErrSignature.with("msg_signature")
		}
		p.Mode = ModeSafe
		for k := range f {
			if k != "ToUserName" && k != "Encrypt" {
				p.Mode = ModeCompatible // the plaintext copy is ignored
				break
			}
		}
		if err := v.checkTime(p.Timestamp, now, window); err != nil {
			return nil, err
		}
		if p.Body, err = v.Decrypt(enc); err != nil {
			return nil, err
		}
		return p, nil
	default:
		return nil, ErrMalformed.with("encrypt_type %q", q.Get("encrypt_type"))
	}
	if err := v.checkTime(p.Timestamp, now, window); err != nil {
		return nil, err
	}
	return p, nil
}

func (v *Verifier) checkTime(ts string, now time.Time, window time.Duration) error {
	if window == 0 {
		window = DefaultWindow
	}
	return CheckTimestamp(ts, now, window)
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Success is the answer that needs no reply: WeChat then does nothing further
// and does not retry. It is never encrypted ("回复空串或者success（无需加密）").
const Success = "success"

// Seal prepares a passive reply (from the reply builders) to the push p. In
// plaintext mode, and for "success" or an empty reply in any mode, it returns
// reply unchanged. Otherwise it encrypts reply with 16 fresh bytes from rand and
// wraps it with MsgSignature, TimeStamp = now and Nonce = the request's nonce: in
// <xml> for an XML push, in the Mini Program's JSON envelope for a JSON push.
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
func (v *Verifier) Seal(rand io.Reader, p *Push, reply []byte, now time.Time) ([]byte, error) {
	if p.Mode == ModePlaintext || len(reply) == 0 || string(reply) == Success {
		return reply, nil
	}
	enc, err := v.Encrypt(rand, reply)
	if err != nil {
		return nil, err
	}
	ts := now.Unix()
	sig := Signature(v.token, strconv.FormatInt(ts, 10), p.Nonce, enc)
	if p.Format == FormatJSON {
		return json.Marshal(jsonEnvelope{enc, sig, ts, p.Nonce})
	}
	var b bytes.Buffer
	err = xml.NewEncoder(&b).Encode(xmlEnvelope{Encrypt: cdata{enc}, MsgSignature: cdata{sig}, TimeStamp: ts, Nonce: cdata{p.Nonce}})
	return b.Bytes(), err
}

// The documented reply envelopes, fields in the documented order.
type jsonEnvelope struct {
	Encrypt      string
	MsgSignature string
	TimeStamp    int64
	Nonce        string
}

type xmlEnvelope struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata
	MsgSignature cdata
	TimeStamp    int64
	Nonce        cdata
}

// cdata is an element whose text is written as <![CDATA[…]]>, as WeChat's own
// examples are (encoding/xml splits a "]]>" inside it).
type cdata struct {
	Text string `xml:",cdata"`
}
