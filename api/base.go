package api

import (
	"context"
	"net/http"
)

// DomainIPs lists WeChat's API server addresses (cgi-bin/get_api_domain_ip).
type DomainIPs struct {
	IPList []string `json:"ip_list"`
}

// APIDomainIPs calls cgi-bin/get_api_domain_ip. It needs a valid token and nothing
// else, so it is the cheapest way to prove an account's credentials work.
func (c *Client) APIDomainIPs(ctx context.Context) (*DomainIPs, error) {
	var out DomainIPs
	err := c.do(ctx, call{method: http.MethodGet, path: "/cgi-bin/get_api_domain_ip", out: &out})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Ping checks the account's credentials and the connection (token + one call).
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.APIDomainIPs(ctx)
	return err
}
