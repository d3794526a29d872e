package wechattest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// errmsgs are WeChat's English errmsg texts (the global return-code list, as
// quoted by WxJava's WxOpenErrorMsgEnum / WxMaErrorMsgEnum), typos included
// ("meida", "attrbute", "recving") because the real service sends them so.
var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40004: "invalid media type",
	40005: "invalid file type",
	40006: "invalid meida size",
	40007: "invalid media_id",
	40008: "invalid message type",
	40013: "invalid appid",
	40032: "invalid openid list size",
	40035: "invalid args size",
	40066: "invalid url",
	40073: "invalid card id",
	40125: "invalid appsecret",
	40164: "invalid ip, not in whitelist",
	40165: "invalid weapp pagepath",
	40166: "invalid weapp appid",
	41001: "access_token missing",
	41002: "appid missing",
	41004: "appsecret missing",
	41005: "media data missing",
	41006: "media_id missing",
	42001: "access_token expired",
	43001: "require GET method",
	43002: "require POST method",
	43004: "require subscribe",
	44001: "empty media data",
	44002: "empty post data",
	44003: "empty news data",
	44004: "empty content",
	45002: "content size out of limit",
	45008: "article size out of limit",
	45009: "reach max api daily quota limit",
	45015: "response out of time limit or subscription is canceled",
	45047: "out of response count limit",
	45072: "invalid command",
	45080: "need sending message to user, or recving message from user in the last 30 seconds before typing",
	45081: "you are already typing",
	45086: "invalid attrbute 'data-miniprogram-appid'",
	45098: "msgmenu list size is out of limit",
	45099: "msgmenu item content size is out of limit",
	47001: "data format error",
	48001: "api unauthorized",
	48006: "forbid to clear quota because of reaching the limit",
	61457: "invalid file type",
	65400: "please enable new custom service, or wait for a while if you have enabled",
	65401: "invalid custom service account",
	65402: "the custom service account need to bind a wechat user",
	65403: "illegal nickname",
	65404: "illegal custom service account",
	65405: "custom service account number reach limit",
	65406: "custom service account exists",
	65407: "the wechat user have been one of your workers",
	65408: "you have already invited the wechat user",
	65409: "wechat account invalid",
	65410: "too many custom service accounts bound by the worker",
	65411: "a effective invitation to bind the custom service account exists",
	65412: "the custom service account have been bound by a wechat user",
	65413: "no effective session for the customer",
	65414: "another worker is serving the customer",
	65415: "the worker is not online",
	65416: "param invalid, please check",
	65417: "it is too long from the starttime to endtime",
}

// ErrMsg returns WeChat's English errmsg for code (without the rid), or "" if unknown.
func ErrMsg(code int) string { return errmsgs[code] }

// apiError is an errcode answer.
type apiError struct {
	code int
	msg  string
}

func errc(code int) *apiError { return &apiError{code: code, msg: errmsgs[code]} }

func errMsgf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// body renders the answer, appending " rid: ..." like the real service unless
// the text already carries one.
func (e *apiError) body(now time.Time) okBody {
	msg := e.msg
	if !strings.Contains(msg, "rid: ") {
		msg += " rid: " + newRID(now)
	}
	return okBody{ErrCode: e.code, ErrMsg: msg}
}

// newRID makes a request id shaped like WeChat's: 8 hex of the time, two 8-hex randoms.
func newRID(now time.Time) string {
	return fmt.Sprintf("%08x-%08x-%08x", uint32(now.Unix()), rand.Uint32(), rand.Uint32())
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// randomID returns n characters of WeChat's id alphabet (tokens, media ids).
func randomID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[rand.IntN(len(idChars))]
	}
	return string(b)
}
