package api

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrorKind tells what went wrong on the way to a WeChat answer.
type ErrorKind int

const (
	// KindAPI: WeChat answered with a non-zero errcode.
	KindAPI ErrorKind = iota
	// KindNetwork: no answer at all (DNS, refused, reset, timeout, cancelled).
	KindNetwork
	// KindHTTP: an HTTP status other than 200, usually a gateway page such as 502.
	KindHTTP
	// KindMalformed: HTTP 200 but the body is not the JSON the API documents.
	KindMalformed
	// KindToken: no access token could be obtained (e.g. the token URL is down).
	KindToken
)

// Error is the one error type the client returns. Its text explains the cause
// and the fix in Chinese and English; it never contains the access token or secret.
type Error struct {
	Code     int    // WeChat errcode; 0 unless Kind == KindAPI
	Msg      string // errmsg as WeChat sent it (for support), or a short technical detail
	Endpoint string // API path, e.g. "/cgi-bin/message/custom/send"
	Kind     ErrorKind
	Status   int   // HTTP status, for KindHTTP
	Err      error // underlying cause, for KindNetwork / KindMalformed / KindToken
}

func (e *Error) Unwrap() error { return e.Err }

// Error gives both languages on one line, e.g. for the command line and logs.
func (e *Error) Error() string {
	return e.ZH() + " / " + e.EN()
}

// ZH explains the error in Chinese: code, cause and what to do.
func (e *Error) ZH() string { return e.explain(true) }

// EN explains the error in English.
func (e *Error) EN() string { return e.explain(false) }

// Retryable reports whether the same call may succeed if simply tried again later.
// Token errors (40001/40014/42001) are already retried once by the client.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindNetwork:
		return !errors.Is(e.Err, errCanceled)
	case KindHTTP:
		return e.Status >= 500 || e.Status == 429
	case KindAPI:
		return e.Code == -1 || e.Code == 45011
	}
	return false
}

// IsCode reports whether err is a WeChat error with one of the given codes.
func IsCode(err error, codes ...int) bool {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindAPI {
		return false
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}

// isTokenError: the token was rejected; refresh (compare-and-refresh) and retry once.
func isTokenError(err error) bool { return IsCode(err, 40001, 40014, 42001) }

var errCanceled = errors.New("cancelled")

type explanation struct{ zh, en string }

func (e *Error) explain(zh bool) string {
	pick := func(x explanation) string {
		if zh {
			return x.zh
		}
		return x.en
	}
	switch e.Kind {
	case KindNetwork:
		if errors.Is(e.Err, errCanceled) {
			return pick(explanation{"操作已取消。", "The operation was cancelled."})
		}
		return pick(explanation{
			"无法连接微信服务器（" + e.detail() + "）。请检查网络或代理设置，稍后重试。",
			"Could not reach the WeChat server (" + e.detail() + "). Check the network or proxy and try again.",
		})
	case KindHTTP:
		return pick(explanation{
			fmt.Sprintf("微信服务器暂时不可用（HTTP %d）。这通常是临时故障，请稍后重试。", e.Status),
			fmt.Sprintf("The WeChat server is temporarily unavailable (HTTP %d). This is usually temporary; try again later.", e.Status),
		})
	case KindMalformed:
		return pick(explanation{
			"微信服务器的回复不完整或格式不对，本次操作结果未知，未保存任何内容。如果是发送消息，请先确认对方是否已收到再重发。（" + e.detail() + "）",
			"The WeChat server's answer was cut off or malformed, so the outcome is unknown and nothing was saved. If this was a send, check whether it arrived before sending again. (" + e.detail() + ")",
		})
	case KindToken:
		return pick(explanation{
			"无法获取 access_token（" + e.detail() + "）。请检查账号设置中的 AppSecret、令牌方式或令牌地址。",
			"Could not get an access token (" + e.detail() + "). Check the AppSecret, token mode or token URL in the account settings.",
		})
	}
	x, ok := explanations[e.Code]
	if e.Code == 40164 {
		x = whitelistExplanation(e.Msg)
		ok = true
	}
	if !ok {
		x = explanation{"微信返回了错误：" + e.Msg, "WeChat returned an error: " + e.Msg}
	}
	if zh {
		return fmt.Sprintf("微信错误 %d：%s", e.Code, x.zh)
	}
	return fmt.Sprintf("WeChat error %d: %s", e.Code, x.en)
}

func (e *Error) detail() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

var ipInMsg = regexp.MustCompile(`invalid ip ([0-9A-Fa-f.:]+)`)

// whitelistExplanation names the IP WeChat saw, which is what the operator must whitelist.
func whitelistExplanation(msg string) explanation {
	ip := "?"
	if m := ipInMsg.FindStringSubmatch(msg); m != nil {
		ip = strings.TrimSuffix(m[1], ",")
	}
	return explanation{
		"本机的公网 IP " + ip + " 不在公众号的 IP 白名单中。请登录 mp.weixin.qq.com →「设置与开发」→「基本配置」→「IP白名单」，添加 " + ip + " 后重试；也可改用公司自己的令牌服务器（令牌地址模式）。",
		"This computer's public IP " + ip + " is not on the account's IP whitelist. Sign in to mp.weixin.qq.com → Settings and Development → Basic Configuration → IP whitelist, add " + ip + ", and try again; or use your company's own token server (token URL mode).",
	}
}

// explanations covers every errcode the product can meet: the official global return
// codes (https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html)
// and the error tables of the calls the product makes (KF accounts: api/kf.go; sessions: api/kfsession.go).
var explanations = map[int]explanation{
	-1:    {"微信系统繁忙，请稍后重试。", "WeChat is busy. Try again in a moment."},
	40001: {"access_token 无效或不是最新的：AppSecret 填错了，或其他程序刷新了令牌。请核对 AppSecret；多台电脑或服务器共用同一账号时请都使用「稳定版令牌」。", "The access token is invalid or not the latest: the AppSecret is wrong, or another program refreshed the token. Check the AppSecret; when several computers or servers share this account, use the stable token mode everywhere."},
	40002: {"grant_type 不正确（程序错误）。", "Invalid grant_type (a program error)."},
	40003: {"openid 无效：对方不是本账号的粉丝，或这是其他公众号/小程序的 openid。", "Invalid openid: this person does not follow this account, or the openid belongs to another account."},
	40004: {"媒体类型不支持。小程序只能上传图片。", "Media type not supported. Mini Programs can only upload images."},
	40005: {"文件格式不支持：图片请用 JPG/PNG/GIF，语音用 AMR/MP3，视频用 MP4，缩略图和头像用 JPG。", "File type not supported: images JPG/PNG/GIF, voice AMR/MP3, video MP4, thumbnails and avatars JPG."},
	40006: {"文件太大：图片和语音不超过 2MB，视频不超过 10MB，缩略图不超过 64KB。", "File too large: images and voice at most 2 MB, video 10 MB, thumbnails 64 KB."},
	40007: {"media_id 无效或已过期（临时素材只保存 3 天），请重新选择文件上传。", "The media_id is invalid or expired (temporary media lasts 3 days). Pick the file again to re-upload it."},
	40008: {"消息类型不支持：此账号类型不能发送这种消息。", "Invalid message type: this kind of account cannot send this message type."},
	40009: {"图片太大。", "The image is too large."},
	40013: {"AppID 无效，请核对账号设置中的 AppID（以 wx 开头的 18 位）。", "Invalid AppID. Check the AppID in the account settings (18 characters starting with wx)."},
	40014: {"access_token 不合法，将自动重新获取；如果反复出现，请核对 AppSecret。", "The access token is not valid; a new one is fetched automatically. If this repeats, check the AppSecret."},
	40035: {"参数不正确：有必填内容为空或格式不对（如音乐的网址、图文链接的各项）。", "Invalid argument: a required field is empty or malformed (e.g. the music URLs or the link's fields)."},
	40073: {"卡券 card_id 无效。", "Invalid card_id."},
	40165: {"小程序页面路径无效，请核对 pagepath（如 pages/index/index）。", "Invalid Mini Program page path; check pagepath (e.g. pages/index/index)."},
	40166: {"小程序 appid 无效：小程序必须已关联到本公众号。", "Invalid Mini Program appid: it must be linked to this account."},
	44001: {"上传的文件是空的。", "The uploaded file is empty."},
	44004: {"消息内容为空。", "The message text is empty."},
	45098: {"菜单消息的选项数不对：需要 1 到 10 个选项。", "Wrong number of menu options: 1 to 10 are needed."},
	45099: {"菜单选项不合法：每个选项都要有编号和文字，且文字不能太长。", "Invalid menu option: each needs an id and text, and the text must not be too long."},
	40033: {"内容包含 \\uxxxx 形式的非法字符（程序编码错误）。", "The content contains \\uxxxx escapes WeChat rejects (an encoding bug)."},
	40066: {"接口地址不正确（程序或接口中转地址配置错误）。", "Invalid URL: the API path or the API base address is wrong."},
	40125: {"AppSecret 无效。请在 mp.weixin.qq.com「设置与开发」→「基本配置」中重置并重新填写。", "Invalid AppSecret. Reset it at mp.weixin.qq.com → Settings and Development → Basic Configuration and enter it again."},
	41001: {"缺少 access_token 参数（程序错误）。", "The access token is missing (a program error)."},
	41005: {"没有收到文件内容，请重新选择文件。", "No file data was received. Pick the file again."},
	42001: {"access_token 已过期，将自动重新获取。", "The access token expired; a new one is fetched automatically."},
	43001: {"需要使用 GET 请求（程序错误）。", "This API requires GET (a program error)."},
	43002: {"需要使用 POST 请求（程序错误）。", "This API requires POST (a program error)."},
	43004: {"对方已取消关注，不能再给他发客服消息。", "This person has unfollowed the account, so customer-service messages cannot be sent."},
	43019: {"对方在黑名单中，请先在公众平台将其移出黑名单。", "This person is on the account's blacklist. Remove them from it first."},
	44002: {"请求内容为空（程序错误）。", "The request body was empty (a program error)."},
	44003: {"图文消息内容为空：请填写一篇图文。", "The news message is empty: fill in one article."},
	45001: {"文件太大，超过了微信的限制。", "The file is larger than WeChat allows."},
	45002: {"消息内容太长：文本最多 2048 字节（约 680 个汉字）。", "The content is too long: text is limited to 2048 bytes (about 680 Chinese characters)."},
	45008: {"图文消息只能包含 1 篇文章（微信自 2018 年 10 月起的规定）。", "A news message may contain only 1 article (WeChat's rule since October 2018)."},
	45009: {"今天的接口调用次数已用完。请明天再试；管理员也可在公众平台「接口权限」里清零（每月最多 10 次）。", "Today's API quota is used up. Try again tomorrow; an admin can also reset it on the platform (at most 10 times a month)."},
	45011: {"调用太频繁，请一分钟后再试。", "Too many calls this minute. Try again in a minute."},
	45015: {"超过回复时间限制：对方最近 48 小时内没有给公众号发消息（或已取消关注）。请等对方再次发消息后再回复。", "Reply window closed: this person has not messaged the account in the last 48 hours (or has unfollowed). Wait until they message again."},
	45047: {"回复条数已用完：对方每发一条消息，48 小时内最多可回复 5 条（点击菜单、关注、扫码后 1 分钟内 3 条）。请等对方再次发消息。", "Reply limit reached: after each message from this person you may send at most 5 replies within 48 hours (3 within 1 minute after a menu click, follow or scan). Wait until they message again."},
	45072: {"「正在输入」命令不正确（程序错误）。", "Invalid typing command (a program error)."},
	45080: {"最近 30 秒内没有和对方互动，不能显示「正在输入」。", "There was no exchange with this person in the last 30 seconds, so the typing indicator cannot be shown."},
	45081: {"已经在显示「正在输入」了（持续 15 秒）。", "The typing indicator is already showing (it lasts 15 seconds)."},
	45086: {"文字链里的小程序 appid 无效：小程序必须已关联到本公众号（在小程序里发送时必须是它自己的 appid）。", "The Mini Program appid in the text link is invalid: it must be linked to this account (inside a Mini Program, its own appid)."},
	47001: {"请求数据格式不正确（程序错误）。", "The request data format is wrong (a program error)."},
	48001: {"此账号没有这个接口的权限：需要认证的服务号/订阅号，或权限被收回。请在公众平台「接口权限」中查看。", "This account lacks permission for this API: it needs a verified account, or the permission was withdrawn. See Interface Permissions on the platform."},
	48006: {"本月清零次数已用完（每月 10 次）。", "The monthly quota-reset limit (10 times) is used up."},
	50002: {"对方微信号受限（被封禁或已注销）。", "This person's WeChat account is restricted (frozen or deleted)."},
	61457: {"文件无效：头像必须是 JPG 格式。", "Invalid file: the avatar must be a JPG."},
	65400: {"此账号还没有开通新版客服功能，或刚开通需要稍等。请在公众平台「客服功能」中开通后重试。", "The new customer-service feature is not enabled for this account yet (or was just enabled and needs a while). Enable it on the platform and try again."},
	65401: {"客服账号无效或不存在。", "Invalid customer-service account: it does not exist."},
	65402: {"客服账号还没有绑定工作人员的微信号（请先邀请绑定）；添加客服账号时出现则说明公众号还没有设置微信号（在公众平台「设置与开发」→「公众号设置」中设置）。", "The customer-service account is not bound to a worker's WeChat ID yet (invite one first); when adding an account, it means the Official Account has no WeChat ID yet (set one under Settings and Development → Account Settings)."},
	65403: {"客服昵称不合法：不能为空，最多 16 个字。", "Invalid nickname: it must not be empty and has at most 16 characters."},
	65404: {"客服账号不合法：格式为「前缀@公众号微信号」，前缀最多 10 个字母、数字或下划线。", "Invalid account name: use prefix@account-WeChat-ID, the prefix at most 10 letters, digits or underscores."},
	65405: {"客服账号数量已达上限（100 个）。", "The maximum number of customer-service accounts (100) has been reached."},
	65406: {"这个客服账号已经存在。", "This customer-service account already exists."},
	65407: {"对方已经是本账号的客服人员。", "This person is already a customer-service worker of this account."},
	65408: {"已经向对方发送过邀请，请等待对方确认。", "An invitation was already sent to this person; wait for them to accept."},
	65409: {"微信号无效，请核对。", "Invalid WeChat ID. Check it."},
	65410: {"对方绑定的公众号客服账号太多，无法再绑定。", "This person is bound to too many customer-service accounts."},
	65411: {"这个客服账号已有一个待确认的邀请。", "This customer-service account already has a pending invitation."},
	65412: {"这个客服账号已经绑定了微信号。", "This customer-service account is already bound to a WeChat ID."},
	65413: {"对方当前没有客服会话（可能已被关闭或已超时结束）。请刷新会话列表；对方再发消息后会重新进入待接入列表。", "This person has no open customer-service session (it was closed or timed out). Refresh the session list; when they write again they wait to be taken once more."},
	65414: {"对方正在被其他客服接待。请刷新会话列表看是谁在接待；要换人请用「转接」，或让那位客服先关闭会话。", "This person is being served by another KF account. Refresh the session list to see which; to hand them over use Transfer, or have that KF account close the session first."},
	65415: {"这个客服账号不在线，不能接入客户：请先让它的工作人员登录网页客服 mpkf.weixin.qq.com 或打开「客服小助手」小程序，再重试。", "This KF account is offline, so it cannot take customers: have its worker sign in at mpkf.weixin.qq.com or open the 客服小助手 (KF assistant) mini program first, then try again."},
	65416: {"查询参数不正确：请检查起止时间（开始不能晚于结束）和每页条数（1–10000）。", "Invalid query parameters: check the start and end time (start must not be after end) and the page size (1–10000)."},
	65417: {"查询的时间段太长：每次最多 24 小时，且不能跨天。", "The time range is too long: at most 24 hours per query, within one day."},
	89503: {"这次调用来自一个新的 IP，需要公众号管理员在微信上确认。请联系管理员确认后重试。", "This call came from a new IP and an administrator must confirm it in WeChat. Ask the administrator to confirm, then try again."},
	89506: {"管理员拒绝了这个 IP 的调用，24 小时内不能再调用。", "The administrator refused calls from this IP; try again after 24 hours."},
	89507: {"管理员拒绝了这个 IP 的调用，1 小时内不能再调用。", "The administrator refused calls from this IP; try again after 1 hour."},
}

// Explain returns the Chinese and English explanation of an errcode, for places
// that show a code without an *Error (for example the send log).
func Explain(code int, msg string) (zh, en string) {
	e := &Error{Code: code, Msg: msg, Kind: KindAPI}
	return e.ZH(), e.EN()
}
