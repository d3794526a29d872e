package workspace

import (
	"context"
	"errors"
	"fmt"

	"kfdesk/api"
	"kfdesk/storage"
)

// Importing the console's own auto-replies (get_current_autoreply_info) before the
// push URL switches them off, so the customers get the same answers.

// AutoReplyImport says what ImportAutoReplies did.
type AutoReplyImport struct {
	Added     []storage.AutoReplyRule
	Skipped   []string // one line each, Chinese / English: what was not carried over and why
	TempMedia int      // rules answering with temporary media (valid 3 days): re-upload and replace them
}

// ImportAutoReplies reads the console's rules and adds them: the follow reply and
// the message reply (as the default reply, once an hour like the console's) when
// switched on, and one keyword rule per keyword, in the console's order. A console
// rule with several replies keeps its first (one answer per message here). A rule
// that is there already, or that cannot be sent, is skipped and said so.
func (w *Workspace) ImportAutoReplies(ctx context.Context, a storage.Account) (AutoReplyImport, error) {
	var out AutoReplyImport
	if MiniProgram(a) {
		return out, &api.InputError{Field: "account", Chinese: "小程序没有公众平台的自动回复可导入。",
			English: "A Mini Program has no console auto-replies to import."}
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return out, err
	}
	info, err := c.ConsoleAutoReplies(ctx)
	if err != nil {
		return out, err
	}
	add := func(name string, r storage.AutoReplyRule, reply *api.ConsoleReply, more int) {
		body, temp, err := consoleReplyBody(reply)
		if err == nil {
			r.Body = body
			r, err = w.AddAutoReply(ctx, a, r)
		}
		var b api.Bilingual
		switch {
		case errors.As(err, &b):
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s：%s / %s: %s", name, b.ZH(), name, b.EN()))
			return
		case err != nil:
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s: %v", name, err))
			return
		}
		out.Added = append(out.Added, r)
		if temp {
			out.TempMedia++
		}
		if more > 0 {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s：另有 %d 条回复未导入（这里每条消息只回复一条）/ %s: %d more replies not imported (one reply per message here)",
				name, more, name, more))
		}
	}
	if info.AddFriendReplyOpen == 1 && info.AddFriend != nil {
		add("关注回复 follow reply", storage.AutoReplyRule{Kind: storage.AutoReplyFollow}, info.AddFriend, 0)
	}
	if info.AutoReplyOpen == 1 && info.MessageDefault != nil {
		add("收到消息回复 message reply", storage.AutoReplyRule{Kind: storage.AutoReplyDefault}, info.MessageDefault, 0)
	}
	if info.Keywords != nil {
		for _, rule := range info.Keywords.List {
			for _, k := range rule.Keywords {
				name := fmt.Sprintf("关键词 keyword %q", k.Content)
				if len(rule.Replies) == 0 {
					out.Skipped = append(out.Skipped, name+"：没有回复内容 / no reply")
					continue
				}
				match := storage.MatchExact
				if k.MatchMode == api.ConsoleMatchContain {
					match = storage.MatchContains
				}
				add(name, storage.AutoReplyRule{Kind: storage.AutoReplyKeyword, Keyword: k.Content, Match: match},
					&rule.Replies[0], len(rule.Replies)-1)
			}
		}
	}
	return out, nil
}

// consoleReplyBody is the custom-service JSON of a console reply; temp says it
// uses temporary media.
func consoleReplyBody(r *api.ConsoleReply) (body string, temp bool, err error) {
	m := api.Message{MsgType: r.Type}
	switch r.Type {
	case api.TypeText:
		m.Text = &api.Text{Content: r.Content}
	case api.ConsoleTypeImage:
		m.MsgType, m.Image, temp = api.TypeImage, &api.MediaRef{MediaID: r.Content}, true
	case api.TypeVoice:
		m.Voice, temp = &api.MediaRef{MediaID: r.Content}, true
	case api.TypeVideo:
		// custom/send needs the video's cover, which the console's rule does not give.
		return "", false, &api.InputError{Field: "video", Chinese: "视频回复缺少封面，请用 autoreply add --body 重新添加。",
			English: "A video reply lacks its cover picture: add it again with autoreply add --body."}
	case api.TypeNews:
		if r.NewsInfo == nil || len(r.NewsInfo.List) == 0 {
			return "", false, &api.InputError{Field: "news", Chinese: "图文回复没有文章。", English: "The news reply has no article."}
		}
		n := r.NewsInfo.List[0] // one article per reply since 2018
		m.News = &api.News{Articles: []api.Article{{Title: n.Title, Description: n.Digest, URL: n.ContentURL, PicURL: n.CoverURL}}}
	default:
		return "", false, &api.InputError{Field: "type", Chinese: fmt.Sprintf("不支持的回复类型「%s」。", r.Type),
			English: fmt.Sprintf("The reply type %q is not supported.", r.Type)}
	}
	b, err := m.JSON()
	return string(b), temp, err
}
