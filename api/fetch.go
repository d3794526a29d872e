package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// MaxFetchedImage bounds FetchImage: avatars are small, a huge answer is a mistake.
const MaxFetchedImage = 8 << 20

// FetchImage downloads an image URL that WeChat handed out (kf_headimgurl) with
// the client's HTTP settings and timeout. No access token is sent.
func (c *Client) FetchImage(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Kind: KindMalformed, Endpoint: "image", Err: fmt.Errorf("not an image URL: %q", rawURL)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.http.R().SetContext(ctx).SetDoNotParseResponse(true).Get(u.String())
	if err != nil {
		return nil, &Error{Kind: KindNetwork, Endpoint: u.Path, Err: c.redactErr(err)}
	}
	body := resp.RawBody()
	defer body.Close()
	if resp.StatusCode() != http.StatusOK {
		return nil, &Error{Kind: KindHTTP, Endpoint: u.Path, Status: resp.StatusCode()}
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxFetchedImage+1))
	if err != nil {
		return nil, &Error{Kind: KindNetwork, Endpoint: u.Path, Err: c.redactErr(err)}
	}
	if len(data) > MaxFetchedImage {
		return nil, &Error{Kind: KindMalformed, Endpoint: u.Path, Err: fmt.Errorf("image larger than %d MB", MaxFetchedImage>>20)}
	}
	return data, nil
}
