package workspace

import (
	"context"
	"strconv"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/storage"
)

// InboxMessage is one bubble of a conversation (issue 12 §2).
type InboxMessage struct {
	Key          string // unique within the conversation: "r" + record id, or "p" + push id for an event
	OpenID       string // the customer
	At           time.Time
	FromCustomer bool
	Worker       string // the KF account that sent or received it
	// Kind: text, image, voice, video, shortvideo, location, link, miniprogrampage,
	// menu (a tap on a menu message), event (a session event or pushed event).
	Kind      string
	Text      string        // text; a voice's recognition; a link's description; "[image]" when only getmsglist knows it
	MediaPath string        // the local file when downloaded
	Duration  time.Duration // voice and video length when known
	Location  *storage.Location
	Title     string
	URL       string
	// MenuChoice is the option tapped (Kind menu), e.g. 满意.
	MenuChoice string
	// Event: a pushed event's name (subscribe, CLICK, …) or "record_NNNN" for a
	// getmsglist session event (opercode NNNN); EventText says it in words.
	Event string
}

// Message kinds.
const (
	KindText  = "text"
	KindMenu  = "menu"
	KindEvent = "event"
)

// EventText says what Event means, in Chinese or English.
func (m InboxMessage) EventText(zh bool) string {
	if code, ok := strings.CutPrefix(m.Event, "record_"); ok {
		n, _ := strconv.Atoi(code)
		return api.OperCodeName(n, zh)
	}
	names := map[string][2]string{
		"subscribe":              {"关注了公众号", "followed the account"},
		"unsubscribe":            {"取消了关注", "unfollowed the account"},
		"SCAN":                   {"扫描了二维码", "scanned a QR code"},
		"CLICK":                  {"点击了菜单", "tapped a menu"},
		"VIEW":                   {"打开了菜单链接", "opened a menu link"},
		"kf_create_session":      {"客服接入会话", "a KF account took the session"},
		"kf_close_session":       {"客服关闭会话", "the session was closed"},
		"kf_switch_session":      {"会话被转接", "the session was transferred"},
		"user_enter_tempsession": {"进入了客服会话", "entered the chat"},
	}
	if n, ok := names[m.Event]; ok {
		if zh {
			return n[0]
		}
		return n[1]
	}
	return m.Event
}

// InboxMessages returns up to limit messages of the customer's conversation
// before before (zero: the newest), oldest first: the archived records merged with
// the pushes they came from (one bubble each, storage/inbox.go's no-double rule)
// and the pushed events. For the next page back, pass the first message's At: a
// full page never ends inside a second, so nothing of that second is skipped.
func (w *Workspace) InboxMessages(ctx context.Context, a storage.Account, openid string, before time.Time, limit int) ([]InboxMessage, error) {
	if limit <= 0 {
		limit = storage.DefaultPageSize
	}
	items, err := w.DB.InboxItems(ctx, a.ID, openid, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]InboxMessage, 0, len(items))
	for _, it := range items {
		m, err := w.inboxMessage(ctx, a, it)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// mediaKinds are getmsglist's placeholders for media ("[image]", …).
var mediaKinds = map[string]string{"[image]": "image", "[voice]": "voice", "[video]": "video", "[shortvideo]": "shortvideo",
	"[location]": "location", "[link]": "link", "[miniprogrampage]": "miniprogrampage"}

func (w *Workspace) inboxMessage(ctx context.Context, a storage.Account, it storage.InboxItem) (InboxMessage, error) {
	var m InboxMessage
	if r := it.Record; r.ID != 0 {
		m = InboxMessage{Key: "r" + strconv.FormatInt(r.ID, 10), OpenID: r.OpenID, At: r.Time, FromCustomer: r.Direction() == api.DirIn,
			Worker: r.Worker, Kind: KindText, Text: r.Text}
		if r.Direction() == api.DirEvent || r.Direction() == api.DirOther {
			m.Kind, m.Event, m.Text = KindEvent, "record_"+strconv.Itoa(r.OperCode), ""
		} else if k, ok := mediaKinds[r.Text]; ok {
			m.Kind = k
		}
	}
	p := it.Push
	if p == nil {
		return m, nil
	}
	if m.Key == "" {
		m = InboxMessage{Key: "p" + strconv.FormatInt(p.ID, 10), OpenID: p.OpenID, At: p.CreateTime, FromCustomer: true}
	}
	m.Kind, m.Text = p.MsgType, p.Content
	m.MediaPath, m.Location, m.Title, m.URL = p.MediaPath, p.Location, p.Title, p.URL
	switch {
	case p.IsEvent():
		m.Kind, m.Event = KindEvent, p.Event
	case p.MenuID != "":
		m.Kind, m.MenuChoice = KindMenu, p.Content
		if c := p.Extra[extraMenuChoice]; c != "" {
			m.MenuChoice = c
		}
		if ans, ok, err := w.DB.MenuChoice(ctx, a.ID, p.OpenID, p.MenuID); err != nil {
			return m, err
		} else if ok {
			m.MenuChoice = ans.Option
		}
	case p.MsgType == "voice":
		m.Text = p.Recognition
	case p.MsgType == "link":
		m.Text = p.Description
	}
	if m.MediaPath != "" && (m.Kind == "voice" || m.Kind == "video" || m.Kind == "shortvideo") {
		m.Duration = mediaLength(m.MediaPath)
	}
	return m, nil
}
