package wechattest_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"

	"kfdesk/api/wechattest"
)

// logged is what the request log holds in bodies and uploaded files.
func logged(s *wechattest.Server) int {
	n := 0
	for _, r := range s.Requests("") {
		n += len(r.Body)
		for _, f := range r.Files {
			n += len(f.Data)
		}
	}
	return n
}

// The byte bound covers bodies and uploads: a session of uploads keeps at most the
// bound (plus the newest request), while Calls still counts everything.
func TestRequestLogBoundsBytes(t *testing.T) {
	const bound = 1 << 20
	e := newEnv(t, func(c *wechattest.Config) { c.RequestLogBytes = bound })
	pic := append(jpegBytes(t, 8), make([]byte, 300<<10)...) // a 300 KB "JPEG"
	image := url.Values{"type": {"image"}}
	for range 10 {
		e.upload("/cgi-bin/media/upload", image, "media", "a.jpg", pic).noErr()
		if n := logged(e.srv); n > bound {
			t.Fatalf("the log holds %d bytes, bound %d", n, bound)
		}
	}
	if e.srv.Calls("/cgi-bin/media/upload") != 10 {
		t.Fatalf("Calls %d", e.srv.Calls("/cgi-bin/media/upload"))
	}
	ups := e.srv.Requests("/cgi-bin/media/upload")
	if len(ups) == 0 || !bytes.Equal(ups[len(ups)-1].Files["media"].Data, pic) {
		t.Fatal("the newest upload is not in the log")
	}
	// One request over the bound is still kept, alone: the newest is always there.
	e.post("/cgi-bin/message/custom/send", e.authed(nil), string(make([]byte, 2*bound)))
	if reqs := e.srv.Requests(""); len(reqs) != 1 || len(reqs[0].Body) != 2*bound {
		t.Fatalf("%d requests logged after a large one", len(reqs))
	}
}

// RequestLog 1 keeps one request (the count bound dropped nothing below two).
func TestRequestLogOfOne(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.RequestLog = 1 })
	for range 5 {
		e.apiGet(pingPath, nil)
	}
	if n := len(e.srv.Requests("")); n != 1 {
		t.Fatalf("%d requests logged, want 1", n)
	}
}

// DiscardUploads keeps what an upload is, not its bytes; by default they are kept.
func TestDiscardUploads(t *testing.T) {
	for _, discard := range []bool{false, true} {
		e := newEnv(t, func(c *wechattest.Config) { c.DiscardUploads = discard })
		pic := jpegBytes(t, 16)
		id := e.upload("/cgi-bin/media/upload", url.Values{"type": {"image"}}, "media", "a.jpg", pic).str("media_id")
		m, ok := e.srv.Media(id)
		if !ok || m.Type != "image" || m.Filename != "a.jpg" || bytes.Equal(m.Data, pic) == discard {
			t.Fatalf("discard %v: %v %+v (%d bytes)", discard, ok, m.Type, len(m.Data))
		}
		// The media_id works in a message either way.
		e.srv.UserMessage("oU1", e.srv.Now())
		e.send(map[string]any{"touser": "oU1", "msgtype": "image", "image": map[string]any{"media_id": id}}).ok()
	}
}

// A replaced KF avatar is not kept: only the current one is served.
func TestReplacedAvatarIsDropped(t *testing.T) {
	e := newEnv(t)
	e.apiPost("/customservice/kfaccount/add", obj{"kf_account": acct("mei"), "nickname": "小美"}).ok()
	q := url.Values{"kf_account": {acct("mei")}}
	e.upload("/customservice/kfaccount/uploadheadimg", q, "media", "a.jpg", jpegBytes(t, 16)).ok()
	first, _ := e.kfList()[0]["kf_headimgurl"].(string)
	e.upload("/customservice/kfaccount/uploadheadimg", q, "media", "b.jpg", jpegBytes(t, 24)).ok()
	second, _ := e.kfList()[0]["kf_headimgurl"].(string)
	for url, want := range map[string]int{first: http.StatusNotFound, second: http.StatusOK} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", url, resp.StatusCode, want)
		}
	}
}
