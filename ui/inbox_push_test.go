package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"kfdesk/api/clock"
	"kfdesk/ui/workspace"
)

// fakeFeed is a push server's desktop feed (ui/serve/desktop.go: GET /api/v1/feed
// long-polled from a cursor, GET /api/v1/media/ID) serving the items the test adds.
type fakeFeed struct {
	srv   *httptest.Server
	mu    sync.Mutex
	items []workspace.PushItem
	media map[int64][]byte
	more  chan struct{} // closed when an item is added
	down  bool          // answers 503, as a server being restarted
}

func newFakeFeed(t testing.TB) *fakeFeed {
	f := &fakeFeed{media: map[int64][]byte{}, more: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// newFakeFeedOn serves the feed from ln (an address a connection code may name).
func newFakeFeedOn(t testing.TB, ln net.Listener) *fakeFeed {
	f := &fakeFeed{media: map[int64][]byte{}, more: make(chan struct{})}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Listener.Close()
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFeed) add(it workspace.PushItem, media []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it.ID = int64(len(f.items) + 1)
	if it.Time == "" {
		it.Time = clock.Now().Format(time.RFC3339)
	}
	f.items = append(f.items, it)
	if media != nil {
		f.media[it.ID] = media
	}
	close(f.more)
	f.more = make(chan struct{})
}

// setMedia makes an item's file available (the server fetched it from WeChat).
func (f *fakeFeed) setMedia(id int64, b []byte) {
	f.mu.Lock()
	f.media[id] = b
	f.mu.Unlock()
}

func (f *fakeFeed) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	close(f.more) // the long poll under way answers now
	f.more = make(chan struct{})
	f.mu.Unlock()
}

func (f *fakeFeed) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer kfd_test" {
		http.Error(w, "no", http.StatusUnauthorized)
		return
	}
	if id, ok := strings.CutPrefix(r.URL.Path, "/api/v1/media/"); ok {
		n, _ := strconv.ParseInt(id, 10, 64)
		f.mu.Lock()
		b, ok := f.media[n]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
		return
	}
	cursor, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	for {
		f.mu.Lock()
		down, more := f.down, f.more
		var out []workspace.PushItem
		for _, it := range f.items {
			if it.ID > cursor {
				out = append(out, it)
			}
		}
		f.mu.Unlock()
		if down {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		if len(out) > 0 || r.URL.Query().Get("wait") == "" {
			next := cursor
			if len(out) > 0 {
				next = out[len(out)-1].ID
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"items": out, "cursor": next})
			return
		}
		select { // a long poll: answer when something comes
		case <-more:
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Second):
			_ = json.NewEncoder(w).Encode(map[string]any{"items": []workspace.PushItem{}, "cursor": cursor})
			return
		}
	}
}

// connect keeps the feed as the account's push server, as SetPushServer does after
// checking the code (which only takes http on port 80 or https on 443, so not this
// loopback server): the connection in the secret store (ui/workspace/inbox_pushserver.go).
func (f *fakeFeed) connect(t testing.TB, it *inboxTest) {
	b, _ := json.Marshal(workspace.Connection{URL: f.srv.URL, Key: "kfd_test"})
	if err := it.ws.Secrets.Set("account-"+strconv.FormatInt(it.a.ID, 10)+":pushserver", string(b)); err != nil {
		t.Fatal(err)
	}
	if u, ok, err := it.ws.PushServer(context.Background(), it.a); !ok || u != f.srv.URL || err != nil {
		t.Fatalf("push server %q %v %v", u, ok, err)
	}
}

func testJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: 160, B: uint8(y * 5), A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// With a push server the inbox is live: a pushed picture and menu answer appear in
// the conversation, the picture as a thumbnail once its file has come (the server
// fetches it from WeChat after the message); when the server goes down the status
// line says so and the inbox polls WeChat instead.
func TestInboxFromThePushServerFallsBackToPolling(t *testing.T) {
	feed := newFakeFeed(t)
	it := newInboxTest(t, "zh", func(it *inboxTest) { feed.connect(t, it) })
	it.waitShows("会话：接收服务器实时推送")

	feed.add(workspace.PushItem{Account: inboxAppID, OpenID: inboxCustomer, MsgType: "image", MsgID: "9001"}, nil)
	feed.add(workspace.PushItem{Account: inboxAppID, OpenID: inboxCustomer, MsgType: "text", Text: "满意", MenuID: "101", MsgID: "9002"}, nil)
	it.waitShows("满意")
	v := it.open(inboxCustomer)
	it.waitShows("选择了「满意」", "[图片，未下载]")
	feed.setMedia(1, testJPEG(t))
	eventually(t, "the picture's thumbnail", func() bool {
		select { // end the watch's waits (its next poll of WeChat, its next try for the file)
		case it.tick <- time.Now():
		default:
		}
		for _, m := range v.msgs {
			if m.Kind == kindImage && m.MediaPath != "" {
				pictures.mu.Lock() // not lookup: that would claim the load for itself
				e := pictures.m[m.MediaPath]
				pictures.mu.Unlock()
				return e != nil && e.img != nil && e.img.Bounds().Dx() == 64
			}
		}
		return false // the watcher says when the file has come (its customer changed)
	})
	if !strings.Contains(shownText(it.m.Window().Canvas()), "剩 ") || strings.Contains(v.window.Text, "约") {
		t.Fatalf("the window is an estimate with a push server: %q", v.window.Text)
	}

	calls := it.srv.Calls("/customservice/msgrecord/getmsglist")
	feed.setDown(true)
	it.waitShows("会话：连不上接收服务器（接收服务器回答了 HTTP 503，请稍后再试。），暂时每 1 分钟向微信查询一次")
	eventually(t, "a poll of WeChat", func() bool { return it.srv.Calls("/customservice/msgrecord/getmsglist") > calls })
}

// Settings → account → 接收服务器: a wrong code and an unreachable server are
// explained in place, and the pasted code stays in the field.
func TestPushServerSectionExplainsProblems(t *testing.T) {
	it := newInboxTest(t, "zh")
	c := it.m.Window().Canvas()
	test.Tap(findButton(t, c, "设置"))
	waitIdle(t, it.m)
	p := it.m.settings.push
	it.waitShows("接收服务器", "未设置接收服务器：窗口打开时定时向微信查询新消息。")

	test.Type(p.code, "kfdesk1.abc")
	test.Tap(findButton(t, c, "测试"))
	waitIdle(t, it.m)
	assertShows(t, c, "× 连接码不正确")

	// A well-formed code of a server nobody answers at (port 80 on this machine).
	code := workspace.ConnectionCode(workspace.Connection{URL: "http://127.0.0.1", Key: "kfd_test"})
	p.code.SetText(code)
	test.Tap(findButton(t, c, "连接"))
	waitIdle(t, it.m)
	assertShows(t, c, "× 连不上接收服务器 http://127.0.0.1")
	if p.code.Text != code {
		t.Fatal("the code was lost")
	}
	if _, ok, _ := it.ws.PushServer(context.Background(), it.a); ok {
		t.Fatal("an unreachable server was kept")
	}
}

// Settings → account → 接收服务器 the whole way: a code pasted, tested and connected,
// after which the inbox is live from the server; disconnected, it polls WeChat again.
// A code names its server as WeChat pushes to it (http on port 80, https on 443), so
// the feed listens on 127.0.0.1:80: the test needs that port (root) and is skipped
// without it.
func TestPushServerSectionConnectsAndDisconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		t.Skipf("port 80 of 127.0.0.1 cannot be taken here (%v)", err)
	}
	feed := newFakeFeedOn(t, ln)
	it := newInboxTest(t, "zh")
	c := it.m.Window().Canvas()
	it.waitShows("会话：每 1 分钟向微信查询一次")
	test.Tap(findButton(t, c, "设置"))
	waitIdle(t, it.m)
	p := it.m.settings.push
	it.waitShows("未设置接收服务器：窗口打开时定时向微信查询新消息。")

	test.Type(p.code, workspace.ConnectionCode(workspace.Connection{URL: "http://127.0.0.1", Key: "kfd_test"}))
	test.Tap(findButton(t, c, "测试"))
	waitIdle(t, it.m)
	assertShows(t, c, "接收服务器已应答，连接码有效。")
	if _, ok, _ := it.ws.PushServer(context.Background(), it.a); ok {
		t.Fatal("testing kept the server")
	}
	test.Tap(findButton(t, c, "连接"))
	waitIdle(t, it.m)
	assertShows(t, c, "已连接。新消息现在由接收服务器推送。", "已连接接收服务器 http://127.0.0.1。")
	if p.code.Text != "" {
		t.Fatal("the code (it holds the key) stayed in the field")
	}
	it.waitShows("会话：接收服务器实时推送")
	feed.add(workspace.PushItem{Account: inboxAppID, OpenID: inboxCustomer, MsgType: "text", Text: "推送来的消息", MsgID: "9101"}, nil)
	it.m.showPage(PageInbox)
	it.waitShows("推送来的消息")

	it.m.showPage(PageSettings)
	waitIdle(t, it.m)
	test.Tap(findButton(t, c, "断开"))
	test.Tap(confirmButton(t, it.m, "断开"))
	waitIdle(t, it.m)
	it.waitShows("未设置接收服务器：窗口打开时定时向微信查询新消息。", "会话：每 1 分钟向微信查询一次")
	if _, ok, _ := it.ws.PushServer(context.Background(), it.a); ok {
		t.Fatal("still connected")
	}
}
