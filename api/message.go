package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Message types of cgi-bin/message/custom/send.
const (
	TypeText            = "text"
	TypeImage           = "image"
	TypeVoice           = "voice"
	TypeVideo           = "video"
	TypeMusic           = "music"
	TypeNews            = "news"
	TypeMPNews          = "mpnews"
	TypeMPNewsArticle   = "mpnewsarticle"
	TypeMsgMenu         = "msgmenu"
	TypeWXCard          = "wxcard"
	TypeMiniProgramPage = "miniprogrampage"
	TypeLink            = "link" // Mini Program accounts only
)

// OAMsgTypes are what an Official Account may send, MPMsgTypes what a Mini Program may.
var (
	OAMsgTypes = []string{TypeText, TypeImage, TypeVoice, TypeVideo, TypeMusic, TypeNews, TypeMPNews, TypeMPNewsArticle,
		TypeMsgMenu, TypeWXCard, TypeMiniProgramPage}
	MPMsgTypes = []string{TypeText, TypeImage, TypeLink, TypeMiniProgramPage}
)

// MsgTypes lists the message types an account may send.
func MsgTypes(miniProgram bool) []string {
	if miniProgram {
		return MPMsgTypes
	}
	return OAMsgTypes
}

// Message is one customer-service message, exactly the documented JSON:
// {"touser","msgtype",<msgtype>:{…},"customservice":{"kf_account"}}. Only the
// body named by MsgType is sent (see Body); the window keeps the others filled
// so switching type loses nothing.
type Message struct {
	ToUser          string           `json:"touser"`
	MsgType         string           `json:"msgtype"`
	Text            *Text            `json:"text,omitempty"`
	Image           *MediaRef        `json:"image,omitempty"`
	Voice           *MediaRef        `json:"voice,omitempty"`
	Video           *Video           `json:"video,omitempty"`
	Music           *Music           `json:"music,omitempty"`
	News            *News            `json:"news,omitempty"`
	MPNews          *MediaRef        `json:"mpnews,omitempty"`
	MPNewsArticle   *MPNewsArticle   `json:"mpnewsarticle,omitempty"`
	MsgMenu         *MsgMenu         `json:"msgmenu,omitempty"`
	WXCard          *WXCard          `json:"wxcard,omitempty"`
	MiniProgramPage *MiniProgramPage `json:"miniprogrampage,omitempty"`
	Link            *Link            `json:"link,omitempty"`
	CustomService   *CustomService   `json:"customservice,omitempty"`
}

// Text is {"content"}; it may contain mini-program text links (see MiniProgramLink).
type Text struct {
	Content string `json:"content"`
}

// MediaRef is {"media_id"} of image, voice and mpnews.
type MediaRef struct {
	MediaID string `json:"media_id"`
}

// Video is {"media_id","thumb_media_id","title","description"}.
type Video struct {
	MediaID      string `json:"media_id"`
	ThumbMediaID string `json:"thumb_media_id"`
	Title        string `json:"title"`
	Description  string `json:"description"`
}

// Music is {"title","description","musicurl","hqmusicurl","thumb_media_id"}.
type Music struct {
	Title        string `json:"title"`
	Description  string `json:"description"`
	MusicURL     string `json:"musicurl"`
	HQMusicURL   string `json:"hqmusicurl"`
	ThumbMediaID string `json:"thumb_media_id"`
}

// News is {"articles":[…]} with exactly one article (45008 otherwise, since 2018-10-12).
type News struct {
	Articles []Article `json:"articles"`
}

// Article is one news article.
type Article struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	PicURL      string `json:"picurl"`
}

// MPNewsArticle is {"article_id"} from the publishing (freepublish) API.
type MPNewsArticle struct {
	ArticleID string `json:"article_id"`
}

// MsgMenu is a menu message: the customer taps one option, which comes back with its id.
type MsgMenu struct {
	HeadContent string       `json:"head_content"`
	List        []MenuOption `json:"list"`
	TailContent string       `json:"tail_content"`
}

// MenuOption is one tappable option (ids are strings, as documented).
type MenuOption struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

// WXCard is {"card_id"}.
type WXCard struct {
	CardID string `json:"card_id"`
}

// MiniProgramPage is a mini-program card; a Mini Program account sends it without appid.
type MiniProgramPage struct {
	Title        string `json:"title"`
	AppID        string `json:"appid,omitempty"`
	PagePath     string `json:"pagepath"`
	ThumbMediaID string `json:"thumb_media_id"`
}

// Link is a Mini Program account's link card.
type Link struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	ThumbURL    string `json:"thumb_url"`
}

// CustomService names the KF account the message is shown as sent by.
type CustomService struct {
	KFAccount string `json:"kf_account"`
}

// NewMessage returns a message with every body present (empty), for forms.
func NewMessage() *Message {
	return &Message{MsgType: TypeText, Text: &Text{}, Image: &MediaRef{}, Voice: &MediaRef{}, Video: &Video{},
		Music: &Music{}, News: &News{Articles: []Article{{}}}, MPNews: &MediaRef{}, MPNewsArticle: &MPNewsArticle{},
		MsgMenu: &MsgMenu{}, WXCard: &WXCard{}, MiniProgramPage: &MiniProgramPage{}, Link: &Link{}}
}

// Fill gives every absent body an empty one (after decoding a draft or a file):
// m is decoded over NewMessage, so what it has wins.
func (m *Message) Fill() {
	n := NewMessage()
	if b, err := json.Marshal(m); err == nil {
		_ = json.Unmarshal(b, n) // cannot fail: the same type just encoded it
	}
	if len(n.News.Articles) == 0 {
		n.News.Articles = []Article{{}}
	}
	if n.MsgType == "" {
		n.MsgType = TypeText
	}
	*m = *n
}

// Clone is a deep copy: it shares no pointer or slice with m, so a send can marshal
// it while the form goes on editing m (a shallow copy shares every body).
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	c := *m
	c.Text = clonePtr(m.Text)
	c.Image = clonePtr(m.Image)
	c.Voice = clonePtr(m.Voice)
	c.Video = clonePtr(m.Video)
	c.Music = clonePtr(m.Music)
	if c.News = clonePtr(m.News); c.News != nil {
		c.News.Articles = slices.Clone(m.News.Articles)
	}
	c.MPNews = clonePtr(m.MPNews)
	c.MPNewsArticle = clonePtr(m.MPNewsArticle)
	if c.MsgMenu = clonePtr(m.MsgMenu); c.MsgMenu != nil {
		c.MsgMenu.List = slices.Clone(m.MsgMenu.List)
	}
	c.WXCard = clonePtr(m.WXCard)
	c.MiniProgramPage = clonePtr(m.MiniProgramPage)
	c.Link = clonePtr(m.Link)
	c.CustomService = clonePtr(m.CustomService)
	return &c
}

// clonePtr copies the struct p points to (its fields are values).
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// KFAccount is the "send as" account, "" when none.
func (m *Message) KFAccount() string {
	if m.CustomService == nil {
		return ""
	}
	return m.CustomService.KFAccount
}

// hasBody reports whether the body MsgType names is present.
func (m *Message) hasBody() bool {
	b, err := json.Marshal(m.Wire())
	var keys map[string]json.RawMessage
	return err == nil && json.Unmarshal(b, &keys) == nil && keys[m.MsgType] != nil
}

// Wire is the message as sent: only the MsgType body, customservice only when a
// KF account is set. It shares the bodies with m.
func (m *Message) Wire() *Message {
	w := &Message{ToUser: m.ToUser, MsgType: m.MsgType}
	switch m.MsgType {
	case TypeText:
		w.Text = m.Text
	case TypeImage:
		w.Image = m.Image
	case TypeVoice:
		w.Voice = m.Voice
	case TypeVideo:
		w.Video = m.Video
	case TypeMusic:
		w.Music = m.Music
	case TypeNews:
		w.News = m.News
	case TypeMPNews:
		w.MPNews = m.MPNews
	case TypeMPNewsArticle:
		w.MPNewsArticle = m.MPNewsArticle
	case TypeMsgMenu:
		w.MsgMenu = m.MsgMenu
	case TypeWXCard:
		w.WXCard = m.WXCard
	case TypeMiniProgramPage:
		w.MiniProgramPage = m.MiniProgramPage
	case TypeLink:
		w.Link = m.Link
	}
	if kf := m.KFAccount(); kf != "" {
		w.CustomService = &CustomService{KFAccount: kf}
	}
	return w
}

// JSON is the exact request body Send posts: raw UTF-8, no HTML escaping.
func (m *Message) JSON() ([]byte, error) { return marshalJSON(m.Wire()) }

// ParseMessage decodes a documented custom/send JSON body (from a file or stdin).
// Unknown fields are an error: a misspelt "kfaccount" would otherwise be dropped silently.
func ParseMessage(b []byte) (*Message, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a custom-message JSON body: %v / 不是客服消息 JSON：%v", err, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON object / 包含多个 JSON 对象")
	}
	return &m, nil
}

// MiniProgramLink is the <a> a text message uses to open a mini program; href is
// what clients older than 6.5.16 open instead. WeChat shows text as is (no HTML
// entity decoding), so nothing is entity-escaped: a quote in an attribute is
// URL-encoded and angle brackets in the link text become full-width.
func MiniProgramLink(text, href, appid, path string) string {
	attr := strings.NewReplacer(`"`, "%22", "<", "%3C", ">", "%3E")
	txt := strings.NewReplacer("<", "＜", ">", "＞")
	return fmt.Sprintf(`<a href="%s" data-miniprogram-appid="%s" data-miniprogram-path="%s">%s</a>`,
		attr.Replace(href), attr.Replace(appid), attr.Replace(path), txt.Replace(text))
}

// Send posts the message to cgi-bin/message/custom/send as m.Wire(). Validate first:
// Send does not. Never retried automatically: a send that timed out may have arrived.
func (c *Client) Send(ctx context.Context, m *Message) error {
	b, err := m.JSON()
	if err != nil {
		return &Error{Kind: KindMalformed, Endpoint: "/cgi-bin/message/custom/send", Err: err}
	}
	return c.do(ctx, call{method: http.MethodPost, path: "/cgi-bin/message/custom/send", body: b})
}

// Typing shows (on) or hides the "typing…" indicator in the customer's chat. It needs a
// message exchange in the last 30 s (45080) and lasts 15 s (45081 while it shows).
func (c *Client) Typing(ctx context.Context, openid string, on bool) error {
	cmd := "CancelTyping"
	if on {
		cmd = "Typing"
	}
	body := struct {
		ToUser  string `json:"touser"`
		Command string `json:"command"`
	}{openid, cmd}
	return c.do(ctx, call{method: http.MethodPost, path: "/cgi-bin/message/custom/typing", body: body})
}
