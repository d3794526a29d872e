package workspace

import (
	"context"
	"os"
	"testing"

	"kfdesk/api"
)

// The demo's fake WeChat lives as long as the app: it keeps no request log and of an
// upload only what it is, so uploads and sends cannot pile up in memory for the session.
func TestDemoServerKeepsNoBodies(t *testing.T) {
	ctx := context.Background()
	ws := openTemp(t)
	demo, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := jpegFile(t, t.TempDir(), "photo.jpg", 200, 200)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ws.UploadMedia(ctx, demo, api.MediaImage, "photo.jpg", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	to := ws.demo.Followers()[0]
	ws.demo.UserMessage(to, ws.demo.Now())
	if _, err := ws.Send(ctx, demo, &api.Message{ToUser: to, MsgType: api.TypeImage, Image: &api.MediaRef{MediaID: m.MediaID}}); err != nil {
		t.Fatal(err)
	}
	if n := len(ws.demo.Requests("")); n != 0 || ws.demo.Calls("") < 3 {
		t.Fatalf("the demo logged %d of %d requests", n, ws.demo.Calls(""))
	}
	if item, ok := ws.demo.Media(m.MediaID); !ok || item.Data != nil {
		t.Fatalf("the demo keeps the upload: %v, %d bytes", ok, len(item.Data))
	}
}
