package kfavatar_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"kfdesk/api"
	"kfdesk/api/kfavatar"
	"kfdesk/api/wechattest"
)

func client(t *testing.T) (*api.Client, *wechattest.Server) {
	t.Helper()
	srv := wechattest.NewServer(wechattest.Config{WeChatID: "teashop"})
	t.Cleanup(srv.Close)
	c, err := api.New(api.Options{BaseURL: srv.URL, Tokens: api.TokenConfig{AppID: wechattest.DefaultAppID, Secret: wechattest.DefaultSecret}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddKF(context.Background(), "xiaomei@teashop", "小美"); err != nil {
		t.Fatal(err)
	}
	return c, srv
}

// A PNG picked by the operator arrives at WeChat as a valid 640×640 JPEG in field "media".
func TestPNGUploadArrivesAs640JPEG(t *testing.T) {
	c, srv := client(t)
	src := image.NewRGBA(image.Rect(0, 0, 900, 500))
	for i := range src.Pix {
		src.Pix[i] = 0x80
	}
	src.SetRGBA(450, 250, color.RGBA{0xff, 0, 0, 0xff})
	var in bytes.Buffer
	if err := png.Encode(&in, src); err != nil {
		t.Fatal(err)
	}
	jpg, err := kfavatar.Prepare(in.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.UploadKFAvatar(ctx, "xiaomei@teashop", jpg); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests("/customservice/kfaccount/uploadheadimg")
	if len(reqs) != 1 {
		t.Fatalf("%d uploads", len(reqs))
	}
	r := reqs[0]
	if r.Query.Get("kf_account") != "xiaomei@teashop" || !strings.HasPrefix(r.ContentType, "multipart/form-data") {
		t.Fatalf("query %v, content type %q", r.Query, r.ContentType)
	}
	f, ok := r.Files["media"]
	if !ok || !strings.HasSuffix(f.Filename, ".jpg") {
		t.Fatalf("no media part: %+v", r.Files)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(f.Data))
	if err != nil || cfg.Width != 640 || cfg.Height != 640 {
		t.Fatalf("server received %d×%d (%v)", cfg.Width, cfg.Height, err)
	}
	if len(f.Data) > api.MaxKFAvatarSize {
		t.Fatalf("%d bytes", len(f.Data))
	}

	// The list now shows the avatar, and its URL serves what was uploaded.
	list, err := c.KFList(ctx)
	if err != nil || list[0].HeadImgURL == "" {
		t.Fatalf("list %+v, %v", list, err)
	}
	got, err := c.FetchImage(ctx, list[0].HeadImgURL)
	if err != nil || !bytes.Equal(got, f.Data) {
		t.Fatalf("fetched %d bytes, %v", len(got), err)
	}
}

// Sending the PNG as is (what kfavatar prevents) is refused by WeChat with 61457.
func TestRawPNGIsRefusedByWeChat(t *testing.T) {
	c, _ := client(t)
	var in bytes.Buffer
	_ = png.Encode(&in, image.NewGray(image.Rect(0, 0, 8, 8)))
	err := c.UploadKFAvatar(context.Background(), "xiaomei@teashop", in.Bytes())
	if !api.IsCode(err, 61457) || !strings.Contains(err.Error(), "JPG") {
		t.Fatalf("err = %v", err)
	}
}
