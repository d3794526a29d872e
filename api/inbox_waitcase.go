package api

import (
	"context"
	"net/http"
	"time"
)

// InboxWaitCase is a customer waiting for a KF account to take them.
type InboxWaitCase struct {
	OpenID     string
	LatestTime time.Time // their latest message
}

// InboxWaitCases calls customservice/kfsession/getwaitcase: the customers waiting
// for a KF account, oldest first (at most 100), and how many wait in all. It is the
// inbox watcher's own minimal call (api/kfsession.go, the sessions page's client, may
// replace it). https://developers.weixin.qq.com/doc/subscription/en/api/customer/messctrl/api_getwaitcase.html
func (c *Client) InboxWaitCases(ctx context.Context) (cases []InboxWaitCase, count int, err error) {
	var out struct {
		Count int `json:"count"`
		List  []struct {
			LatestTime int64  `json:"latest_time"`
			OpenID     string `json:"openid"`
		} `json:"waitcaselist"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/customservice/kfsession/getwaitcase", out: &out}); err != nil {
		return nil, 0, err
	}
	for _, w := range out.List {
		if w.OpenID != "" {
			cases = append(cases, InboxWaitCase{OpenID: w.OpenID, LatestTime: time.Unix(w.LatestTime, 0)})
		}
	}
	return cases, out.Count, nil
}
