package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// KF (customer-service) account management, /customservice/kfaccount/* and
// /cgi-bin/customservice/get*kflist. Rules and errors:
// https://developers.weixin.qq.com/doc/subscription/en/api/customer/servicermanage/api_addkfaccount.html
// and its neighbours (api_delkfaccount, api_uploadkfheadimg, api_invitekfworker,
// api_getonlinekflist); https://developers.weixin.qq.com/doc/service/en/api/customer/servicermanage/api_getkflist.

const (
	kfListPath       = "/cgi-bin/customservice/getkflist"
	kfOnlineListPath = "/cgi-bin/customservice/getonlinekflist"
	kfAddPath        = "/customservice/kfaccount/add"
	kfUpdatePath     = "/customservice/kfaccount/update"
	kfDelPath        = "/customservice/kfaccount/del"
	kfInvitePath     = "/customservice/kfaccount/inviteworker"
	kfHeadImgPath    = "/customservice/kfaccount/uploadheadimg"
)

// KF account limits from the kfaccount docs.
const (
	MaxKFPrefix     = 10      // characters before "@", [A-Za-z0-9_]
	MaxKFNick       = 16      // characters of a nickname
	MaxKFSuffix     = 30      // characters of the OA's WeChat ID after "@"
	MaxKFAvatarSize = 5 << 20 // bytes of an uploaded avatar (JPEG only)
)

// Invite states of getkflist's invite_status.
const (
	InviteWaiting  = "waiting"
	InviteRejected = "rejected"
	InviteExpired  = "expired"
)

// KFID is a kf_id. getkflist sends it as a string ("1001") and getonlinekflist
// as a number (1001); both decode here, and it is written back as a string.
type KFID string

func (id *KFID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*id = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = KFID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("kf_id %s: %w", b, err)
		}
		*id = KFID(n.String())
	}
	return nil
}

// KFAccount is one customer-service account: getkflist's fields, plus status and
// accepted_case from getonlinekflist (KFAccountsWithStatus). JSON names are the API's.
type KFAccount struct {
	Account          string `json:"kf_account"`
	Nick             string `json:"kf_nick"`
	ID               KFID   `json:"kf_id"`
	HeadImgURL       string `json:"kf_headimgurl"`
	WX               string `json:"kf_wx"`              // the bound worker's WeChat ID
	InviteWX         string `json:"invite_wx"`          // the invited worker's WeChat ID
	InviteExpireTime int64  `json:"invite_expire_time"` // unix seconds
	InviteStatus     string `json:"invite_status"`      // "", waiting, rejected, expired
	Status           int    `json:"status"`             // 0 offline, 1 web online
	AcceptedCase     int    `json:"accepted_case"`      // sessions being served
}

// Online reports whether a worker is signed in on this account.
func (k KFAccount) Online() bool { return k.Status != 0 }

// KFOnline is one entry of getonlinekflist.
type KFOnline struct {
	Account      string `json:"kf_account"`
	Status       int    `json:"status"`
	ID           KFID   `json:"kf_id"`
	AcceptedCase int    `json:"accepted_case"`
}

// KFList calls getkflist: every KF account with its binding and invitation.
func (c *Client) KFList(ctx context.Context) ([]KFAccount, error) {
	var out struct {
		List []KFAccount `json:"kf_list"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: kfListPath, out: &out}); err != nil {
		return nil, err
	}
	return out.List, nil
}

// KFOnlineList calls getonlinekflist: the accounts a worker is signed in on.
func (c *Client) KFOnlineList(ctx context.Context) ([]KFOnline, error) {
	var out struct {
		List []KFOnline `json:"kf_online_list"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: kfOnlineListPath, out: &out}); err != nil {
		return nil, err
	}
	return out.List, nil
}

// KFAccountsWithStatus joins getkflist and getonlinekflist: every account, with
// status and accepted_case filled in for those online.
func (c *Client) KFAccountsWithStatus(ctx context.Context) ([]KFAccount, error) {
	list, err := c.KFList(ctx)
	if err != nil {
		return nil, err
	}
	online, err := c.KFOnlineList(ctx)
	if err != nil {
		return nil, err
	}
	byAccount := make(map[string]KFOnline, len(online))
	for _, o := range online {
		byAccount[o.Account] = o
	}
	for i := range list {
		if o, ok := byAccount[list[i].Account]; ok {
			list[i].Status, list[i].AcceptedCase = o.Status, o.AcceptedCase
		}
	}
	return list, nil
}

type kfBody struct {
	Account  string `json:"kf_account"`
	Nickname string `json:"nickname,omitempty"`
	InviteWX string `json:"invite_wx,omitempty"`
}

// AddKF creates a KF account "prefix@OA-WeChat-ID" with a nickname. The rules are
// checked first (CheckKFAccount, CheckKFNick); only WeChat knows the OA's WeChat ID.
func (c *Client) AddKF(ctx context.Context, account, nick string) error {
	if err := CheckKFAccount(account, ""); err != nil {
		return err
	}
	if err := CheckKFNick(nick); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: kfAddPath, body: kfBody{Account: account, Nickname: nick}})
}

// UpdateKF changes a KF account's nickname.
func (c *Client) UpdateKF(ctx context.Context, account, nick string) error {
	if err := checkKFAccountGiven(account); err != nil {
		return err
	}
	if err := CheckKFNick(nick); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: kfUpdatePath, body: kfBody{Account: account, Nickname: nick}})
}

// DeleteKF deletes a KF account. The current docs say POST {"kf_account"}; the
// old ones GET ?kf_account=, and SDKs are split. It sends the current form and,
// only if the server answers that the method or URL is wrong, the old form once.
func (c *Client) DeleteKF(ctx context.Context, account string) error {
	if err := checkKFAccountGiven(account); err != nil {
		return err
	}
	err := c.do(ctx, call{method: http.MethodPost, path: kfDelPath, body: kfBody{Account: account}})
	if !wrongMethodOrURL(err) {
		return err
	}
	return c.do(ctx, call{method: http.MethodGet, path: kfDelPath, query: url.Values{"kf_account": {account}}})
}

// wrongMethodOrURL: the server does not take this request shape at this address
// (43001 needs GET, 43002 needs POST, 40066 invalid url, HTTP 404/405).
func wrongMethodOrURL(err error) bool {
	if IsCode(err, 43001, 43002, 40066) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && e.Kind == KindHTTP && (e.Status == http.StatusNotFound || e.Status == http.StatusMethodNotAllowed)
}

// InviteKFWorker invites a worker, by WeChat ID, to bind a KF account. The worker
// has 7 days to accept in WeChat; getkflist shows the invitation meanwhile.
func (c *Client) InviteKFWorker(ctx context.Context, account, wechatID string) error {
	if err := checkKFAccountGiven(account); err != nil {
		return err
	}
	wechatID = strings.TrimSpace(wechatID)
	if wechatID == "" || strings.ContainsAny(wechatID, " \t@") {
		return &InputError{Field: "invite_wx",
			Chinese: "请填写工作人员的微信号（在对方微信「我」页面可见，不是昵称）。",
			English: "Enter the worker's WeChat ID (shown on their WeChat Me page; not the nickname)."}
	}
	return c.do(ctx, call{method: http.MethodPost, path: kfInvitePath, body: kfBody{Account: account, InviteWX: wechatID}})
}

// UploadKFAvatar sets a KF account's avatar: jpeg must already be a JPEG within
// MaxKFAvatarSize (see package kfavatar), sent as multipart field "media".
func (c *Client) UploadKFAvatar(ctx context.Context, account string, jpeg []byte) error {
	if err := checkKFAccountGiven(account); err != nil {
		return err
	}
	if len(jpeg) == 0 || len(jpeg) > MaxKFAvatarSize {
		return &InputError{Field: "image",
			Chinese: fmt.Sprintf("头像文件必须是 1 字节到 %d MB 之间的 JPG。", MaxKFAvatarSize>>20),
			English: fmt.Sprintf("The avatar must be a JPG between 1 byte and %d MB.", MaxKFAvatarSize>>20)}
	}
	up := &upload{field: "media", filename: "avatar.jpg", open: func() (io.Reader, error) { return bytes.NewReader(jpeg), nil }}
	return c.do(ctx, call{method: http.MethodPost, path: kfHeadImgPath, query: url.Values{"kf_account": {account}}, upload: up})
}

var (
	kfPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,10}$`)
	kfSuffixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,30}$`)
)

// CheckKFPrefix checks the part before "@": 1–10 letters, digits or underscores.
func CheckKFPrefix(prefix string) error {
	if kfPrefixPattern.MatchString(prefix) {
		return nil
	}
	return &InputError{Field: "kf_account",
		Chinese: fmt.Sprintf("账号前缀只能用英文字母、数字或下划线，1–%d 个字符（现在是「%s」）。", MaxKFPrefix, prefix),
		English: fmt.Sprintf("The account prefix may use only letters, digits or underscores, 1–%d characters (now %q).", MaxKFPrefix, prefix)}
}

// CheckKFAccount checks "prefix@OA-WeChat-ID". oaWeChatID, when known, must be the suffix.
func CheckKFAccount(account, oaWeChatID string) error {
	prefix, suffix, ok := strings.Cut(account, "@")
	if !ok || !kfSuffixPattern.MatchString(suffix) {
		return &InputError{Field: "kf_account",
			Chinese: "客服账号的格式是「前缀@公众号微信号」，例如 xiaomei@" + orExample(oaWeChatID) + "。",
			English: "A KF account is prefix@account-WeChat-ID, for example xiaomei@" + orExample(oaWeChatID) + "."}
	}
	if err := CheckKFPrefix(prefix); err != nil {
		return err
	}
	if oaWeChatID != "" && suffix != oaWeChatID {
		return &InputError{Field: "kf_account",
			Chinese: "「@」后面必须是本公众号的微信号 " + oaWeChatID + "。",
			English: "After the @ must come this account's WeChat ID, " + oaWeChatID + "."}
	}
	return nil
}

func orExample(id string) string {
	if id == "" {
		return "teashop"
	}
	return id
}

// CheckOAWeChatID checks an Official Account's WeChat ID as typed by the operator.
func CheckOAWeChatID(id string) error {
	if kfSuffixPattern.MatchString(id) {
		return nil
	}
	return &InputError{Field: "wechat_id",
		Chinese: fmt.Sprintf("请填写公众号的微信号（公众平台「设置与开发」→「公众号设置」里的微信号，最多 %d 个字母、数字、- 或 _），不是名称。", MaxKFSuffix),
		English: fmt.Sprintf("Enter the account's WeChat ID (Settings → Account Settings on the platform; up to %d letters, digits, - or _), not its name.", MaxKFSuffix)}
}

// CheckKFNick checks a nickname: not empty, at most 16 characters.
func CheckKFNick(nick string) error {
	n := utf8.RuneCountInString(nick)
	if strings.TrimSpace(nick) != "" && utf8.ValidString(nick) && n <= MaxKFNick {
		return nil
	}
	return &InputError{Field: "nickname",
		Chinese: fmt.Sprintf("昵称不能为空，最多 %d 个字（现在 %d 个）。", MaxKFNick, n),
		English: fmt.Sprintf("The nickname must not be empty and has at most %d characters (now %d).", MaxKFNick, n)}
}

// KFSuffix is the OA WeChat ID part of a KF account ("" when there is no "@").
func KFSuffix(account string) string {
	_, suffix, _ := strings.Cut(account, "@")
	return suffix
}

func checkKFAccountGiven(account string) error {
	if strings.TrimSpace(account) == "" {
		return &InputError{Field: "kf_account", Chinese: "请指定客服账号。", English: "Name the KF account."}
	}
	return nil
}
