package push

import (
	"errors"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
)

// TestReplies: each passive reply is the documented XML, addressed back to the
// sender from the account (To and From swapped), with CreateTime = now.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
func TestReplies(t *testing.T) {
	in := &Message{ToUserName: "gh_account", FromUserName: "oCustomer", MsgType: TypeText, Content: "hi", CreateTime: 1}
	now := time.Unix(12345678, 0)
	const top = "<xml><ToUserName><![CDATA[oCustomer]]></ToUserName><FromUserName><![CDATA[gh_account]]></FromUserName><CreateTime>12345678</CreateTime>"
	for _, c := range []struct {
		name string
		got  func() ([]byte, error)
		want string
	}{
		{"text", func() ([]byte, error) { return TextReply(in, now, "你好 ]]> <b>") },
			top + "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好 ]]]]><![CDATA[> <b>]]></Content></xml>"},
		{"image", func() ([]byte, error) { return ImageReply(in, now, "media_id") },
			top + "<MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[media_id]]></MediaId></Image></xml>"},
		{"voice", func() ([]byte, error) { return VoiceReply(in, now, "media_id") },
			top + "<MsgType><![CDATA[voice]]></MsgType><Voice><MediaId><![CDATA[media_id]]></MediaId></Voice></xml>"},
		{"video", func() ([]byte, error) { return VideoReply(in, now, Video{"media_id", "title", "description"}) },
			top + "<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[media_id]]></MediaId><Title><![CDATA[title]]></Title><Description><![CDATA[description]]></Description></Video></xml>"},
		{"video, no title", func() ([]byte, error) { return VideoReply(in, now, Video{MediaID: "media_id"}) },
			top + "<MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[media_id]]></MediaId></Video></xml>"},
		{"music", func() ([]byte, error) {
			return MusicReply(in, now, Music{"TITLE", "DESCRIPTION", "MUSIC_Url", "HQ_MUSIC_Url", "media_id"})
		}, top + "<MsgType><![CDATA[music]]></MsgType><Music><Title><![CDATA[TITLE]]></Title><Description><![CDATA[DESCRIPTION]]></Description><MusicUrl><![CDATA[MUSIC_Url]]></MusicUrl><HQMusicUrl><![CDATA[HQ_MUSIC_Url]]></HQMusicUrl><ThumbMediaId><![CDATA[media_id]]></ThumbMediaId></Music></xml>"},
		{"news", func() ([]byte, error) {
			return NewsReply(in, now, []Article{{"title1", "description1", "picurl", "url"}})
		},
			top + "<MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles><item><Title><![CDATA[title1]]></Title><Description><![CDATA[description1]]></Description><PicUrl><![CDATA[picurl]]></PicUrl><Url><![CDATA[url]]></Url></item></Articles></xml>"},
		{"transfer", func() ([]byte, error) { return TransferReply(in, now, "") },
			top + "<MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>"},
		{"transfer to a KF account", func() ([]byte, error) { return TransferReply(in, now, "test1@test") },
			top + "<MsgType><![CDATA[transfer_customer_service]]></MsgType><TransInfo><KfAccount><![CDATA[test1@test]]></KfAccount></TransInfo></xml>"},
	} {
		got, err := c.got()
		if err != nil || string(got) != c.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", c.name, got, err, c.want)
		}
	}
}

func TestRepliesRefuseBadInput(t *testing.T) {
	in := &Message{ToUserName: "gh", FromUserName: "o", MsgType: TypeText}
	event := &Message{ToUserName: "gh", FromUserName: "o", MsgType: TypeEvent, Event: EventSubscribe}
	now := time.Unix(1, 0)
	nine := make([]Article, MaxArticles+1)
	for name, f := range map[string]func() ([]byte, error){
		"empty text":          func() ([]byte, error) { return TextReply(in, now, "") },
		"image without media": func() ([]byte, error) { return ImageReply(in, now, "") },
		"voice without media": func() ([]byte, error) { return VoiceReply(in, now, "") },
		"video without media": func() ([]byte, error) { return VideoReply(in, now, Video{Title: "t"}) },
		"music without thumb": func() ([]byte, error) { return MusicReply(in, now, Music{Title: "t"}) },
		"no articles":         func() ([]byte, error) { return NewsReply(in, now, nil) },
		"nine articles":       func() ([]byte, error) { return NewsReply(in, now, nine) },
		"transfer an event":   func() ([]byte, error) { return TransferReply(event, now, "") },
		"control character":   func() ([]byte, error) { return TextReply(in, now, "bell\a") },
		"invalid UTF-8":       func() ([]byte, error) { return TextReply(in, now, "\xff\xfe") },
		"NUL in a title":      func() ([]byte, error) { return NewsReply(in, now, []Article{{Title: "a\x00"}}) },
	} {
		b, err := f()
		var ie *api.InputError
		if b != nil || !errors.As(err, &ie) || ie.ZH() == "" || ie.EN() == "" {
			t.Errorf("%s: %q, %v; want a bilingual InputError", name, b, err)
		}
	}
}

// TestReplyOpensAsAMessage: what a builder writes, WeChat's side reads back with
// ParseMessage (the fake in api/wechattest checks replies independently).
func TestReplyOpensAsAMessage(t *testing.T) {
	in := &Message{ToUserName: "gh", FromUserName: "o", MsgType: TypeText}
	b, _ := TextReply(in, time.Unix(5, 0), strings.Repeat("长", 100))
	m, err := ParseMessage(b)
	if err != nil || m.ToUserName != "o" || m.FromUserName != "gh" || m.Content != strings.Repeat("长", 100) || m.CreateTime != 5 {
		t.Fatalf("ParseMessage(reply) = %+v, %v", m, err)
	}
}
