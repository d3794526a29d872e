package push

import (
	"errors"
	"fmt"
)

// Error is every refusal of this package. Its identity (errors.Is) is one of the
// Err* values below, whatever Detail says; it satisfies api.Bilingual, so the
// window and the server's log line can explain it. Detail is technical (which
// check failed, a length) and never carries a secret or message text.
type Error struct {
	Code    int // the official WXBizMsgCrypt code (-400xx) where one exists, else 0
	Chinese string
	English string
	Detail  string
	kind    *Error // the sentinel this error is an instance of
}

// Error gives both languages on one line, then the detail for support.
func (e *Error) Error() string {
	s := e.Chinese + " / " + e.English
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// ZH and EN explain the refusal (api.Bilingual).
func (e *Error) ZH() string { return e.Chinese }
func (e *Error) EN() string { return e.English }

// Is makes errors.Is(err, ErrSignature) true for every signature refusal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t == e.sentinel()
}

func (e *Error) sentinel() *Error {
	if e.kind != nil {
		return e.kind
	}
	return e
}

// with returns an instance of the sentinel e carrying a technical detail.
func (e *Error) with(format string, args ...any) *Error {
	c := *e
	c.kind = e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// The codes are those of the official samples (WXBizMsgCrypt ErrorCode), so a log
// line can be matched against WeChat's own documentation:
// https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md
var (
	// ErrSignature: signature or msg_signature missing or wrong (-40001 ValidateSignature).
	ErrSignature = &Error{Code: -40001,
		Chinese: "推送的签名不对：这不是微信发来的请求，或 KF Desk 中的 Token 与公众平台「服务器配置」里的不一致。",
		English: "The push's signature is wrong: the request did not come from WeChat, or the Token in KF Desk differs from the one in the platform's server configuration."}
	// ErrMalformed: the body or a query parameter is not as documented (-40002 ParseXml).
	ErrMalformed = &Error{Code: -40002,
		Chinese: "推送的内容格式不对（不是微信文档规定的 XML 或 JSON），已拒收。",
		English: "The push's content is not the XML or JSON WeChat documents, so it was refused."}
	// ErrAESKey: the EncodingAESKey is not 43 base64 characters (-40004 IllegalAesKey).
	ErrAESKey = &Error{Code: -40004,
		Chinese: "EncodingAESKey 不对：应为 43 个字母或数字，请从公众平台「服务器配置」原样复制（不要带空格或 = 号）。",
		English: "The EncodingAESKey is wrong: it must be 43 letters or digits; copy it exactly from the platform's server configuration (no spaces, no \"=\")."}
	// ErrAppID: the appid inside the ciphertext is not ours (-40005 ValidateAppid).
	ErrAppID = &Error{Code: -40005,
		Chinese: "推送里的 AppID 与本账号不符：这条推送是发给另一个公众号或小程序的，请核对账号设置中的 AppID 和推送地址。",
		English: "The AppID inside the push is not this account's: the push was meant for another Official Account or Mini Program. Check the account's AppID and the push URL."}
	// ErrPadding: the ciphertext does not decrypt with our key (-40007 DecryptAES):
	// not whole blocks, or the PKCS#7 padding is wrong.
	ErrPadding = &Error{Code: -40007,
		Chinese: "推送无法解密：公众平台的 EncodingAESKey 可能已更换，请把新的 EncodingAESKey 填入 KF Desk。",
		English: "The push cannot be decrypted: the EncodingAESKey may have been changed on the platform; enter the new one in KF Desk."}
	// ErrLength: the decrypted length field does not fit (-40008 IllegalBuffer).
	ErrLength = &Error{Code: -40008,
		Chinese: "推送解密后长度不对，内容已损坏，已拒收。",
		English: "The decrypted push has a wrong length: it is damaged and was refused."}
	// ErrBase64: Encrypt is not base64 (-40010 DecodeBase64).
	ErrBase64 = &Error{Code: -40010,
		Chinese: "推送的密文不是有效的 Base64，已拒收。",
		English: "The push's ciphertext is not valid Base64, so it was refused."}
	// ErrTooOld: a signed push whose timestamp is too far from now: a replay, or
	// this server's clock is wrong.
	ErrTooOld = &Error{
		Chinese: "推送的时间与本机时间相差太大：可能是重放的旧请求，或服务器时钟不准（请开启 NTP 自动对时）。",
		English: "The push's time is too far from this server's clock: an old request replayed, or the server's clock is wrong (turn on NTP time sync)."}
	// ErrTooLarge: the body is over MaxBody.
	ErrTooLarge = &Error{
		Chinese: "推送内容太大，已拒收。",
		English: "The push is too large, so it was refused."}
	// ErrPlaintext: a plaintext push to an account that requires encryption.
	ErrPlaintext = &Error{
		Chinese: "收到未加密的推送，但本账号要求加密：请在公众平台「服务器配置」中选择「安全模式」，或在 KF Desk 中关闭「只接受加密推送」。",
		English: "A plaintext push arrived but this account requires encryption: choose safe mode in the platform's server configuration, or turn off \"encrypted pushes only\" in KF Desk."}
	// ErrNoKey: an encrypted push reached an account configured without an EncodingAESKey.
	ErrNoKey = &Error{Code: -40004,
		Chinese: "收到加密推送，但 KF Desk 中没有填写 EncodingAESKey。请填入公众平台「服务器配置」里的 EncodingAESKey。",
		English: "An encrypted push arrived but KF Desk has no EncodingAESKey for this account. Enter the one from the platform's server configuration."}
)

// errRandom wraps a failure of the caller's random source.
var errRandom = errors.New("push: random source failed")
