package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
)

// MaxMediaDownload bounds GetMedia (and the video it fetches), since the whole file
// is held in memory. WeChat's own temporary-media limits are at most 10 MB (video;
// image 2–10 MB, voice 2 MB, see MediaLimits), but a customer's video is WeChat's
// compression of what they filmed, not an upload checked against those limits: 32 MB
// leaves room for it while an answer that never ends cannot fill the server's memory.
const MaxMediaDownload = 32 << 20

// Media is a downloaded temporary media file.
type Media struct {
	Data        []byte
	ContentType string // as WeChat sent it, e.g. image/jpeg, audio/amr, video/mp4
	Filename    string // from Content-disposition ("MEDIA_ID.jpg"), or the video URL's last part; may be ""
}

// GetMedia downloads a temporary media file by media_id (a pushed image, voice or
// video) while it lives (MediaTTL). WeChat answers the file itself, or for a video
// {"video_url"}, which is then fetched like FetchImage; an unknown or expired id is
// errcode 40007. A file over MaxMediaDownload is refused (KindMalformed).
// https://developers.weixin.qq.com/doc/offiaccount/Asset_Management/Get_temporary_materials.html
// https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/kf-mgnt/kf-message/getTempMedia.html
func (c *Client) GetMedia(ctx context.Context, mediaID string) (Media, error) {
	const endpoint = "/cgi-bin/media/get"
	if mediaID == "" {
		return Media{}, &Error{Kind: KindMalformed, Endpoint: endpoint, Err: fmt.Errorf("no media_id")}
	}
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return Media{}, c.tokenError(endpoint, err)
	}
	m, err := c.getMedia(ctx, mediaID, tok)
	if !isTokenError(err) {
		return m, err
	}
	fresh, rerr := c.tokens.Refresh(ctx, tok)
	if rerr != nil {
		return Media{}, c.tokenError(endpoint, rerr)
	}
	return c.getMedia(ctx, mediaID, fresh)
}

func (c *Client) getMedia(ctx context.Context, mediaID, token string) (Media, error) {
	const endpoint = "/cgi-bin/media/get"
	ctx, cancel := context.WithTimeout(ctx, UploadTimeout) // up to 32 MB: more than an ordinary call's time
	defer cancel()
	resp, err := c.http.R().SetContext(ctx).SetDoNotParseResponse(true).
		SetQueryParamsFromValues(url.Values{"access_token": {token}, "media_id": {mediaID}}).
		Get(c.baseURL + endpoint)
	if err != nil {
		return Media{}, &Error{Kind: KindNetwork, Endpoint: endpoint, Err: c.redactErr(err, token)}
	}
	body := resp.RawBody()
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, MaxMediaDownload+1))
	if err != nil {
		return Media{}, &Error{Kind: KindNetwork, Endpoint: endpoint, Err: c.redactErr(err, token)}
	}
	h := resp.Header()
	disp := h.Get("Content-Disposition")
	// The file comes with Content-disposition; JSON (an errcode, a video_url) without.
	// A body that is one JSON object and carries no file name is read as JSON.
	if resp.StatusCode() != http.StatusOK || (disp == "" && isJSONObject(data)) {
		var v struct {
			VideoURL string `json:"video_url"`
		}
		if err := decodeAnswer(endpoint, resp.StatusCode(), data, &v, append([]string{token}, c.secrets...)...); err != nil {
			return Media{}, err
		}
		if v.VideoURL == "" {
			return Media{}, &Error{Kind: KindMalformed, Endpoint: endpoint, Err: fmt.Errorf("answer without the file or video_url")}
		}
		return c.fetchVideo(ctx, v.VideoURL)
	}
	if len(data) > MaxMediaDownload {
		return Media{}, tooLarge(endpoint)
	}
	m := Media{Data: data, ContentType: h.Get("Content-Type")}
	if _, params, err := mime.ParseMediaType(disp); err == nil {
		m.Filename = path.Base(params["filename"])
	}
	return m, nil
}

// fetchVideo downloads the video_url media/get answers for a video (no access token: it is a CDN link).
func (c *Client) fetchVideo(ctx context.Context, rawURL string) (Media, error) {
	data, ct, err := c.fetch(ctx, rawURL, MaxMediaDownload, "video")
	if err != nil {
		return Media{}, err
	}
	u, _ := url.Parse(rawURL)
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = ""
	}
	return Media{Data: data, ContentType: ct, Filename: name}, nil
}

func tooLarge(endpoint string) error {
	return &Error{Kind: KindMalformed, Endpoint: endpoint, Err: fmt.Errorf("media larger than %d MB", MaxMediaDownload>>20)}
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
