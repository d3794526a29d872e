package api

import (
	"context"
	"net/http"
	"net/url"
)

// KF sessions (会话控制), /customservice/kfsession/*: who waits for a KF account and
// which KF account serves whom. Docs and errors:
// https://developers.weixin.qq.com/doc/service/api/customer/messctrl/api_createkfsession,
// api_closesession, api_getkfsession, api_getkfsessionlist and api_getwaitcase beside it;
// the older one-page version: https://developers.weixin.qq.com/doc/service/Customer_Service/Session_control.html
//
// There is no transfer call for Official Account KF sessions: a transfer is a close
// by the serving KF account and a create for the other (workspace.TransferSession).

const (
	sessionCreatePath = "/customservice/kfsession/create"
	sessionClosePath  = "/customservice/kfsession/close"
	sessionGetPath    = "/customservice/kfsession/getsession"
	sessionListPath   = "/customservice/kfsession/getsessionlist"
	waitCasePath      = "/customservice/kfsession/getwaitcase"
)

// MaxWaitCases is how many waiting customers getwaitcase lists (its count says how many wait).
const MaxWaitCases = 100

// Session is a customer served by a KF account. JSON names are the API's.
type Session struct {
	KFAccount  string `json:"kf_account"` // "" in GetSession when nobody serves the customer
	OpenID     string `json:"openid"`
	CreateTime int64  `json:"createtime"` // unix seconds the session began
}

// WaitCase is a customer waiting to be taken by a KF account.
type WaitCase struct {
	OpenID     string `json:"openid"`
	LatestTime int64  `json:"latest_time"` // unix seconds of the customer's last message
}

// WaitCases is getwaitcase's answer: Count customers wait, List holds the first
// MaxWaitCases of them in the order they came.
type WaitCases struct {
	Count int        `json:"count"`
	List  []WaitCase `json:"waitcaselist"`
}

type sessionBody struct {
	KFAccount string `json:"kf_account"`
	OpenID    string `json:"openid"`
}

// CreateSession makes kf serve the customer openid (taking them from the waiting
// list). kf must be bound to a worker (65402) who is online (65415: signed in at
// mpkf.weixin.qq.com or in the 客服小助手 mini program); a customer served by another
// KF account gives 65414. It returns 0 when kf already serves them.
func (c *Client) CreateSession(ctx context.Context, kf, openid string) error {
	if err := checkSessionArgs(kf, openid); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: sessionCreatePath, body: sessionBody{kf, openid}})
}

// CloseSession ends kf's session with openid: 65413 when they have none, 65414
// when another KF account serves them.
func (c *Client) CloseSession(ctx context.Context, kf, openid string) error {
	if err := checkSessionArgs(kf, openid); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPost, path: sessionClosePath, body: sessionBody{kf, openid}})
}

// GetSession tells which KF account serves openid; KFAccount is "" when none does.
func (c *Client) GetSession(ctx context.Context, openid string) (Session, error) {
	if err := checkOpenIDGiven(openid); err != nil {
		return Session{}, err
	}
	var out Session
	err := c.do(ctx, call{method: http.MethodGet, path: sessionGetPath, query: url.Values{"openid": {openid}}, out: &out})
	out.OpenID = openid
	return out, err
}

// SessionList lists the customers kf serves now (KFAccount filled in).
func (c *Client) SessionList(ctx context.Context, kf string) ([]Session, error) {
	if err := checkKFAccountGiven(kf); err != nil {
		return nil, err
	}
	var out struct {
		List []Session `json:"sessionlist"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: sessionListPath, query: url.Values{"kf_account": {kf}}, out: &out}); err != nil {
		return nil, err
	}
	for i := range out.List {
		out.List[i].KFAccount = kf
	}
	return out.List, nil
}

// WaitCases lists the customers waiting for a KF account, oldest first.
func (c *Client) WaitCases(ctx context.Context) (WaitCases, error) {
	var out WaitCases
	err := c.do(ctx, call{method: http.MethodGet, path: waitCasePath, out: &out})
	return out, err
}

func checkSessionArgs(kf, openid string) error {
	if err := checkKFAccountGiven(kf); err != nil {
		return err
	}
	return checkOpenIDGiven(openid)
}

func checkOpenIDGiven(openid string) error {
	if openIDPattern.MatchString(openid) {
		return nil
	}
	return &InputError{Field: "openid", Chinese: notOpenIDZH, English: notOpenIDEN}
}
