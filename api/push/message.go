package push

import (
	"strconv"
	"strings"
)

// MsgType values of customer-service pushes.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
// https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/customer-message/receive.html
const (
	TypeText            = "text"
	TypeImage           = "image"
	TypeVoice           = "voice"
	TypeVideo           = "video"
	TypeShortVideo      = "shortvideo"
	TypeLocation        = "location"
	TypeLink            = "link"
	TypeMiniProgramPage = "miniprogrampage" // Mini Program only
	TypeEvent           = "event"
)

// Event values of customer-service pushes.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
// https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Session_control.html
const (
	EventSubscribe        = "subscribe" // EventKey "qrscene_<scene>" when followed by scanning a code
	EventUnsubscribe      = "unsubscribe"
	EventScan             = "SCAN" // a follower scanned a code; EventKey is the scene
	EventClick            = "CLICK"
	EventView             = "VIEW"
	EventKfCreateSession  = "kf_create_session"
	EventKfCloseSession   = "kf_close_session"
	EventKfSwitchSession  = "kf_switch_session"
	EventUserEnterSession = "user_enter_tempsession" // Mini Program only
	EventDebugDemo        = "debug_demo"             // the console's 调试工具 test push
)

// Message is one push, message or event, decoded identically from XML and JSON:
// the field names are the same in both and matched exactly (encoding/json would
// case-fold, and could not map Location_X to LocationX). Numbers are kept as
// sent where precision matters: MsgID is a 64-bit integer in XML, a bare JSON
// number that may exceed 2^53, or a string in a cloud function.
type Message struct {
	ToUserName   string // the account's original id (gh_…)
	FromUserName string // the customer's openid
	CreateTime   int64  // seconds, WeChat's clock
	MsgType      string // Type*
	MsgID        string // MsgId; empty for events

	Content      string // text
	BizMsgMenuID string // text answering a msgmenu: the chosen option's id (bizmsgmenuid); Content is its text

	PicURL       string // image: PicUrl
	MediaID      string // image, voice, video, shortvideo: MediaId (media/get, 3 days)
	Format       string // voice: amr, speex…
	Recognition  string // voice: speech recognition text, when the account has it on
	ThumbMediaID string // video, shortvideo, miniprogrampage

	LocationX string // location: latitude, as sent (Location_X)
	LocationY string // location: longitude, as sent (Location_Y)
	Scale     string // location: map zoom
	Label     string // location: place name

	Title       string // link, miniprogrampage
	Description string // link
	URL         string // link: Url

	AppID    string // miniprogrampage: AppId
	PagePath string // miniprogrampage
	ThumbURL string // miniprogrampage: ThumbUrl

	Event    string // Event* when MsgType is "event"
	EventKey string // subscribe (qrscene_…), SCAN, CLICK, VIEW
	Ticket   string // subscribe by code, SCAN

	KfAccount     string // kf_create_session, kf_close_session
	FromKfAccount string // kf_switch_session
	ToKfAccount   string // kf_switch_session
	SessionFrom   string // user_enter_tempsession: the button's session-from

	// Fields holds every top-level field as sent, including those above and any
	// the docs add later (e.g. debug_str of debug_demo).
	Fields map[string]string
}

// ParseMessage decodes a verified push body (Push.Body), XML or JSON as its first
// byte says. It requires what every push carries (ToUserName, FromUserName, a
// numeric CreateTime, MsgType) and refuses DOCTYPEs, deep nesting, repeated
// fields and bodies over MaxBody, as ErrMalformed or ErrTooLarge. Other fields
// are taken as sent: a push is stored even where a field is odd.
func ParseMessage(body []byte) (*Message, error) {
	format, err := DetectFormat(body)
	if err != nil {
		return nil, err
	}
	f, err := parseFields(format, body)
	if err != nil {
		return nil, err
	}
	m := &Message{
		ToUserName: f["ToUserName"], FromUserName: f["FromUserName"], MsgType: f["MsgType"], MsgID: f["MsgId"],
		Content: f["Content"], BizMsgMenuID: f["bizmsgmenuid"],
		PicURL: f["PicUrl"], MediaID: f["MediaId"], Format: f["Format"], Recognition: f["Recognition"], ThumbMediaID: f["ThumbMediaId"],
		LocationX: f["Location_X"], LocationY: f["Location_Y"], Scale: f["Scale"], Label: f["Label"],
		Title: f["Title"], Description: f["Description"], URL: f["Url"],
		AppID: f["AppId"], PagePath: f["PagePath"], ThumbURL: f["ThumbUrl"],
		Event: f["Event"], EventKey: f["EventKey"], Ticket: f["Ticket"],
		KfAccount: f["KfAccount"], FromKfAccount: f["FromKfAccount"], ToKfAccount: f["ToKfAccount"], SessionFrom: f["SessionFrom"],
		Fields: f,
	}
	if m.ToUserName == "" || m.FromUserName == "" || m.MsgType == "" {
		return nil, ErrMalformed.with("ToUserName, FromUserName or MsgType missing")
	}
	if m.CreateTime, err = strconv.ParseInt(f["CreateTime"], 10, 64); err != nil {
		return nil, ErrMalformed.with("CreateTime is not a whole number")
	}
	return m, nil
}

// IsEvent reports whether m is an event rather than a customer's message.
func (m *Message) IsEvent() bool { return m.MsgType == TypeEvent }

// Scene is the QR-code scene of a subscribe-by-scan ("qrscene_" stripped) or a
// SCAN event, and "" otherwise.
func (m *Message) Scene() string {
	switch {
	case !m.IsEvent():
		return ""
	case m.Event == EventSubscribe:
		if s, ok := strings.CutPrefix(m.EventKey, "qrscene_"); ok {
			return s
		}
		return "" // a plain follow
	case m.Event == EventScan:
		return m.EventKey
	}
	return ""
}

// IsMenuAnswer reports whether m is a tap on a msgmenu option: a text carrying
// bizmsgmenuid. One report has it "0", so match on Content too.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (m *Message) IsMenuAnswer() bool {
	_, ok := m.Fields["bizmsgmenuid"]
	return m.MsgType == TypeText && ok
}

// Key identifies a push for deduplication in the database (WeChat retries 3
// times). WeChat advises MsgId for messages and FromUserName + CreateTime for
// events, but MsgId alone collides (WxJava#333) and events share sender and time
// (unsubscribe repeats, LOCATION every 5 s), so messages are keyed by appid,
// sender, CreateTime and MsgId, events by appid, sender, CreateTime, Event and
// EventKey. The zero value of the other fields is part of the key.
type Key struct {
	AppID      string
	FromUser   string
	CreateTime int64
	MsgID      string // messages
	Event      string // events
	EventKey   string // events
}

// Key is m's dedup key for the account appID.
func (m *Message) Key(appID string) Key {
	k := Key{AppID: appID, FromUser: m.FromUserName, CreateTime: m.CreateTime}
	if m.IsEvent() {
		k.Event, k.EventKey = m.Event, m.EventKey
	} else {
		k.MsgID = m.MsgID
	}
	return k
}

// String is the key on one line, unambiguous whatever the fields contain (each
// part is length-prefixed), for a single UNIQUE text column.
func (k Key) String() string {
	var b strings.Builder
	for _, s := range []string{k.AppID, k.FromUser, strconv.FormatInt(k.CreateTime, 10), k.MsgID, k.Event, k.EventKey} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}
