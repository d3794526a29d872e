package api

import (
	"context"
	"net/http"
)

// The console's own auto-reply rules (自动回复), which stop working once the push URL
// is on: read them with get_current_autoreply_info to carry them over. Images,
// voice and video in them are temporary media (a new media id each call, valid 3
// days); news are permanent material.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Getting_Rules_for_Auto_Replies.html
// https://developers.weixin.qq.com/doc/service/api/notify/autoreplies/api_getcurrentautoreplyinfo.html

const autoReplyInfoPath = "/cgi-bin/get_current_autoreply_info"

// Values of the console's rules.
const (
	ConsoleMatchContain   = "contain" // the message contains the keyword
	ConsoleMatchEqual     = "equal"   // the message is the keyword
	ConsoleReplyAll       = "reply_all"
	ConsoleReplyRandomOne = "random_one"
	ConsoleTypeImage      = "img" // the console's name for an image reply
)

// ConsoleAutoReplies is the answer of get_current_autoreply_info.
type ConsoleAutoReplies struct {
	AddFriendReplyOpen int           `json:"is_add_friend_reply_open"` // 1 = the follow reply is on
	AutoReplyOpen      int           `json:"is_autoreply_open"`        // 1 = the message reply is on
	AddFriend          *ConsoleReply `json:"add_friend_autoreply_info"`
	MessageDefault     *ConsoleReply `json:"message_default_autoreply_info"`
	Keywords           *struct {
		List []ConsoleKeywordRule `json:"list"`
	} `json:"keyword_autoreply_info"`
}

// ConsoleReply is one reply: Type text (Content is the text), img, voice, video
// (Content is a media id) or news (NewsInfo).
type ConsoleReply struct {
	Type     string `json:"type"`
	Content  string `json:"content"`
	NewsInfo *struct {
		List []ConsoleArticle `json:"list"`
	} `json:"news_info"`
}

// ConsoleArticle is one article of a news reply.
type ConsoleArticle struct {
	Title      string `json:"title"`
	Author     string `json:"author"`
	Digest     string `json:"digest"`
	ShowCover  int    `json:"show_cover"`
	CoverURL   string `json:"cover_url"`
	ContentURL string `json:"content_url"`
	SourceURL  string `json:"source_url"`
}

// ConsoleKeywordRule is one keyword rule of the console.
type ConsoleKeywordRule struct {
	RuleName   string `json:"rule_name"`
	CreateTime int64  `json:"create_time"`
	ReplyMode  string `json:"reply_mode"` // ConsoleReplyAll or ConsoleReplyRandomOne
	Keywords   []struct {
		Type      string `json:"type"`
		MatchMode string `json:"match_mode"` // ConsoleMatchContain or ConsoleMatchEqual
		Content   string `json:"content"`
	} `json:"keyword_list_info"`
	Replies []ConsoleReply `json:"reply_list_info"`
}

// ConsoleAutoReplies calls get_current_autoreply_info (Official Accounts only).
func (c *Client) ConsoleAutoReplies(ctx context.Context) (ConsoleAutoReplies, error) {
	var out ConsoleAutoReplies
	err := c.do(ctx, call{method: http.MethodGet, path: autoReplyInfoPath, out: &out})
	return out, err
}
