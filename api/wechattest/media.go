package wechattest

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Temporary media limits. Images use the stricter 2 MB of the current doc (the
// old one said 10 MB); types are sniffed from the content, not the filename.
var mediaLimits = map[string]int{
	"image": 2 << 20,
	"voice": 2 << 20,
	"video": 10 << 20,
	"thumb": 64 << 10,
}

// mediaTTL: a temporary media_id expires after 3 days.
const mediaTTL = 3 * 24 * time.Hour

// MediaItem is one uploaded temporary media file.
type MediaItem struct {
	ID          string
	Type        string // image, voice, video, thumb
	Filename    string
	ContentType string // as sent in the multipart part
	Data        []byte
	CreatedAt   time.Time
}

type mediaState struct {
	media map[string]*MediaItem
}

func (s *Server) initMedia() { s.media = map[string]*MediaItem{} }

// Media looks up an uploaded media file by media_id (expired ones included).
func (s *Server) Media(id string) (MediaItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m == nil {
		return MediaItem{}, false
	}
	return *m, true
}

// AddMedia stores a media file as if uploaded at createdAt and returns its
// media_id, for tests and the demo (no type or size checks).
func (s *Server) AddMedia(typ string, data []byte, createdAt time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeMedia(typ, "", "", data, createdAt).ID
}

func (s *Server) storeMedia(typ, name, ct string, data []byte, at time.Time) *MediaItem {
	m := &MediaItem{ID: randomID(64), Type: typ, Filename: name, ContentType: ct, Data: data, CreatedAt: at}
	s.media[m.ID] = m
	return m
}

// checkMedia: a media_id used in a message must exist, be unexpired and of one of
// the given types; anything else is 40007 invalid media_id.
func (s *Server) checkMedia(id string, now time.Time, types ...string) *apiError {
	m := s.liveMedia(id, now)
	if m == nil || !slices.Contains(types, m.Type) {
		return errc(40007)
	}
	return nil
}

// handleMediaUpload: POST /cgi-bin/media/upload?type=image|voice|video|thumb,
// multipart field "media" → {"type","media_id","created_at"}.
func (s *Server) handleMediaUpload(c *call) (any, *apiError) {
	typ := c.q.Get("type")
	limit, known := mediaLimits[typ]
	if !known || (s.cfg.Kind == MiniProgram && typ != "image") {
		return nil, errc(40004)
	}
	if c.tooBig {
		return nil, errc(40006)
	}
	f, ok := c.req.Files["media"]
	if !ok {
		return nil, errc(41005)
	}
	if len(f.Data) == 0 {
		return nil, errc(44001)
	}
	if len(f.Data) > limit {
		return nil, errc(40006)
	}
	if !sniffMedia(typ, f.Data) {
		return nil, errc(40005)
	}
	data := f.Data
	if s.cfg.DiscardUploads {
		data = nil
	}
	m := s.storeMedia(typ, f.Filename, f.ContentType, data, c.now)
	if typ == "thumb" {
		// The real service answers thumb uploads with thumb_media_id; the doc shows
		// media_id. Both are sent so either reading works.
		return struct {
			Type         string `json:"type"`
			MediaID      string `json:"media_id"`
			ThumbMediaID string `json:"thumb_media_id"`
			CreatedAt    int64  `json:"created_at"`
		}{typ, m.ID, m.ID, c.now.Unix()}, nil
	}
	return struct {
		Type      string `json:"type"`
		MediaID   string `json:"media_id"`
		CreatedAt int64  `json:"created_at"`
	}{typ, m.ID, c.now.Unix()}, nil
}

// sniffMedia checks the content against the documented formats: image
// PNG/JPEG/GIF, voice AMR/MP3, video MP4, thumb JPEG.
func sniffMedia(typ string, b []byte) bool {
	switch typ {
	case "image":
		ct := http.DetectContentType(b)
		return ct == "image/png" || ct == "image/jpeg" || ct == "image/gif"
	case "thumb":
		return http.DetectContentType(b) == "image/jpeg"
	case "voice":
		return bytes.HasPrefix(b, []byte("#!AMR")) || bytes.HasPrefix(b, []byte("ID3")) ||
			(len(b) > 1 && b[0] == 0xFF && b[1]&0xE0 == 0xE0)
	case "video":
		return len(b) >= 12 && string(b[4:8]) == "ftyp"
	}
	return false
}

// mediaFilePrefix serves media bytes at the URLs WeChat hands out for them: the
// PicUrl of a pushed image and the video_url that media/get answers for a video.
const mediaFilePrefix = "/wxmedia/"

// mediaFile is a media/get answer that is the file itself, not JSON.
type mediaFile struct{ m *MediaItem }

// mediaExt names the file in Content-disposition like WeChat ("MEDIA_ID.jpg").
var mediaExt = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
	"audio/amr": ".amr", "audio/mpeg": ".mp3", "video/mp4": ".mp4"}

// contentType sniffs the stored bytes (voice and video, which Go does not sniff, by their magic).
func (m *MediaItem) contentType() string {
	switch {
	case bytes.HasPrefix(m.Data, []byte("#!AMR")):
		return "audio/amr"
	case m.Type == "voice":
		return "audio/mpeg"
	case m.Type == "video":
		return "video/mp4"
	}
	return http.DetectContentType(m.Data)
}

func (f mediaFile) write(w http.ResponseWriter) {
	ct := f.m.contentType()
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-disposition", `attachment; filename="`+f.m.ID+mediaExt[ct]+`"`)
	h.Set("Cache-Control", "no-cache, must-revalidate")
	h.Set("Content-Length", strconv.Itoa(len(f.m.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(f.m.Data)
}

// liveMedia is the unexpired media item id, or nil. s.mu is held.
func (s *Server) liveMedia(id string, now time.Time) *MediaItem {
	m := s.media[id]
	if m == nil || now.Sub(m.CreatedAt) >= mediaTTL {
		return nil
	}
	return m
}

// handleMediaGet: GET /cgi-bin/media/get?media_id= (OA getMedia, Mini Program
// getTempMedia) answers the file itself with Content-disposition, or for a video
// {"video_url"}; an unknown or expired (3 days) media_id is 40007, none 41006.
// https://developers.weixin.qq.com/doc/service/en/api/material/temporary/api_getmedia.html
func (s *Server) handleMediaGet(c *call) (any, *apiError) {
	id := c.q.Get("media_id")
	if id == "" {
		return nil, errc(41006)
	}
	m := s.liveMedia(id, c.now)
	if m == nil {
		return nil, errc(40007)
	}
	if m.Type == "video" {
		return struct {
			VideoURL string `json:"video_url"`
		}{c.base + mediaFilePrefix + m.ID}, nil
	}
	return mediaFile{m}, nil
}

// serveMediaFile serves GET /wxmedia/<id> while the media lives (no token, like a CDN URL).
func (s *Server) serveMediaFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.liveMedia(strings.TrimPrefix(r.URL.Path, mediaFilePrefix), s.clock.Now())
	s.mu.Unlock()
	if m == nil {
		http.NotFound(w, r)
		return
	}
	mediaFile{m}.write(w)
}
