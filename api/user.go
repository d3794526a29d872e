package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// FollowerPage is one page of cgi-bin/user/get (at most 10000 openids).
type FollowerPage struct {
	Total int `json:"total"`
	Count int `json:"count"`
	Data  *struct {
		OpenID []string `json:"openid"`
	} `json:"data"` // absent on the page after the last
	NextOpenID string `json:"next_openid"`
}

// OpenIDs are the page's openids (none when data is absent).
func (p *FollowerPage) OpenIDs() []string {
	if p.Data == nil {
		return nil
	}
	return p.Data.OpenID
}

// Followers returns one page of followers starting after next ("" = from the start).
func (c *Client) Followers(ctx context.Context, next string) (*FollowerPage, error) {
	q := url.Values{}
	if next != "" {
		q.Set("next_openid", next)
	}
	var p FollowerPage
	if err := c.do(ctx, call{method: http.MethodGet, path: "/cgi-bin/user/get", query: q, out: &p}); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllFollowers pages through user/get. It stops on a page without openids (the last
// page may omit data yet still carry next_openid) or once total are collected;
// progress, if not nil, gets the running count and total after each page.
func (c *Client) AllFollowers(ctx context.Context, progress func(got, total int)) ([]string, error) {
	var all []string
	seen := map[string]bool{}
	next := ""
	for {
		p, err := c.Followers(ctx, next)
		if err != nil {
			return nil, err
		}
		ids := p.OpenIDs()
		for _, id := range ids {
			if !seen[id] { // a follower who re-followed mid-sync can appear twice
				seen[id] = true
				all = append(all, id)
			}
		}
		if progress != nil {
			progress(len(all), p.Total)
		}
		if len(ids) == 0 || p.NextOpenID == "" || len(all) >= p.Total {
			return all, nil
		}
		if p.NextOpenID == next {
			return nil, &Error{Kind: KindMalformed, Endpoint: "/cgi-bin/user/get", Err: fmt.Errorf("next_openid does not advance")}
		}
		next = p.NextOpenID
	}
}
