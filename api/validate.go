package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// MaxTextBytes is the documented limit of a text message (UTF-8 bytes: ~680 Chinese characters).
const MaxTextBytes = 2048

// MaxMenuOptions is how many options a msgmenu may list (45098 beyond).
const MaxMenuOptions = 10

// FieldError says what is wrong with one field of a message, in both languages.
// Field is the JSON path, e.g. "text.content", "msgmenu.list.2.id", "touser".
type FieldError struct {
	Field  string
	zh, en string
}

func (e FieldError) Error() string { return e.Field + ": " + e.zh + " / " + e.en }

// ZH and EN explain the problem for the window and the command line.
func (e FieldError) ZH() string { return e.zh }
func (e FieldError) EN() string { return e.en }

// InputField is the field's JSON path (api.FieldProblem).
func (e FieldError) InputField() string { return e.Field }

// ValidationErrors are every problem found in a message, in field order.
type ValidationErrors []FieldError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// ZH and EN join the explanations (for a one-line status).
func (v ValidationErrors) ZH() string { return v.join(FieldError.ZH) }
func (v ValidationErrors) EN() string { return v.join(FieldError.EN) }

func (v ValidationErrors) join(f func(FieldError) string) string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = f(e)
	}
	return strings.Join(parts, " ")
}

// For returns the first problem of a field ("" path = none), for showing it at the field.
func (v ValidationErrors) For(field string) (FieldError, bool) {
	for _, e := range v {
		if e.Field == field {
			return e, true
		}
	}
	return FieldError{}, false
}

// What is said of a malformed openid.
const (
	notOpenIDZH = "openid 格式不对：应为 28 位左右的字母、数字、- 或 _，不含空格。"
	notOpenIDEN = "This is not an openid: about 28 letters, digits, - or _, without spaces."
)

var (
	// openIDPattern: openids are 28 characters of WeChat's id alphabet; allow a margin.
	openIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{6,64}$`)
	// AppIDPattern is a WeChat AppID: wx + 16 letters or digits.
	AppIDPattern = regexp.MustCompile(`^wx[0-9a-zA-Z]{16}$`)
	// kfAccountPattern: prefix (≤10 of [A-Za-z0-9_]) @ the account's WeChat ID.
	kfAccountPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]+$`)
	linkAppID        = regexp.MustCompile(`data-miniprogram-appid\s*=\s*["']?([^"'\s>]*)`)
)

// Validate checks everything that can be checked before sending, for an Official
// Account (miniProgram false) or a Mini Program. It returns nil or ValidationErrors.
func (m *Message) Validate(miniProgram bool) error {
	var v validator
	switch {
	case strings.TrimSpace(m.ToUser) == "":
		v.add("touser", "请选择或填写接收人（openid）。", "Choose or enter a recipient (openid).")
	case !openIDPattern.MatchString(m.ToUser):
		v.add("touser", notOpenIDZH, notOpenIDEN)
	}
	if !slices.Contains(MsgTypes(miniProgram), m.MsgType) {
		if miniProgram {
			v.add("msgtype", "小程序只能发送文本、图片、图文链接和小程序卡片。", "A Mini Program can send only text, image, link and mini-program card messages.")
		} else {
			v.add("msgtype", fmt.Sprintf("公众号不能发送「%s」类型的消息。", m.MsgType), fmt.Sprintf("An Official Account cannot send %q messages.", m.MsgType))
		}
		return v.result()
	}
	if !m.hasBody() {
		v.add(m.MsgType, "消息内容为空。", "The message has no "+m.MsgType+" content.")
		return v.result()
	}
	switch m.MsgType {
	case TypeText:
		v.text(m.Text.Content)
	case TypeImage:
		v.required("image.media_id", m.Image.MediaID, "请选择要发送的图片。", "Choose the image to send.")
	case TypeVoice:
		v.required("voice.media_id", m.Voice.MediaID, "请选择要发送的语音文件（AMR 或 MP3）。", "Choose the voice file to send (AMR or MP3).")
	case TypeVideo:
		v.required("video.media_id", m.Video.MediaID, "请选择要发送的视频（MP4）。", "Choose the video to send (MP4).")
		v.required("video.thumb_media_id", m.Video.ThumbMediaID, "请选择视频封面（JPG，不超过 64KB）。", "Choose the video's cover picture (JPG, at most 64 KB).")
	case TypeMusic:
		v.url("music.musicurl", m.Music.MusicURL, true)
		v.url("music.hqmusicurl", m.Music.HQMusicURL, true)
		v.required("music.thumb_media_id", m.Music.ThumbMediaID, "请选择音乐封面（JPG，不超过 64KB）。", "Choose the music's cover picture (JPG, at most 64 KB).")
	case TypeNews:
		v.news(m.News)
	case TypeMPNews:
		v.required("mpnews.media_id", m.MPNews.MediaID, "请填写图文素材的 media_id。", "Enter the media_id of the article material.")
	case TypeMPNewsArticle:
		v.required("mpnewsarticle.article_id", m.MPNewsArticle.ArticleID, "请填写已发布图文的 article_id。", "Enter the article_id of a published article.")
	case TypeMsgMenu:
		v.menu(m.MsgMenu)
	case TypeWXCard:
		v.required("wxcard.card_id", m.WXCard.CardID, "请填写卡券 card_id。", "Enter the card_id of the card.")
	case TypeMiniProgramPage:
		p := m.MiniProgramPage
		v.required("miniprogrampage.title", p.Title, "请填写卡片标题。", "Enter the card's title.")
		switch {
		case miniProgram && p.AppID != "":
			v.add("miniprogrampage.appid", "小程序发送小程序卡片时不填 appid（只能打开自己）。", "A Mini Program sends its card without appid (it can only open itself).")
		case !miniProgram && p.AppID == "":
			v.add("miniprogrampage.appid", "请填写小程序的 appid（须已关联本公众号）。", "Enter the Mini Program's appid (it must be linked to this account).")
		case !miniProgram && !AppIDPattern.MatchString(p.AppID):
			v.add("miniprogrampage.appid", "appid 应为 wx 开头的 18 位字母或数字。", "An appid is 18 letters or digits starting with wx.")
		}
		v.required("miniprogrampage.pagepath", p.PagePath, "请填写小程序页面路径，例如 pages/index/index。", "Enter the page path, e.g. pages/index/index.")
		v.required("miniprogrampage.thumb_media_id", p.ThumbMediaID, "请选择卡片封面图片。", "Choose the card's cover picture.")
	case TypeLink:
		l := m.Link
		v.required("link.title", l.Title, "请填写标题。", "Enter a title.")
		v.required("link.description", l.Description, "请填写描述。", "Enter a description.")
		v.url("link.url", l.URL, true)
		v.url("link.thumb_url", l.ThumbURL, true)
	}
	if kf := m.KFAccount(); kf != "" {
		switch {
		case miniProgram:
			v.add("customservice.kf_account", "小程序不能指定客服账号发送。", "A Mini Program cannot send as a KF account.")
		case !kfAccountPattern.MatchString(kf):
			v.add("customservice.kf_account", "客服账号格式为「前缀@公众号微信号」。", "A KF account looks like prefix@account-WeChat-ID.")
		}
	}
	return v.result()
}

type validator struct{ errs ValidationErrors }

func (v *validator) add(field, zh, en string) {
	v.errs = append(v.errs, FieldError{Field: field, zh: zh, en: en})
}

func (v *validator) result() error {
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func (v *validator) required(field, value, zh, en string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, zh, en)
	}
}

// url checks an http(s) URL; an empty optional one is fine.
func (v *validator) url(field, value string, required bool) {
	if value == "" {
		if required {
			v.add(field, "请填写网址（http:// 或 https:// 开头）。", "Enter a web address (starting with http:// or https://).")
		}
		return
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(value, " \t\n") {
		v.add(field, "网址格式不对：应以 http:// 或 https:// 开头，且不含空格。", "This is not a web address: it must start with http:// or https:// and contain no spaces.")
	}
}

func (v *validator) text(content string) {
	switch {
	case strings.TrimSpace(content) == "":
		v.add("text.content", "请填写消息内容。", "Enter the message text.")
	case len(content) > MaxTextBytes:
		v.add("text.content", fmt.Sprintf("内容太长：%d 字节，最多 %d 字节（约 680 个汉字）。", len(content), MaxTextBytes),
			fmt.Sprintf("The text is too long: %d bytes, at most %d (about 680 Chinese characters).", len(content), MaxTextBytes))
	}
	for _, sub := range linkAppID.FindAllStringSubmatch(content, -1) {
		if !AppIDPattern.MatchString(sub[1]) {
			v.add("text.content", fmt.Sprintf("文字链里的小程序 appid「%s」格式不对：应为 wx 开头的 18 位字母或数字。", sub[1]),
				fmt.Sprintf("The Mini Program appid %q in the text link is malformed: 18 letters or digits starting with wx.", sub[1]))
			break
		}
	}
}

func (v *validator) news(n *News) {
	if len(n.Articles) != 1 {
		v.add("news.articles", "图文消息只能包含 1 篇文章（微信自 2018 年 10 月起的规定）。", "A news message holds exactly 1 article (WeChat's rule since October 2018).")
		if len(n.Articles) == 0 {
			return
		}
	}
	a := n.Articles[0]
	v.required("news.articles.0.title", a.Title, "请填写文章标题。", "Enter the article's title.")
	v.url("news.articles.0.url", a.URL, true)
	v.url("news.articles.0.picurl", a.PicURL, false)
}

func (v *validator) menu(m *MsgMenu) {
	switch {
	case len(m.List) == 0:
		v.add("msgmenu.list", "请至少添加一个选项。", "Add at least one option.")
	case len(m.List) > MaxMenuOptions:
		v.add("msgmenu.list", fmt.Sprintf("最多 %d 个选项。", MaxMenuOptions), fmt.Sprintf("At most %d options.", MaxMenuOptions))
	}
	seen := map[string]int{}
	for i, o := range m.List {
		idField, contentField := fmt.Sprintf("msgmenu.list.%d.id", i), fmt.Sprintf("msgmenu.list.%d.content", i)
		id := strings.TrimSpace(o.ID)
		if id == "" {
			v.add(idField, "请填写选项编号。", "Enter the option's id.")
		} else if j, dup := seen[id]; dup {
			v.add(idField, fmt.Sprintf("编号「%s」与第 %d 个选项重复，每个选项的编号必须不同。", id, j+1),
				fmt.Sprintf("The id %q repeats option %d; every option needs its own id.", id, j+1))
		} else {
			seen[id] = i
		}
		v.required(contentField, o.Content, "请填写选项文字。", "Enter the option's text.")
	}
}
