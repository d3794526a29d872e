package push

import (
	"encoding/xml"
	"strconv"
	"time"
	"unicode/utf8"

	"kfdesk/api"
)

// Passive replies (被动回复用户消息): the XML an Official Account may answer a push
// with, within the 5 s, instead of "success". Seal encrypts them in the encrypted
// modes. A Mini Program answers "success" and sends through custom/send.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
// https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Forwarding_of_messages_to_service_center.html

// Video is a video reply's content; Title and Description are optional.
type Video struct {
	MediaID     string
	Title       string
	Description string
}

// Music is a music reply's content; only ThumbMediaID is required.
type Music struct {
	Title        string
	Description  string
	MusicURL     string
	HQMusicURL   string
	ThumbMediaID string
}

// Article is one item of a news reply.
type Article struct {
	Title       string
	Description string
	PicURL      string
	URL         string
}

// MaxArticles is the most items a news reply may carry; since October 2018 an
// answer to a customer's message may carry only 1 (the builder does not know
// which case the caller is in, so it allows up to 8).
const MaxArticles = 8

// reply is the documented <xml> of every passive reply, fields in the documented
// order; encoding/xml leaves out the absent parts.
type reply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata
	FromUserName cdata
	CreateTime   int64
	MsgType      cdata
	Content      *cdata       `xml:",omitempty"`
	Image        *mediaRef    `xml:",omitempty"`
	Voice        *mediaRef    `xml:",omitempty"`
	Video        *videoXML    `xml:",omitempty"`
	Music        *musicXML    `xml:",omitempty"`
	ArticleCount int          `xml:",omitempty"`
	Articles     *articlesXML `xml:",omitempty"`
	TransInfo    *transInfo   `xml:",omitempty"`
}

type mediaRef struct {
	MediaID cdata `xml:"MediaId"`
}

type videoXML struct {
	MediaID     cdata  `xml:"MediaId"`
	Title       *cdata `xml:",omitempty"`
	Description *cdata `xml:",omitempty"`
}

type musicXML struct {
	Title        *cdata `xml:",omitempty"`
	Description  *cdata `xml:",omitempty"`
	MusicURL     *cdata `xml:"MusicUrl,omitempty"`
	HQMusicURL   *cdata `xml:"HQMusicUrl,omitempty"`
	ThumbMediaID cdata  `xml:"ThumbMediaId"`
}

type articlesXML struct {
	Items []articleXML `xml:"item"`
}

type articleXML struct {
	Title       cdata
	Description cdata
	PicURL      cdata `xml:"PicUrl"`
	URL         cdata `xml:"Url"`
}

type transInfo struct {
	KfAccount cdata
}

func opt(s string) *cdata {
	if s == "" {
		return nil
	}
	return &cdata{s}
}

// base answers in: to its sender, from the account it was sent to.
func base(in *Message, now time.Time, msgType string) *reply {
	return &reply{ToUserName: cdata{in.FromUserName}, FromUserName: cdata{in.ToUserName},
		CreateTime: now.Unix(), MsgType: cdata{msgType}}
}

// marshal writes r, refusing text XML cannot carry: encoding/xml writes CDATA
// as is, so a control character or invalid UTF-8 would make WeChat reject the
// whole reply ("该公众号暂时无法提供服务").
func (r *reply) marshal() ([]byte, error) {
	b, err := xml.Marshal(r)
	if err != nil {
		return nil, err
	}
	for rest := b; len(rest) > 0; {
		c, n := utf8.DecodeRune(rest)
		if c == utf8.RuneError && n == 1 || c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xFFFE || c == 0xFFFF {
			return nil, &api.InputError{Field: "content",
				Chinese: "回复里有无法发送的字符（控制字符或乱码），请删掉后再试。",
				English: "The reply contains characters that cannot be sent (control characters or broken text); remove them and try again."}
		}
		rest = rest[n:]
	}
	return b, nil
}

func required(field, zh, en string) error {
	return &api.InputError{Field: field, Chinese: zh + "不能为空。", English: en + " must not be empty."}
}

// TextReply answers in with a text (WeChat shows an error for an empty one).
func TextReply(in *Message, now time.Time, content string) ([]byte, error) {
	if content == "" {
		return nil, required("content", "回复的文字", "The reply's text")
	}
	r := base(in, now, "text")
	r.Content = &cdata{content}
	return r.marshal()
}

// ImageReply answers in with an uploaded image.
func ImageReply(in *Message, now time.Time, mediaID string) ([]byte, error) {
	if mediaID == "" {
		return nil, required("media_id", "图片的 media_id", "The image's media_id")
	}
	r := base(in, now, "image")
	r.Image = &mediaRef{cdata{mediaID}}
	return r.marshal()
}

// VoiceReply answers in with an uploaded voice clip.
func VoiceReply(in *Message, now time.Time, mediaID string) ([]byte, error) {
	if mediaID == "" {
		return nil, required("media_id", "语音的 media_id", "The voice's media_id")
	}
	r := base(in, now, "voice")
	r.Voice = &mediaRef{cdata{mediaID}}
	return r.marshal()
}

// VideoReply answers in with an uploaded video.
func VideoReply(in *Message, now time.Time, v Video) ([]byte, error) {
	if v.MediaID == "" {
		return nil, required("media_id", "视频的 media_id", "The video's media_id")
	}
	r := base(in, now, "video")
	r.Video = &videoXML{cdata{v.MediaID}, opt(v.Title), opt(v.Description)}
	return r.marshal()
}

// MusicReply answers in with a music card.
func MusicReply(in *Message, now time.Time, m Music) ([]byte, error) {
	if m.ThumbMediaID == "" {
		return nil, required("thumb_media_id", "音乐的缩略图 media_id", "The music's thumbnail media_id")
	}
	r := base(in, now, "music")
	r.Music = &musicXML{opt(m.Title), opt(m.Description), opt(m.MusicURL), opt(m.HQMusicURL), cdata{m.ThumbMediaID}}
	return r.marshal()
}

// NewsReply answers in with 1 to MaxArticles articles.
func NewsReply(in *Message, now time.Time, articles []Article) ([]byte, error) {
	if len(articles) < 1 || len(articles) > MaxArticles {
		return nil, &api.InputError{Field: "articles",
			Chinese: "图文回复需要 1 到 " + strconv.Itoa(MaxArticles) + " 篇文章（回复用户消息时只能 1 篇）。",
			English: "A news reply needs 1 to " + strconv.Itoa(MaxArticles) + " articles (only 1 when answering a customer's message)."}
	}
	r := base(in, now, "news")
	r.ArticleCount = len(articles)
	r.Articles = &articlesXML{}
	for _, a := range articles {
		r.Articles.Items = append(r.Articles.Items, articleXML{cdata{a.Title}, cdata{a.Description}, cdata{a.PicURL}, cdata{a.URL}})
	}
	return r.marshal()
}

// TransferReply hands in over to the customer-service system (多客服), to the
// named KF account when kfAccount is not empty (WeChat assigns it even if that
// worker is offline: check getonlinekflist first). Only customers' messages may
// be transferred, never events ("其他任何事件…都不应该转接").
func TransferReply(in *Message, now time.Time, kfAccount string) ([]byte, error) {
	if in.IsEvent() {
		return nil, &api.InputError{Field: "msgtype",
			Chinese: "只能把客户发来的消息转给客服系统，事件不能转接。",
			English: "Only a customer's message can be transferred to the customer-service system, not an event."}
	}
	r := base(in, now, "transfer_customer_service")
	if kfAccount != "" {
		r.TransInfo = &transInfo{cdata{kfAccount}}
	}
	return r.marshal()
}
