package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Temporary media types of cgi-bin/media/upload.
const (
	MediaImage = "image"
	MediaVoice = "voice"
	MediaVideo = "video"
	MediaThumb = "thumb"
)

// MediaTTL is how long WeChat keeps a temporary media_id.
const MediaTTL = 3 * 24 * time.Hour

// MediaLimit is the size limit and the accepted formats of one media type. Images
// use the current doc's 2 MB (an older page said 10 MB): the stricter value.
type MediaLimit struct {
	MaxBytes   int
	Extensions []string // lower case, with the dot
	Formats    string   // for messages
}

// MediaLimits are WeChat's documented limits, the stricter where two pages differ:
// https://developers.weixin.qq.com/doc/offiaccount/en/Asset_Management/New_temporary_materials.html
// (image 10 MB, voice 2 MB, video 10 MB, thumb 64 KB) and
// https://developers.weixin.qq.com/doc/subscription/en/api/material/temporary/api_uploadtempmedia.html
// (image 2 MB).
var MediaLimits = map[string]MediaLimit{
	MediaImage: {2 << 20, []string{".png", ".jpg", ".jpeg", ".gif"}, "JPG/PNG/GIF"},
	MediaVoice: {2 << 20, []string{".amr", ".mp3"}, "AMR/MP3"},
	MediaVideo: {10 << 20, []string{".mp4"}, "MP4"},
	MediaThumb: {64 << 10, []string{".jpg", ".jpeg"}, "JPG"},
}

// MediaProblem says why a file cannot be uploaded as a media type. TooLarge
// marks the one problem re-encoding can fix.
type MediaProblem struct {
	TooLarge bool
	zh, en   string
}

func (p *MediaProblem) Error() string { return p.zh + " / " + p.en }
func (p *MediaProblem) ZH() string    { return p.zh }
func (p *MediaProblem) EN() string    { return p.en }

// CheckMedia checks a file against the limits of typ before uploading it: the
// extension, the content (sniffed, so a renamed file is caught) and the size.
// A Mini Program can upload images only.
func CheckMedia(typ, filename string, data []byte, miniProgram bool) *MediaProblem {
	lim, ok := MediaLimits[typ]
	if !ok {
		return &MediaProblem{zh: "未知的素材类型：" + typ, en: "Unknown media type: " + typ}
	}
	if miniProgram && typ != MediaImage {
		return &MediaProblem{zh: "小程序只能上传图片。", en: "A Mini Program can upload images only."}
	}
	ext := strings.ToLower(filepath.Ext(filename))
	if !slices.Contains(lim.Extensions, ext) || !SniffMedia(typ, data) {
		return &MediaProblem{
			zh: fmt.Sprintf("「%s」不是 %s 文件：%s只支持 %s。", filepath.Base(filename), lim.Formats, mediaNameZH[typ], lim.Formats),
			en: fmt.Sprintf("%q is not a %s file: %s must be %s.", filepath.Base(filename), lim.Formats, mediaNameEN[typ], lim.Formats),
		}
	}
	if len(data) == 0 {
		return &MediaProblem{zh: "文件是空的。", en: "The file is empty."}
	}
	if len(data) > lim.MaxBytes {
		return MediaTooLarge(typ, len(data))
	}
	return nil
}

// MediaTooLarge is the problem of a file of size bytes over typ's limit.
func MediaTooLarge(typ string, size int) *MediaProblem {
	lim := MediaLimits[typ]
	return &MediaProblem{TooLarge: true,
		zh: fmt.Sprintf("文件太大：%s，%s最多 %s。", SizeText(size), mediaNameZH[typ], SizeText(lim.MaxBytes)),
		en: fmt.Sprintf("The file is too large: %s; %s may be at most %s.", SizeText(size), mediaNameEN[typ], SizeText(lim.MaxBytes)),
	}
}

var (
	mediaNameZH = map[string]string{MediaImage: "图片", MediaVoice: "语音", MediaVideo: "视频", MediaThumb: "缩略图（封面）"}
	mediaNameEN = map[string]string{MediaImage: "an image", MediaVoice: "a voice file", MediaVideo: "a video", MediaThumb: "a thumbnail (cover)"}
)

// SizeText is a byte count for people: "64 KB", "2.0 MB".
func SizeText(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<10-1)>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// SniffMedia checks content against the documented formats: image PNG/JPEG/GIF,
// voice AMR/MP3, video MP4, thumb JPEG.
func SniffMedia(typ string, b []byte) bool {
	switch typ {
	case MediaImage:
		ct := http.DetectContentType(b)
		return ct == "image/png" || ct == "image/jpeg" || ct == "image/gif"
	case MediaThumb:
		return http.DetectContentType(b) == "image/jpeg"
	case MediaVoice:
		return bytes.HasPrefix(b, []byte("#!AMR")) || bytes.HasPrefix(b, []byte("ID3")) ||
			(len(b) > 1 && b[0] == 0xFF && b[1]&0xE0 == 0xE0) // an MPEG audio frame
	case MediaVideo:
		return len(b) >= 12 && string(b[4:8]) == "ftyp"
	}
	return false
}

// UploadedMedia is media/upload's answer.
type UploadedMedia struct {
	Type         string `json:"type"`
	MediaID      string `json:"media_id"`
	ThumbMediaID string `json:"thumb_media_id"` // what the real service answers for thumb
	CreatedAt    int64  `json:"created_at"`
}

// ID is the media_id, whichever field carried it.
func (u *UploadedMedia) ID() string {
	if u.MediaID != "" {
		return u.MediaID
	}
	return u.ThumbMediaID
}

// Progress reports bytes sent of an upload's whole request body.
type Progress func(sent, total int64)

// UploadMedia uploads a temporary media file (multipart field "media"). progress,
// if not nil, is called as the request body goes out (again from 0 on a token retry).
// Check the file with CheckMedia first.
func (c *Client) UploadMedia(ctx context.Context, typ, filename string, data []byte, progress Progress) (*UploadedMedia, error) {
	var out UploadedMedia
	up := &upload{field: "media", filename: filepath.Base(filename),
		open: func() (io.Reader, error) { return bytes.NewReader(data), nil }}
	err := c.do(ctx, call{method: http.MethodPost, path: "/cgi-bin/media/upload", query: url.Values{"type": {typ}},
		upload: up, out: &out, progress: progress})
	if err != nil {
		return nil, err
	}
	if out.ID() == "" {
		return nil, &Error{Kind: KindMalformed, Endpoint: "/cgi-bin/media/upload", Err: fmt.Errorf("answer without media_id")}
	}
	return &out, nil
}

// progressKey carries a Progress to the pre-request hook, which wraps the body
// the transport reads: resty builds multipart bodies in memory first, so
// wrapping the file reader would report 100% before a byte went out.
type progressKey struct{}

func withProgress(ctx context.Context, p Progress) context.Context {
	if p == nil {
		return ctx
	}
	return context.WithValue(ctx, progressKey{}, p)
}

// wrapProgress is the resty pre-request hook.
func wrapProgress(req *http.Request) {
	p, ok := req.Context().Value(progressKey{}).(Progress)
	if !ok || req.Body == nil {
		return
	}
	p(0, req.ContentLength)
	req.Body = &progressBody{rc: req.Body, total: req.ContentLength, report: p}
}

type progressBody struct {
	rc     io.ReadCloser
	sent   int64
	total  int64
	report Progress
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.sent += int64(n)
		b.report(b.sent, b.total)
	}
	return n, err
}

func (b *progressBody) Close() error { return b.rc.Close() }
