package wechattest

// The console's own auto-reply rules (自动回复), as cgi-bin/get_current_autoreply_info
// returns them; field names and values as documented:
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Getting_Rules_for_Auto_Replies.html
// https://developers.weixin.qq.com/doc/service/api/notify/autoreplies/api_getcurrentautoreplyinfo.html

// ConsoleAutoReplies is the account's auto-reply setup in the console.
type ConsoleAutoReplies struct {
	AddFriendReplyOpen int                 `json:"is_add_friend_reply_open"` // 0 off, 1 on
	AutoReplyOpen      int                 `json:"is_autoreply_open"`        // 0 off, 1 on
	AddFriend          *ConsoleReply       `json:"add_friend_autoreply_info,omitempty"`
	MessageDefault     *ConsoleReply       `json:"message_default_autoreply_info,omitempty"`
	Keywords           *ConsoleKeywordList `json:"keyword_autoreply_info,omitempty"`
}

// ConsoleReply is one reply: type text, img, voice, video or (keyword rules) news;
// content is the text, or a media id (temporary media for img/voice/video).
type ConsoleReply struct {
	Type     string       `json:"type"`
	Content  string       `json:"content,omitempty"`
	NewsInfo *ConsoleNews `json:"news_info,omitempty"`
}

// ConsoleNews is a news reply's articles.
type ConsoleNews struct {
	List []ConsoleArticle `json:"list"`
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

// ConsoleKeywordList holds the keyword rules.
type ConsoleKeywordList struct {
	List []ConsoleKeywordRule `json:"list"`
}

// ConsoleKeywordRule is one keyword rule: its keywords (match_mode contain or
// equal) and its replies (reply_mode reply_all or random_one).
type ConsoleKeywordRule struct {
	RuleName   string           `json:"rule_name"`
	CreateTime int64            `json:"create_time"`
	ReplyMode  string           `json:"reply_mode"`
	Keywords   []ConsoleKeyword `json:"keyword_list_info"`
	Replies    []ConsoleReply   `json:"reply_list_info"`
}

// ConsoleKeyword is one keyword of a rule.
type ConsoleKeyword struct {
	Type      string `json:"type"`
	MatchMode string `json:"match_mode"`
	Content   string `json:"content"`
}

// SetConsoleAutoReplies sets what the console holds (default: both switched off, no rules).
func (s *Server) SetConsoleAutoReplies(r ConsoleAutoReplies) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consoleReplies = r
}

// handleAutoReplyInfo: GET /cgi-bin/get_current_autoreply_info.
func (s *Server) handleAutoReplyInfo(c *call) (any, *apiError) {
	return s.consoleReplies, nil
}
