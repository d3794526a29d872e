package wechattest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WeChat's pushing side (消息推送): the fake sends the account's customer messages
// and events to the developer's URL, signed and encrypted as the console's
// settings say, and judges the answers like WeChat. Built from the docs:
// https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html,
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html,
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/receive.html.

// PushMode is the console's 消息加解密方式.
type PushMode int

const (
	// PushPlaintext is 明文模式: signature only, plaintext bodies.
	PushPlaintext PushMode = iota
	// PushCompatible is 兼容模式: plaintext fields and Encrypt in one body.
	PushCompatible
	// PushSafe is 安全模式: only ToUserName and Encrypt.
	PushSafe
)

// PushFormat is a Mini Program's 数据格式; an Official Account is always XML.
type PushFormat int

const (
	PushXML PushFormat = iota
	PushJSON
)

// Documented delivery behaviour: "微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次".
const (
	DefaultPushTimeout = 5 * time.Second
	DefaultPushRetries = 3
)

// PushConfig is the account's push settings as the console holds them, plus test knobs.
type PushConfig struct {
	URL            string // the developer's URL (any query it carries is kept)
	Token          string // 3–32 characters
	EncodingAESKey string // 43 characters; needed unless Mode is PushPlaintext
	Mode           PushMode
	Format         PushFormat // Mini Program only; an OA pushes XML whatever this says
	AppID          string     // the appid inside the ciphertext (default the server's AppID)
	OriginalID     string     // the account's gh_ id, ToUserName of every push (default "gh_" + a fixed suffix)

	// Timeout is how long one attempt really waits for the answer (default
	// DefaultPushTimeout). A server on a FakeClock still moves that clock by the
	// documented 5 s per timed-out attempt, so retries carry WeChat's timestamps.
	Timeout time.Duration
	// Retries after the first attempt (default DefaultPushRetries; negative = none).
	Retries int
	// RetryDelay is the real wait between attempts (default none: WeChat resends as
	// soon as it drops the connection).
	RetryDelay time.Duration
	// Rand gives the 16-byte randoms of the ciphertext, the nonces and the echostr
	// (default crypto/rand); a fixed reader makes pushes byte for byte reproducible.
	Rand io.Reader
	// ContentType overrides the header (default text/xml or application/json), to check
	// that a receiver decides the format from the body.
	ContentType string
	// Client sends the pushes (default a client of its own); its Timeout is ignored.
	Client *http.Client
	// KeepDeliveries bounds what Deliveries returns (default DefaultKeepDeliveries,
	// negative = keep none), so a long-running demo does not grow.
	KeepDeliveries int
}

// DefaultKeepDeliveries is how many deliveries a Pusher remembers by default.
const DefaultKeepDeliveries = 10000

// DefaultOriginalID is the gh_ id pushes carry when PushConfig leaves it empty.
const DefaultOriginalID = "gh_kfdeskdemo01"

// Message is one customer message or event to push. The constructors below
// (Text, Image, Click, …) fill it; fields a type does not use are ignored.
type Message struct {
	From    string // the customer's openid (FromUserName)
	MsgType string // text, image, voice, video, shortvideo, location, link, miniprogrampage, event
	Event   string // for MsgType event: subscribe, unsubscribe, SCAN, CLICK, VIEW, kf_*, user_enter_tempsession…

	Content string // text
	MenuID  string // text answering a msgmenu: bizmsgmenuid; an empty Content takes the item's text

	// Media is the image / voice / video bytes and Thumb the video thumbnail: the push
	// stores them as temporary media (served by media/get for 3 days) and carries the
	// MediaId / ThumbMediaId. nil gives small sample bytes.
	Media, Thumb []byte
	Format       string // voice: amr (default) or speex
	Recognition  string // voice: speech recognition result, when on

	LocationX, LocationY, Label string // location, as WeChat writes them ("23.134521")
	Scale                       int

	Title, Description, URL string // link (miniprogrampage uses Title)
	AppID, PagePath         string // miniprogrampage
	ThumbURL                string // miniprogrampage

	EventKey, Ticket, ViewMenuID string // subscribe/SCAN/CLICK/VIEW (VIEW's MenuId)
	KFAccount                    string // kf_create_session, kf_close_session
	FromKFAccount, ToKFAccount   string // kf_switch_session
	SessionFrom                  string // user_enter_tempsession

	// Extra fields written after the documented ones, in order (e.g. debug_demo's debug_str).
	Extra [][2]string

	// Set by Push when zero: the message id (64-bit, messages only), CreateTime (now)
	// and the query nonce of the first attempt.
	MsgID      string
	CreateTime time.Time
	Nonce      string
}

// Text is a customer's text message.
func Text(from, content string) Message {
	return Message{From: from, MsgType: "text", Content: content}
}

// MenuAnswer is the customer tapping item id of a msgmenu the account sent them:
// a text push with the item's text and bizmsgmenuid.
func MenuAnswer(from, id string) Message { return Message{From: from, MsgType: "text", MenuID: id} }

// Image is a customer's picture (data nil = a sample JPEG).
func Image(from string, data []byte) Message {
	return Message{From: from, MsgType: "image", Media: data}
}

// Voice is a voice message, with WeChat's speech recognition result if recognition != "".
func Voice(from string, data []byte, recognition string) Message {
	return Message{From: from, MsgType: "voice", Media: data, Recognition: recognition}
}

// Video is a video message with its thumbnail.
func Video(from string, data, thumb []byte) Message {
	return Message{From: from, MsgType: "video", Media: data, Thumb: thumb}
}

// ShortVideo is a 小视频 message.
func ShortVideo(from string, data, thumb []byte) Message {
	return Message{From: from, MsgType: "shortvideo", Media: data, Thumb: thumb}
}

// Location is a shared location.
func Location(from, x, y string, scale int, label string) Message {
	return Message{From: from, MsgType: "location", LocationX: x, LocationY: y, Scale: scale, Label: label}
}

// Link is a shared link.
func Link(from, title, description, u string) Message {
	return Message{From: from, MsgType: "link", Title: title, Description: description, URL: u}
}

// MiniProgramPage is a Mini Program card sent in a Mini Program's customer service.
func MiniProgramPage(from, title, appid, pagepath string, thumb []byte) Message {
	return Message{From: from, MsgType: "miniprogrampage", Title: title, AppID: appid, PagePath: pagepath, Thumb: thumb}
}

// Event is any event push (CLICK with its key, VIEW with its URL, debug_demo…).
func Event(from, event, key string) Message {
	return Message{From: from, MsgType: "event", Event: event, EventKey: key}
}

// Subscribe is a follow; scene != "" is a follow by scanning a QR code (EventKey qrscene_<scene>).
func Subscribe(from, scene string) Message {
	m := Event(from, "subscribe", "")
	if scene != "" {
		m.EventKey, m.Ticket = "qrscene_"+scene, "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2t6"
	}
	return m
}

// Unsubscribe is an unfollow.
func Unsubscribe(from string) Message { return Event(from, "unsubscribe", "") }

// Scan is a follower scanning a QR code with scene.
func Scan(from, scene string) Message {
	m := Event(from, "SCAN", scene)
	m.Ticket = "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2t6"
	return m
}

// Click is a tap on a click menu button with key.
func Click(from, key string) Message { return Event(from, "CLICK", key) }

// View is a tap on a view (URL) menu button.
func View(from, u string) Message { return Event(from, "VIEW", u) }

// KFCreateSession: a KF worker took the customer's session.
func KFCreateSession(from, kf string) Message {
	m := Event(from, "kf_create_session", "")
	m.KFAccount = kf
	return m
}

// KFCloseSession: the KF worker closed it.
func KFCloseSession(from, kf string) Message {
	m := Event(from, "kf_close_session", "")
	m.KFAccount = kf
	return m
}

// KFSwitchSession: the session moved from one KF account to another.
func KFSwitchSession(from, fromKF, toKF string) Message {
	m := Event(from, "kf_switch_session", "")
	m.FromKFAccount, m.ToKFAccount = fromKF, toKF
	return m
}

// EnterTempSession: a Mini Program user entered customer service (session-from of the button).
func EnterTempSession(from, sessionFrom string) Message {
	m := Event(from, "user_enter_tempsession", "")
	m.SessionFrom = sessionFrom
	return m
}

// Verdict is how WeChat judged the answers to one push.
type Verdict string

const (
	// Accepted: "success" or an empty body; nothing more happens.
	Accepted Verdict = "accepted"
	// PassiveReply: a valid passive reply (Delivery.Reply holds it, decrypted).
	PassiveReply Verdict = "passive_reply"
	// Rejected: an answer WeChat refuses (the customer sees "暂时无法提供服务"); see Reason.
	Rejected Verdict = "rejected"
	// NoAnswer: every attempt timed out or failed; WeChat gave up.
	NoAnswer Verdict = "no_answer"
)

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	Time   time.Time // server clock when sent
	URL    string    // with its signed query
	Body   []byte    // as sent
	Status int       // 0 when no HTTP answer came
	Answer []byte    // the body answered
	Err    string    // "timeout" or the transport error; "" when answered
}

// Delivery is one push: what was sent, each attempt, and the verdict.
type Delivery struct {
	Message   Message // as pushed (MsgID, CreateTime, Nonce filled in)
	Plain     []byte  // the plaintext message (what Encrypt carries)
	Attempts  []Attempt
	Verdict   Verdict
	Reply     []byte // the passive reply, decrypted when it came encrypted
	ReplyType string // its MsgType
	Reason    string // why Rejected or NoAnswer

	fields fields // the plaintext's fields, repeated in a compatible-mode body
}

// Verification is one GET URL check (the console's 提交).
type Verification struct {
	URL     string // with signature, timestamp, nonce, echostr
	EchoStr string
	Status  int
	Answer  []byte
	OK      bool   // 200 and the echostr returned unchanged
	Reason  string // why not OK
}

// pushState is what pushes share on the server.
type pushState struct {
	lastMsgID uint64
}

// firstMsgID makes pushed MsgIds 64-bit like WeChat's, above 2^53 (JSON float trap).
const firstMsgID = 24_000_000_000_000_000

// Pusher pushes to one URL with one account's settings. Safe for concurrent use.
type Pusher struct {
	s      *Server
	cfg    PushConfig
	key    []byte
	client *http.Client

	randMu sync.Mutex
	mu     sync.Mutex
	log    []Delivery
}

// NewPusher checks cfg like the console does (Token 3–32 characters, a 43-character
// EncodingAESKey when encrypting) and fills in the defaults.
func (s *Server) NewPusher(cfg PushConfig) (*Pusher, error) {
	if u, err := url.Parse(cfg.URL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("push URL %q is not an absolute http(s) URL", cfg.URL)
	}
	if n := len(cfg.Token); n < 3 || n > 32 {
		return nil, fmt.Errorf("token must be 3-32 characters, got %d", n)
	}
	p := &Pusher{s: s, cfg: cfg}
	if cfg.Mode != PushPlaintext || cfg.EncodingAESKey != "" {
		k, err := decodeAESKey(cfg.EncodingAESKey)
		if err != nil {
			return nil, err
		}
		p.key = k
	}
	if s.cfg.Kind == OfficialAccount {
		p.cfg.Format = PushXML
	}
	if p.cfg.AppID == "" {
		p.cfg.AppID = s.cfg.AppID
	}
	if p.cfg.OriginalID == "" {
		p.cfg.OriginalID = DefaultOriginalID
	}
	if p.cfg.Timeout <= 0 {
		p.cfg.Timeout = DefaultPushTimeout
	}
	if p.cfg.Retries == 0 {
		p.cfg.Retries = DefaultPushRetries
	}
	if p.cfg.Rand == nil {
		p.cfg.Rand = rand.Reader
	}
	if p.cfg.ContentType == "" {
		p.cfg.ContentType = "text/xml"
		if p.cfg.Format == PushJSON {
			p.cfg.ContentType = "application/json"
		}
	}
	if p.cfg.KeepDeliveries == 0 {
		p.cfg.KeepDeliveries = DefaultKeepDeliveries
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64 // pushes under load reuse connections like WeChat's
	c := http.Client{Transport: tr}
	if cfg.Client != nil {
		c = *cfg.Client
	}
	c.Timeout = 0 // each attempt has its own deadline
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	return p, nil
}

// Close drops the pusher's idle connections to the developer's server.
func (p *Pusher) Close() { p.client.CloseIdleConnections() }

// Config returns the effective settings.
func (p *Pusher) Config() PushConfig { return p.cfg }

// Deliveries returns every push so far, oldest first.
func (p *Pusher) Deliveries() []Delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Delivery(nil), p.log...)
}

// random reads n bytes of the configured randomness.
func (p *Pusher) random(n int) []byte {
	b := make([]byte, n)
	p.randMu.Lock()
	_, err := io.ReadFull(p.cfg.Rand, b)
	p.randMu.Unlock()
	if err != nil {
		panic("wechattest: push randomness: " + err.Error())
	}
	return b
}

// nonce is a decimal like WeChat's ("415670741").
func (p *Pusher) nonce() string {
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(p.random(4))), 10)
}

// randomText is 16 random bytes for the ciphertext, hex digits like the official
// samples' ("a8eedb185eb2fecf").
func (p *Pusher) randomText() []byte {
	const hexDigits = "0123456789abcdef"
	b := p.random(16)
	for i := range b {
		b[i] = hexDigits[b[i]%16]
	}
	return b
}

// VerifyURL sends the console's GET check: signature over token, timestamp and
// nonce, and echostr (plaintext in every mode), which must come back unchanged.
func (p *Pusher) VerifyURL(ctx context.Context) Verification {
	ts := strconv.FormatInt(p.s.Now().Unix(), 10)
	nonce := p.nonce()
	echo := strconv.FormatUint(binary.BigEndian.Uint64(p.random(8))>>1, 10)
	q := orderedQuery{{"signature", pushSignature(p.cfg.Token, ts, nonce)}, {"timestamp", ts},
		{"nonce", nonce}, {"echostr", echo}}
	v := Verification{URL: q.addTo(p.cfg.URL), EchoStr: echo}
	status, answer, errText := p.send(ctx, http.MethodGet, v.URL, nil)
	v.Status, v.Answer = status, answer
	switch {
	case errText != "":
		v.Reason = errText
	case status != http.StatusOK:
		v.Reason = fmt.Sprintf("HTTP %d", status)
	case string(answer) != echo:
		v.Reason = fmt.Sprintf("answered %q, not the echostr", clip(answer))
	default:
		v.OK = true
	}
	return v
}

// Push sends m as WeChat would and returns the delivery once it is judged. It first
// updates the fake's model as the customer's action does (reply windows, followers,
// sessions, stored media), whatever the developer's server answers. An error means
// m cannot be pushed by this kind of account (nothing is sent).
func (p *Pusher) Push(ctx context.Context, m Message) (Delivery, error) {
	f, err := p.prepare(&m)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Message: m, Plain: f.encode(p.cfg.Format), fields: f}
	p.deliver(ctx, &d)
	p.mu.Lock()
	if keep := p.cfg.KeepDeliveries; keep > 0 {
		if len(p.log) >= keep {
			p.log = append(p.log[:0:0], p.log[len(p.log)-keep/2:]...) // the newest half
		}
		p.log = append(p.log, d)
	}
	p.mu.Unlock()
	return d, nil
}

// pushable lists what each kind pushes: a Mini Program's customer service has text,
// image and miniprogrampage messages and the user_enter_tempsession event.
var pushable = map[Kind]map[string]bool{
	OfficialAccount: {"text": true, "image": true, "voice": true, "video": true, "shortvideo": true,
		"location": true, "link": true, "event": true},
	MiniProgram: {"text": true, "image": true, "miniprogrampage": true, "event": true},
}

// oaEvents are the Official Account's follow, QR and menu events.
var oaEvents = map[string]bool{"subscribe": true, "unsubscribe": true, "SCAN": true, "CLICK": true, "VIEW": true}

// prepare checks m, fills its defaults, applies it to the model and lists its fields.
func (p *Pusher) prepare(m *Message) (fields, error) {
	s := p.s
	kind := s.cfg.Kind
	if m.From == "" {
		return nil, errors.New("push without a FromUserName")
	}
	if !pushable[kind][m.MsgType] {
		return nil, fmt.Errorf("a %s does not push %q messages", kind, m.MsgType)
	}
	if m.MsgType == "event" {
		switch {
		case m.Event == "":
			return nil, errors.New("event push without an Event")
		case kind == MiniProgram && oaEvents[m.Event], kind == OfficialAccount && m.Event == "user_enter_tempsession":
			return nil, fmt.Errorf("a %s does not push %s events", kind, m.Event)
		}
	}
	if m.Nonce == "" {
		m.Nonce = p.nonce()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.CreateTime.IsZero() {
		m.CreateTime = s.clock.Now()
	}
	if u := s.users[m.From]; kind == OfficialAccount && u != nil && !u.following &&
		m.Event != "subscribe" && m.Event != "unsubscribe" { // unsubscribe may come again
		return nil, fmt.Errorf("%s does not follow the account: only a subscribe can come from them", m.From)
	}
	at := m.CreateTime
	if m.MenuID != "" && m.Content == "" {
		content, ok := s.menuItem(m.From, m.MenuID)
		if !ok {
			return nil, fmt.Errorf("no msgmenu with item %q was sent to %s", m.MenuID, m.From)
		}
		m.Content = content
	}
	if m.MsgType != "event" && m.MsgID == "" {
		s.lastMsgID++
		m.MsgID = strconv.FormatUint(firstMsgID+s.lastMsgID, 10)
	}
	switch m.MsgType {
	case "image":
		m.Media = orSample(m.Media, sampleJPEG)
	case "voice":
		m.Media = orSample(m.Media, sampleAMR)
		if m.Format == "" {
			m.Format = "amr"
		}
	case "video", "shortvideo":
		m.Media, m.Thumb = orSample(m.Media, sampleMP4), orSample(m.Thumb, sampleJPEG)
	case "miniprogrampage":
		m.Thumb = orSample(m.Thumb, sampleJPEG)
	}
	f := p.fields(m, at)
	p.apply(m, at)
	return f, nil
}

func orSample(b, sample []byte) []byte {
	if b == nil {
		return sample
	}
	return b
}

// Sample media bytes for pushes that bring none.
var (
	sampleJPEG = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")
	sampleAMR  = AMR(5 * time.Second)
	sampleMP4  = MP4(15 * time.Second)
)

// menuItem finds item id in the latest msgmenu sent to openid. s.mu is held.
func (s *Server) menuItem(openid, id string) (string, bool) {
	for i := len(s.sent) - 1; i >= 0; i-- {
		sm := s.sent[i]
		if sm.ToUser != openid || sm.MsgType != "msgmenu" {
			continue
		}
		var body struct {
			Menu menuMsg `json:"msgmenu"`
		}
		if json.Unmarshal(sm.Body, &body) != nil {
			continue
		}
		for _, it := range body.Menu.List {
			if it.ID == id {
				return it.Content, true
			}
		}
	}
	return "", false
}

// apply is the customer's action on the fake's model. s.mu is held.
func (p *Pusher) apply(m *Message, at time.Time) {
	s := p.s
	if m.MsgType != "event" {
		s.userMessage(m.From, at) // 5 custom messages within 48 h
		return
	}
	switch m.Event {
	case "subscribe":
		s.follow(m.From, at)
		s.userEvent(m.From, at) // 3 within a minute
	case "unsubscribe":
		s.unfollow(m.From)
	case "SCAN", "CLICK", "user_enter_tempsession": // 3 (a Mini Program: 2) within a minute
		s.userEvent(m.From, at)
	case "kf_create_session":
		s.knownUser(m.From, at)
		s.sessions[m.From] = &session{kf: m.KFAccount, created: at.Unix()}
		s.dropWait(m.From)
	case "kf_switch_session":
		s.sessions[m.From] = &session{kf: m.ToKFAccount, created: at.Unix()}
	case "kf_close_session":
		delete(s.sessions, m.From)
	}
}

// field is one element of a push body.
type field struct {
	name, value string
	num         bool // written bare: XML without CDATA, JSON as a number
}

type fields []field

// fields lists m's body in the documented order.
func (p *Pusher) fields(m *Message, at time.Time) fields {
	f := fields{{"ToUserName", p.cfg.OriginalID, false}, {"FromUserName", m.From, false},
		{"CreateTime", strconv.FormatInt(at.Unix(), 10), true}, {"MsgType", m.MsgType, false}}
	add := func(name, value string) { f = append(f, field{name, value, false}) }
	opt := func(name, value string) {
		if value != "" {
			add(name, value)
		}
	}
	media := func(typ string, data []byte) string {
		return p.s.storeMedia(typ, "", "", data, at).ID
	}
	switch m.MsgType {
	case "text":
		add("Content", m.Content)
	case "image":
		id := media("image", m.Media)
		add("PicUrl", p.s.mediaBase()+mediaFilePrefix+id)
		add("MediaId", id)
	case "voice":
		add("MediaId", media("voice", m.Media))
		add("Format", m.Format)
		opt("Recognition", m.Recognition)
	case "video", "shortvideo":
		add("MediaId", media("video", m.Media))
		add("ThumbMediaId", media("thumb", m.Thumb))
	case "location":
		f = append(f, field{"Location_X", m.LocationX, true}, field{"Location_Y", m.LocationY, true},
			field{"Scale", strconv.Itoa(m.Scale), true})
		add("Label", m.Label)
	case "link":
		add("Title", m.Title)
		add("Description", m.Description)
		add("Url", m.URL)
	case "event":
		add("Event", m.Event)
		switch m.Event {
		case "subscribe", "SCAN":
			opt("EventKey", m.EventKey)
			opt("Ticket", m.Ticket)
		case "CLICK", "VIEW":
			add("EventKey", m.EventKey)
			opt("MenuId", m.ViewMenuID)
		case "kf_create_session", "kf_close_session":
			add("KfAccount", m.KFAccount)
		case "kf_switch_session":
			add("FromKfAccount", m.FromKFAccount)
			add("ToKfAccount", m.ToKFAccount)
		case "user_enter_tempsession":
			add("SessionFrom", m.SessionFrom)
		default:
			opt("EventKey", m.EventKey)
		}
	}
	if m.MsgID != "" {
		f = append(f, field{"MsgId", m.MsgID, true})
	}
	if m.MsgType == "miniprogrampage" { // the doc puts MsgId before the card's fields
		add("Title", m.Title)
		add("AppId", m.AppID)
		add("PagePath", m.PagePath)
		add("ThumbUrl", m.ThumbURL)
		add("ThumbMediaId", media("image", m.Thumb))
	}
	if m.MenuID != "" {
		f = append(f, field{"bizmsgmenuid", m.MenuID, isDigits(m.MenuID)})
	}
	for _, x := range m.Extra {
		add(x[0], x[1])
	}
	return f
}

// mediaBase is the URL media links point at. s.mu is held.
func (s *Server) mediaBase() string {
	if s.URL != "" {
		return s.URL
	}
	return "http://127.0.0.1"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// encode writes the fields like WeChat: XML with a newline after each element
// (the official plaintexts carry them), or compact JSON without HTML escaping.
func (f fields) encode(format PushFormat) []byte {
	var b bytes.Buffer
	if format == PushJSON {
		b.WriteByte('{')
		for i, x := range f {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonString(x.name))
			b.WriteByte(':')
			if x.num {
				b.WriteString(x.value)
			} else {
				b.Write(jsonString(x.value))
			}
		}
		b.WriteByte('}')
		return b.Bytes()
	}
	b.WriteString("<xml>")
	for _, x := range f {
		b.WriteString("<" + x.name + ">")
		if x.num {
			b.WriteString(x.value)
		} else {
			b.WriteString("<![CDATA[" + strings.ReplaceAll(x.value, "]]>", "]]]]><![CDATA[>") + "]]>")
		}
		b.WriteString("</" + x.name + ">\n")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// orderedQuery keeps WeChat's parameter order (url.Values would sort it).
type orderedQuery [][2]string

func (q orderedQuery) addTo(base string) string {
	var b strings.Builder
	b.WriteString(base)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for _, kv := range q {
		b.WriteString(sep + url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1]))
		sep = "&"
	}
	return b.String()
}

// envelope builds one attempt's signed URL and body: every attempt carries the same
// message (MsgId, CreateTime) under a fresh timestamp, nonce and random, except the
// first, which uses m.Nonce.
func (p *Pusher) envelope(d *Delivery, first bool) (u string, body []byte) {
	ts := strconv.FormatInt(p.s.Now().Unix(), 10)
	nonce := d.Message.Nonce
	if !first {
		nonce = p.nonce()
	}
	q := orderedQuery{{"signature", pushSignature(p.cfg.Token, ts, nonce)}, {"timestamp", ts},
		{"nonce", nonce}, {"openid", d.Message.From}}
	if p.cfg.Mode == PushPlaintext {
		return q.addTo(p.cfg.URL), d.Plain
	}
	enc := encryptPush(p.key, p.randomText(), d.Plain, p.cfg.AppID)
	q = append(q, [2]string{"encrypt_type", "aes"}, [2]string{"msg_signature", pushSignature(p.cfg.Token, ts, nonce, enc)})
	f := fields{{"ToUserName", p.cfg.OriginalID, false}}
	if p.cfg.Mode == PushCompatible {
		f = slices.Clone(d.fields)
	}
	f = append(f, field{"Encrypt", enc, false})
	return q.addTo(p.cfg.URL), f.encode(p.cfg.Format)
}
