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
	data, _, err := c.fetch(ctx, rawURL, MaxFetchedImage, "image")
	return data, err
}

// fetch GETs a URL WeChat handed out (no access token), reading at most limit
// bytes; what names the kind of file in errors. It returns the Content-Type too.
func (c *Client) fetch(ctx context.Context, rawURL string, limit int, what string) ([]byte, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", &Error{Kind: KindMalformed, Endpoint: what, Err: fmt.Errorf("not a URL for the %s: %q", what, rawURL)}
	}
	timeout := c.timeout
	if limit > MaxFetchedImage {
		timeout = UploadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.http.R().SetContext(ctx).SetDoNotParseResponse(true).Get(u.String())
	if err != nil {
		return nil, "", &Error{Kind: KindNetwork, Endpoint: u.Path, Err: c.redactErr(err)}
	}
	body := resp.RawBody()
	defer body.Close()
	if resp.StatusCode() != http.StatusOK {
		return nil, "", &Error{Kind: KindHTTP, Endpoint: u.Path, Status: resp.StatusCode()}
	}
	data, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, "", &Error{Kind: KindNetwork, Endpoint: u.Path, Err: c.redactErr(err)}
	}
	if len(data) > limit {
		return nil, "", &Error{Kind: KindMalformed, Endpoint: u.Path, Err: fmt.Errorf("%s larger than %d MB", what, limit>>20)}
	}
	return data, resp.Header().Get("Content-Type"), nil
}
