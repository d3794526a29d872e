package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"kfdesk/api/wechattest"
)

func TestCheckMediaLimits(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n" + string(make([]byte, 100)))
	jpg := jpegOf(t, 16, 16, 80)
	mp4 := append([]byte{0, 0, 0, 0x18}, []byte("ftypmp42")...)
	amr := []byte("#!AMR\n....")
	big := func(head []byte, n int) []byte {
		return append(append([]byte{}, head...), make([]byte, n-len(head))...)
	}
	cases := []struct {
		name, typ, file string
		data            []byte
		mp              bool
		ok, tooLarge    bool
	}{
		{"png image", MediaImage, "a.png", png, false, true, false},
		{"jpg image, upper-case ext", MediaImage, "a.JPG", jpg, false, true, false},
		{"image exactly 2 MB", MediaImage, "a.png", big(png, 2<<20), false, true, false},
		{"image over 2 MB", MediaImage, "a.png", big(png, 2<<20+1), false, false, true},
		{"png renamed to jpg", MediaImage, "a.jpg", []byte("not an image at all"), false, false, false},
		{"bmp image", MediaImage, "a.bmp", []byte("BM......"), false, false, false},
		{"amr voice", MediaVoice, "a.amr", amr, false, true, false},
		{"mp3 voice", MediaVoice, "a.mp3", []byte("ID3\x04\x00"), false, true, false},
		{"wav voice", MediaVoice, "a.wav", []byte("RIFF....WAVE"), false, false, false},
		{"voice over 2 MB", MediaVoice, "a.amr", big(amr, 2<<20+1), false, false, true},
		{"mp4 video", MediaVideo, "a.mp4", mp4, false, true, false},
		{"video over 10 MB", MediaVideo, "a.mp4", big(mp4, 10<<20+1), false, false, true},
		{"mov video", MediaVideo, "a.mov", mp4, false, false, false},
		{"jpg thumb", MediaThumb, "a.jpg", jpg, false, true, false},
		{"png thumb", MediaThumb, "a.png", png, false, false, false},
		{"thumb over 64 KB", MediaThumb, "a.jpg", big(jpg, 64<<10+1), false, false, true},
		{"mini program image", MediaImage, "a.png", png, true, true, false},
		{"mini program voice", MediaVoice, "a.amr", amr, true, false, false},
	}
	for _, tc := range cases {
		p := CheckMedia(tc.typ, tc.file, tc.data, tc.mp)
		if (p == nil) != tc.ok {
			t.Errorf("%s: problem %v, want ok=%v", tc.name, p, tc.ok)
			continue
		}
		if p != nil && (p.TooLarge != tc.tooLarge || p.ZH() == "" || p.EN() == "") {
			t.Errorf("%s: %+v", tc.name, p)
		}
	}
}

func TestUploadMediaWithProgress(t *testing.T) {
	c, f := setup(t)
	data := jpegOf(t, 200, 200, 90)
	var mu sync.Mutex
	var calls [][2]int64
	up, err := c.UploadMedia(context.Background(), MediaImage, "/tmp/照片.jpg", data, func(sent, total int64) {
		mu.Lock()
		calls = append(calls, [2]int64{sent, total})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	item, ok := f.srv.Media(up.ID())
	if !ok || item.Type != "image" || !bytes.Equal(item.Data, data) || item.Filename != "照片.jpg" {
		t.Fatalf("server got %+v (%v)", item.Filename, ok)
	}
	reqs := f.srv.Requests("/cgi-bin/media/upload")
	if _, ok := reqs[0].Files["media"]; !ok {
		t.Fatalf("field: %v", reqs[0].Files)
	}
	last := calls[len(calls)-1]
	if len(calls) < 2 || last[0] != last[1] || last[1] <= int64(len(data)) {
		t.Fatalf("progress %v (file %d bytes)", calls, len(data))
	}

	// Thumb answers carry thumb_media_id too; either is the id.
	up, err = c.UploadMedia(context.Background(), MediaThumb, "t.jpg", jpegOf(t, 8, 8, 50), nil)
	if err != nil || up.ID() == "" {
		t.Fatalf("%+v %v", up, err)
	}
}

// On a token retry the file is sent again in full, and progress starts over.
func TestUploadMediaTokenRetry(t *testing.T) {
	c, f := setup(t)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv.InvalidateTokens()
	data := jpegOf(t, 32, 32, 80)
	starts := 0
	up, err := c.UploadMedia(context.Background(), MediaImage, "a.jpg", data, func(sent, _ int64) {
		if sent == 0 {
			starts++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if item, _ := f.srv.Media(up.ID()); !bytes.Equal(item.Data, data) || starts != 2 {
		t.Fatalf("retry sent %d bytes, %d starts", len(item.Data), starts)
	}
}

func TestUploadMediaServerLimits(t *testing.T) {
	c, _ := setup(t)
	// The server checks too: a PNG as thumb is 40005 even if the local check were skipped.
	_, err := c.UploadMedia(context.Background(), MediaThumb, "a.jpg", []byte("\x89PNG\r\n\x1a\n0000000000"), nil)
	if !IsCode(err, 40005) {
		t.Fatalf("%v", err)
	}
	mp := wechattest.NewServer(wechattest.Config{Kind: wechattest.MiniProgram})
	defer mp.Close()
	mc, _ := New(Options{BaseURL: mp.URL, Tokens: TokenConfig{AppID: wechattest.DefaultAppID, Secret: wechattest.DefaultSecret}})
	if _, err := mc.UploadMedia(context.Background(), MediaVoice, "a.amr", []byte("#!AMR\n"), nil); !IsCode(err, 40004) {
		t.Fatalf("mini program voice: %v", err)
	}
}

func TestAllFollowersPages(t *testing.T) {
	c, f := setup(t)
	var want []string
	for i := range 25 {
		id := "oFollower" + string(rune('A'+i)) + "000000000000000000"
		f.srv.AddFollower(id)
		want = append(want, id)
	}
	f.srv.SetUserPageSize(10)
	var progress []int
	got, err := c.AllFollowers(context.Background(), func(n, total int) {
		if total != 25 {
			t.Errorf("total %d", total)
		}
		progress = append(progress, n)
	})
	if err != nil || len(got) != 25 || got[0] != want[0] || got[24] != want[24] {
		t.Fatalf("%d followers, %v", len(got), err)
	}
	if len(progress) != 3 || progress[2] != 25 {
		t.Fatalf("progress %v", progress)
	}
	// One page holding every follower: a single call, no request for an empty page.
	f.srv.SetUserPageSize(25)
	got, err = c.AllFollowers(context.Background(), nil)
	if err != nil || len(got) != 25 {
		t.Fatalf("%d, %v", len(got), err)
	}
	if n := f.srv.Calls("/cgi-bin/user/get"); n != 4 {
		t.Fatalf("user/get called %d times", n)
	}
}

// The last page of user/get may omit `data` and still carry next_openid
// (https://developers.weixin.qq.com/doc/offiaccount/User_Management/Getting_a_User_List.html;
// wechatpy's iter_followers checks for it). When total overstates the list (someone
// unfollowed mid-way) only that page can stop the loop.
func TestAllFollowersStopsOnAPageWithoutData(t *testing.T) {
	var calls int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("next_openid") == "" {
			_, _ = w.Write([]byte(`{"total":3,"count":2,"data":{"openid":["oA","oB"]},"next_openid":"oB"}`))
			return
		}
		_, _ = w.Write([]byte(`{"total":3,"count":0,"next_openid":"oB"}`))
	}))
	defer ts.Close()
	c, err := New(Options{BaseURL: ts.URL, Tokens: TokenConfig{Mode: TokenStatic, Secret: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.AllFollowers(context.Background(), nil)
	if err != nil || len(got) != 2 || calls != 2 {
		t.Fatalf("got %v, %v after %d calls", got, err, calls)
	}
}
