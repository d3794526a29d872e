package api

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// Pushed media come back from the fake's media/get over loopback: image and voice
// as the file itself, a video through the video_url it answers.
func TestGetMediaDownloadsEachKind(t *testing.T) {
	c, f := setup(t)
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")
	amr := []byte("#!AMR\n\x3c\x48\xf5\x1f\x96\x66\x79\xe1")
	mp4 := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free")
	for _, tc := range []struct {
		typ  string
		data []byte
		ct   string
	}{{"image", jpeg, "image/jpeg"}, {"voice", amr, "audio/amr"}, {"video", mp4, "video/mp4"}} {
		id := f.srv.AddMedia(tc.typ, tc.data, f.clock.Now())
		m, err := c.GetMedia(context.Background(), id)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if !bytes.Equal(m.Data, tc.data) || m.ContentType != tc.ct || m.Filename == "" {
			t.Errorf("%s: got %d bytes, %q, %q", tc.typ, len(m.Data), m.ContentType, m.Filename)
		}
	}
}

// A media_id lives 3 days: after that WeChat answers 40007, a typed error that is
// not worth retrying; an unknown id is the same.
func TestGetMediaExpiredIsError40007(t *testing.T) {
	c, f := setup(t)
	id := f.srv.AddMedia("image", []byte("\xff\xd8\xff\xe0 jpeg"), f.clock.Now())
	f.clock.Advance(MediaTTL + time.Second)
	for _, mid := range []string{id, "no-such-media"} {
		_, err := c.GetMedia(context.Background(), mid)
		if !IsCode(err, 40007) {
			t.Fatalf("%s: %v, want 40007", mid, err)
		}
		if e := err.(*Error); e.Retryable() {
			t.Errorf("40007 is retryable")
		}
	}
}

// A file beyond MaxMediaDownload is refused, not held in memory whole.
func TestGetMediaRefusesOversizedFile(t *testing.T) {
	c, f := setup(t)
	big := append([]byte("\xff\xd8\xff\xe0"), make([]byte, MaxMediaDownload)...)
	for _, typ := range []string{"image", "video"} {
		id := f.srv.AddMedia(typ, big, f.clock.Now())
		_, err := c.GetMedia(context.Background(), id)
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Kind != KindMalformed || e.Retryable() {
			t.Fatalf("%s of %d bytes: %v", typ, len(big), err)
		}
	}
}
