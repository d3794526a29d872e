package wechattest_test

import (
	"bytes"
	"net/url"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

var (
	gifData  = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	amrData  = append([]byte("#!AMR\n"), make([]byte, 100)...)
	mp3Data  = append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...)
	mp4Data  = append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"), make([]byte, 100)...)
	wavData  = append([]byte("RIFF\x00\x00\x00\x00WAVEfmt "), make([]byte, 100)...)
	textData = []byte("just some text, not media")
)

func padded(b []byte, size int) []byte {
	out := make([]byte, size)
	copy(out, b)
	return out
}

func TestMediaUpload(t *testing.T) {
	e := newEnv(t)
	jpg := jpegBytes(t, 16)
	cases := []struct {
		name, typ, field string
		data             []byte
		code             int
	}{
		{"image jpeg", "image", "media", jpg, 0},
		{"image png", "image", "media", pngBytes(t), 0},
		{"image gif", "image", "media", gifData, 0},
		{"image 2 MB", "image", "media", padded(jpg, 2<<20), 0},
		{"image over 2 MB", "image", "media", padded(jpg, 2<<20+1), 40006},
		{"image not an image", "image", "media", textData, 40005},
		{"image empty", "image", "media", []byte{}, 44001},
		{"voice amr", "voice", "media", amrData, 0},
		{"voice mp3", "voice", "media", mp3Data, 0},
		{"voice amr of 7 s", "voice", "media", wechattest.AMR(7 * time.Second), 0},
		{"video mp4 of 1:23", "video", "media", wechattest.MP4(83 * time.Second), 0},
		{"voice wav", "voice", "media", wavData, 40005},
		{"voice over 2 MB", "voice", "media", padded(amrData, 2<<20+1), 40006},
		{"video mp4", "video", "media", mp4Data, 0},
		{"video over 10 MB", "video", "media", padded(mp4Data, 10<<20+1), 40006},
		{"video not mp4", "video", "media", jpg, 40005},
		{"thumb jpeg", "thumb", "media", jpg, 0},
		{"thumb png", "thumb", "media", pngBytes(t), 40005},
		{"thumb over 64 KB", "thumb", "media", padded(jpg, 64<<10+1), 40006},
		{"bad type", "file", "media", jpg, 40004},
		{"no type", "", "media", jpg, 40004},
		{"wrong field", "image", "file", jpg, 41005},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			q := url.Values{}
			if tc.typ != "" {
				q.Set("type", tc.typ)
			}
			r := e.upload("/cgi-bin/media/upload", q, tc.field, "upload.bin", tc.data)
			if tc.code != 0 {
				r.is(tc.code)
				return
			}
			id := r.str("media_id")
			if r.str("type") != tc.typ || len(id) != 64 || r.num("created_at") != float64(t0.Unix()) {
				t.Fatalf("answer %s", r.raw)
			}
			if tc.typ == "thumb" && r.str("thumb_media_id") != id {
				t.Fatalf("thumb answer %s", r.raw)
			}
			m, ok := e.srv.Media(id)
			if !ok || m.Type != tc.typ || !bytes.Equal(m.Data, tc.data) || m.Filename != "upload.bin" || !m.CreatedAt.Equal(t0) {
				t.Fatalf("Media(%s) = %+v, %v", id, m.Type, ok)
			}
		})
	}
	e.t = t
	e.post("/cgi-bin/media/upload", e.authed(url.Values{"type": {"image"}}), "not multipart").is(41005)
	if _, ok := e.srv.Media("nope"); ok {
		t.Fatal("unknown media found")
	}
}

func TestMediaExpiresAfterThreeDays(t *testing.T) {
	e := newEnv(t)
	e.srv.AddFollower(alice)
	id := e.upload("/cgi-bin/media/upload", url.Values{"type": {"image"}}, "media", "a.jpg", jpegBytes(t, 8)).str("media_id")
	e.advance(72*time.Hour - time.Second)
	e.srv.UserMessage(alice, time.Time{})
	e.send(msg(alice, "image", obj{"media_id": id})).ok()
	e.clock.Advance(time.Second)
	e.send(msg(alice, "image", obj{"media_id": id})).is(40007)
}

func TestMediaMiniProgramImageOnly(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Kind = wechattest.MiniProgram })
	e.upload("/cgi-bin/media/upload", url.Values{"type": {"image"}}, "media", "a.jpg", jpegBytes(t, 8)).noErr()
	e.upload("/cgi-bin/media/upload", url.Values{"type": {"voice"}}, "media", "a.amr", amrData).is(40004)
	e.upload("/cgi-bin/media/upload", url.Values{"type": {"thumb"}}, "media", "a.jpg", jpegBytes(t, 8)).is(40004)
}
