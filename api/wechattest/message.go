package wechattest

import (
	"encoding/json"
	"regexp"
	"time"
)

// Reply windows since 2023-06-12: a user message allows 5 messages in 48 h; a
// menu click, follow or scan allows 3 in 1 minute (a Mini Program: the user
// entering customer service allows 2 in 1 minute).
const (
	messageWindow  = 48 * time.Hour
	messageReplies = 5
	eventWindow    = time.Minute
	eventRepliesOA = 3
	eventRepliesMP = 2
	typingFor      = 15 * time.Second
	typingNeeds    = 30 * time.Second // typing needs a message exchange this recent
	maxTextBytes   = 2048
)

// SentMessage is one accepted custom/send call.
type SentMessage struct {
	ToUser    string
	MsgType   string
	KFAccount string          // customservice.kf_account, if any
	Content   string          // text.content for text messages (decoded)
	Body      json.RawMessage // the request body exactly as sent
	Time      time.Time
}

type messageState struct {
	sent      []SentMessage
	boundApps map[string]bool // mini-program appids bound to the OA (data-miniprogram-appid, miniprogrampage)
}

func (s *Server) initMessages() { s.boundApps = map[string]bool{} }

// BindMiniProgram binds a mini-program appid to the OA, so text links with
// data-miniprogram-appid and miniprogrampage cards may use it.
func (s *Server) BindMiniProgram(appid string) {
	s.mu.Lock()
	s.boundApps[appid] = true
	s.mu.Unlock()
}

// UserMessage records that openid sent a message at at (zero = now): it opens a
// 48-hour window with 5 replies and counts as a message exchange for typing.
// An unknown openid becomes a follower.
func (s *Server) UserMessage(openid string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.IsZero() {
		at = s.clock.Now()
	}
	s.userMessage(openid, at)
}

// userMessage opens openid's 48-hour window at at. s.mu is held.
func (s *Server) userMessage(openid string, at time.Time) {
	u := s.knownUser(openid, at)
	u.msgAt, u.msgUsed = at, 0
	if at.After(u.lastExchange) {
		u.lastExchange = at
	}
	s.touchWait(openid, at) // a waiting customer's latest_time
}

// UserEvent records a menu click, follow or QR scan at at (zero = now): 3 replies
// within 1 minute (2 for a Mini Program). An unknown openid becomes a follower.
func (s *Server) UserEvent(openid string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.IsZero() {
		at = s.clock.Now()
	}
	s.userEvent(openid, at)
}

// userEvent opens openid's 1-minute event window at at. s.mu is held.
func (s *Server) userEvent(openid string, at time.Time) {
	u := s.knownUser(openid, at)
	u.evtAt, u.evtUsed = at, 0
}

// RepliesLeft is how many custom messages openid can receive now.
func (s *Server) RepliesLeft(openid string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[openid]
	if u == nil {
		return 0
	}
	now, n := s.clock.Now(), 0
	if s.eventOpen(u, now) {
		n += s.eventReplies() - u.evtUsed
	}
	if msgOpen(u, now) {
		n += messageReplies - u.msgUsed
	}
	return n
}

// Sent returns the accepted custom/send calls, oldest first.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

func (s *Server) eventReplies() int {
	if s.cfg.Kind == MiniProgram {
		return eventRepliesMP
	}
	return eventRepliesOA
}

func (s *Server) eventOpen(u *user, now time.Time) bool {
	return !u.evtAt.IsZero() && now.Sub(u.evtAt) < eventWindow
}

func msgOpen(u *user, now time.Time) bool {
	return !u.msgAt.IsZero() && now.Sub(u.msgAt) < messageWindow
}

// consumeReply takes one reply from the open windows (the short event window
// first, so the 48-hour quota lasts): 45015 when none is open, 45047 when the
// open ones are used up.
func (s *Server) consumeReply(u *user, now time.Time) *apiError {
	evt, msg := s.eventOpen(u, now), msgOpen(u, now)
	switch {
	case evt && u.evtUsed < s.eventReplies():
		u.evtUsed++
	case msg && u.msgUsed < messageReplies:
		u.msgUsed++
	case evt || msg:
		return errc(45047)
	default:
		return errc(45015)
	}
	return nil
}

// recipient checks touser: unknown 40003, unfollowed 43004.
func (s *Server) recipient(openid string) (*user, *apiError) {
	u := s.users[openid]
	if openid == "" || u == nil {
		return nil, errc(40003)
	}
	if !u.following && s.cfg.Kind == OfficialAccount {
		return nil, errc(43004)
	}
	return u, nil
}

// Message bodies as documented.
type (
	textMsg struct {
		Content string `json:"content"`
	}
	mediaMsg struct {
		MediaID      string `json:"media_id"`
		ThumbMediaID string `json:"thumb_media_id"`
		Title        string `json:"title"`
		Description  string `json:"description"`
	}
	musicMsg struct {
		Title        string `json:"title"`
		Description  string `json:"description"`
		MusicURL     string `json:"musicurl"`
		HQMusicURL   string `json:"hqmusicurl"`
		ThumbMediaID string `json:"thumb_media_id"`
	}
	newsMsg struct {
		Articles []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			URL         string `json:"url"`
			PicURL      string `json:"picurl"`
		} `json:"articles"`
	}
	articleMsg struct {
		ArticleID string `json:"article_id"`
	}
	menuMsg struct {
		HeadContent string `json:"head_content"`
		List        []struct {
			ID      string `json:"id"`
			Content string `json:"content"`
		} `json:"list"`
		TailContent string `json:"tail_content"`
	}
	cardMsg struct {
		CardID string `json:"card_id"`
	}
	pageMsg struct {
		Title        string `json:"title"`
		AppID        string `json:"appid"`
		PagePath     string `json:"pagepath"`
		ThumbMediaID string `json:"thumb_media_id"`
	}
	linkMsg struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		ThumbURL    string `json:"thumb_url"`
	}
)

// msgTypes lists the msgtypes each kind may send (the Mini Program doc allows
// text, image, link and miniprogrampage only; link is Mini Program only).
var msgTypes = map[Kind]map[string]bool{
	OfficialAccount: {"text": true, "image": true, "voice": true, "video": true, "music": true, "news": true,
		"mpnews": true, "mpnewsarticle": true, "msgmenu": true, "wxcard": true, "miniprogrampage": true},
	MiniProgram: {"text": true, "image": true, "link": true, "miniprogrampage": true},
}

var appidAttr = regexp.MustCompile(`data-miniprogram-appid\s*=\s*["']?([^"'\s>]*)`)

// handleSend: POST /cgi-bin/message/custom/send.
func (s *Server) handleSend(c *call) (any, *apiError) {
	var env struct {
		ToUser        string `json:"touser"`
		MsgType       string `json:"msgtype"`
		CustomService *struct {
			KFAccount string `json:"kf_account"`
		} `json:"customservice"`
	}
	if e := decodeJSON(c, &env); e != nil {
		return nil, e
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(c.body, &raw) // cannot fail after decodeJSON succeeded on an object
	if !msgTypes[s.cfg.Kind][env.MsgType] {
		return nil, errc(40008)
	}
	body := raw[env.MsgType]
	if len(body) == 0 || string(body) == "null" {
		body = json.RawMessage("{}")
	}
	content, e := s.validateBody(env.MsgType, body, c.now)
	if e != nil {
		return nil, e
	}
	kf := ""
	if env.CustomService != nil && s.cfg.Kind == OfficialAccount {
		kf = env.CustomService.KFAccount
		if kf != "" && s.findKF(kf) == nil {
			return nil, errc(65401)
		}
	}
	u, e := s.recipient(env.ToUser)
	if e != nil {
		return nil, e
	}
	if e := s.consumeReply(u, c.now); e != nil {
		return nil, e
	}
	u.lastExchange = c.now
	u.typingUntil = time.Time{} // a message ends the typing indicator
	s.sent = append(s.sent, SentMessage{ToUser: env.ToUser, MsgType: env.MsgType, KFAccount: kf,
		Content: content, Body: append(json.RawMessage(nil), c.body...), Time: c.now})
	if s.cfg.RecordSends {
		s.appendRecord(Record{OpenID: env.ToUser, OperCode: 2002, Text: recordText(env.MsgType, content),
			Time: c.now.Unix(), Worker: kf})
	}
	return ok0, nil
}

// recordText is how a sent message shows in getmsglist: text as is, anything
// else as "[msgtype]" like the documented "[image]".
func recordText(msgtype, content string) string {
	if msgtype == "text" {
		return content
	}
	return "[" + msgtype + "]"
}

// validateBody checks the msgtype object; it returns the text content for text.
func (s *Server) validateBody(msgtype string, body json.RawMessage, now time.Time) (string, *apiError) {
	dec := func(v any) *apiError {
		if json.Unmarshal(body, v) != nil {
			return errc(47001)
		}
		return nil
	}
	switch msgtype {
	case "text":
		var m textMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.Content == "" {
			return "", errc(44004)
		}
		if len(m.Content) > maxTextBytes {
			return "", errc(45002)
		}
		for _, sub := range appidAttr.FindAllStringSubmatch(m.Content, -1) {
			if !s.appAllowed(sub[1]) {
				return "", errc(45086)
			}
		}
		return m.Content, nil
	case "image", "voice":
		var m mediaMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		return "", s.checkMedia(m.MediaID, now, msgtype)
	case "video":
		var m mediaMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if e := s.checkMedia(m.MediaID, now, "video"); e != nil {
			return "", e
		}
		return "", s.checkMedia(m.ThumbMediaID, now, "thumb", "image")
	case "music":
		var m musicMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.MusicURL == "" || m.HQMusicURL == "" {
			return "", errc(40035)
		}
		return "", s.checkMedia(m.ThumbMediaID, now, "thumb", "image")
	case "news":
		var m newsMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		switch {
		case len(m.Articles) == 0:
			return "", errc(44003)
		case len(m.Articles) > 1:
			return "", errc(45008) // one article only since 2018-10-12
		}
		return "", nil
	case "mpnews":
		var m mediaMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.MediaID == "" { // a permanent material id; the fake has no material store to check
			return "", errc(40007)
		}
		return "", nil
	case "mpnewsarticle":
		var m articleMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.ArticleID == "" {
			return "", errc(40035)
		}
		return "", nil
	case "msgmenu":
		var m menuMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if len(m.List) == 0 || len(m.List) > 10 {
			return "", errc(45098)
		}
		for _, it := range m.List {
			if it.ID == "" || it.Content == "" {
				return "", errc(45099)
			}
		}
		return "", nil
	case "wxcard":
		var m cardMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.CardID == "" {
			return "", errc(40073)
		}
		return "", nil
	case "miniprogrampage":
		var m pageMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.Title == "" {
			return "", errc(40035)
		}
		if s.cfg.Kind == OfficialAccount && (m.AppID == "" || !s.boundApps[m.AppID]) {
			return "", errc(40166)
		}
		if m.PagePath == "" {
			return "", errc(40165)
		}
		return "", s.checkMedia(m.ThumbMediaID, now, "image", "thumb")
	case "link":
		var m linkMsg
		if e := dec(&m); e != nil {
			return "", e
		}
		if m.Title == "" || m.Description == "" || m.URL == "" || m.ThumbURL == "" {
			return "", errc(40035)
		}
		return "", nil
	}
	return "", errc(40008)
}

// appAllowed: an OA may link mini programs bound to it; a Mini Program only itself.
func (s *Server) appAllowed(appid string) bool {
	if s.cfg.Kind == MiniProgram {
		return appid == s.cfg.AppID
	}
	return s.boundApps[appid]
}

// handleTyping: POST /cgi-bin/message/custom/typing {"touser","command"}.
// Typing needs a message exchange in the last 30 s (45080) and lasts 15 s
// (45081 while on). CancelTyping always succeeds for a valid user.
func (s *Server) handleTyping(c *call) (any, *apiError) {
	var req struct {
		ToUser  string `json:"touser"`
		Command string `json:"command"`
	}
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	if req.Command != "Typing" && req.Command != "CancelTyping" {
		return nil, errc(45072)
	}
	u, e := s.recipient(req.ToUser)
	if e != nil {
		return nil, e
	}
	if req.Command == "CancelTyping" {
		u.typingUntil = time.Time{}
		return ok0, nil
	}
	if u.lastExchange.IsZero() || c.now.Sub(u.lastExchange) > typingNeeds {
		return nil, errc(45080)
	}
	if c.now.Before(u.typingUntil) {
		return nil, errc(45081)
	}
	u.typingUntil = c.now.Add(typingFor)
	return ok0, nil
}

// Typing reports whether the typing indicator is on for openid now.
func (s *Server) Typing(openid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[openid]
	return u != nil && s.clock.Now().Before(u.typingUntil)
}
