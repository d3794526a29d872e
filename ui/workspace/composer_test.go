package workspace

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

const customer = "oCustomer0000000000000000001"

// shop is an Official Account (or a Mini Program) on its own fake server.
func shop(t *testing.T, kind wechattest.Kind) (*Workspace, storage.Account, *wechattest.Server) {
	t.Helper()
	ws := openTemp(t)
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "s", Kind: kind})
	t.Cleanup(srv.Close)
	k := storage.KindOA
	if kind == wechattest.MiniProgram {
		k = storage.KindMP
	}
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: k, AppID: "wx0123456789abcdef", APIBase: srv.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	return ws, a, srv
}

func text(s string) *api.Message {
	return &api.Message{ToUser: customer, MsgType: api.TypeText, Text: &api.Text{Content: s}}
}

func TestSendLogsEveryOutcome(t *testing.T) {
	ws, a, srv := shop(t, wechattest.OfficialAccount)
	ctx := context.Background()

	// Invalid: nothing sent, nothing logged.
	if _, err := ws.Send(ctx, a, text("")); !errors.As(err, new(api.ValidationErrors)) {
		t.Fatalf("empty text: %v", err)
	}
	srv.AddFollower(customer)
	if _, err := ws.Send(ctx, a, text("在吗")); !api.IsCode(err, 45015) {
		t.Fatalf("closed window: %v", err)
	}
	srv.UserMessage(customer, time.Time{})
	for range 5 {
		if _, err := ws.Send(ctx, a, text("您好")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ws.Send(ctx, a, text("第六条")); !api.IsCode(err, 45047) {
		t.Fatalf("sixth: %v", err)
	}
	srv.FailNth("/cgi-bin/message/custom/send", 1, wechattest.Errcode(-1, ""))
	e, err := ws.Send(ctx, a, text("系统繁忙时"))
	if !api.IsCode(err, -1) || e.Status != storage.SendFailed || *e.ErrCode != -1 {
		t.Fatalf("-1: %+v %v", e, err)
	}
	srv.FailNth("/cgi-bin/message/custom/send", 1, wechattest.Malformed())
	if e, _ := ws.Send(ctx, a, text("回答被截断")); e.Status != storage.SendUnknown || e.ErrCode != nil {
		t.Fatalf("malformed: %+v", e)
	}
	srv.RemoveFollower(customer)
	if _, err := ws.Send(ctx, a, text("取关以后")); !api.IsCode(err, 43004) {
		t.Fatalf("unfollowed: %v", err)
	}

	log, err := ws.DB.SendLog(ctx, a.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(log) - 1; i >= 0; i-- {
		e := log[i]
		code := "nil"
		if e.ErrCode != nil {
			code = strconv.Itoa(*e.ErrCode)
		}
		got = append(got, e.Status+":"+code)
		if e.ToUser != customer || e.MsgType != "text" || !strings.HasPrefix(e.Body, `{"touser":"`+customer) {
			t.Fatalf("entry %+v", e)
		}
	}
	want := "failed:45015 sent:0 sent:0 sent:0 sent:0 sent:0 failed:45047 failed:-1 unknown:nil failed:43004"
	if strings.Join(got, " ") != want {
		t.Fatalf("log\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if !strings.Contains(log[2].Body, "系统繁忙时") {
		t.Fatalf("body of the -1 entry: %s", log[2].Body)
	}
}

func jpegFile(t *testing.T, dir, name string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7919 % 251)
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUploadMediaCachesByContentFor3Days(t *testing.T) {
	ws, a, srv := shop(t, wechattest.OfficialAccount)
	ctx := context.Background()
	p := jpegFile(t, t.TempDir(), "photo.jpg", 64, 64)
	data, err := ReadMediaFile(p, api.MediaImage, false)
	if err != nil {
		t.Fatal(err)
	}
	m1, err := ws.UploadMedia(ctx, a, api.MediaImage, p, data, nil)
	if err != nil || m1.Cached {
		t.Fatalf("%+v %v", m1, err)
	}
	m2, err := ws.UploadMedia(ctx, a, api.MediaImage, "renamed.jpg", data, nil)
	if err != nil || !m2.Cached || m2.MediaID != m1.MediaID || srv.Calls("/cgi-bin/media/upload") != 1 {
		t.Fatalf("second upload of the same content: %+v %v (%d calls)", m2, err, srv.Calls("/cgi-bin/media/upload"))
	}
	// As a thumb it is another media type: uploaded again.
	calls := srv.Calls("/cgi-bin/media/upload")
	m3, err := ws.UploadMedia(ctx, a, api.MediaThumb, p, data, nil)
	if err != nil || m3.Cached || m3.MediaID == "" || m3.MediaID == m1.MediaID || srv.Calls("/cgi-bin/media/upload") != calls+1 {
		t.Fatalf("thumb reused the image id: %+v %v", m3, err)
	}
	// Within an hour of the 3-day expiry the id is not reused.
	_, _ = ws.DB.Writer().Exec("UPDATE media_cache SET created_at = created_at - ?", int64((api.MediaTTL - 30*time.Minute).Seconds()))
	calls = srv.Calls("/cgi-bin/media/upload")
	m4, err := ws.UploadMedia(ctx, a, api.MediaImage, p, data, nil)
	if err != nil || m4.Cached || m4.MediaID == "" || m4.MediaID == m1.MediaID || srv.Calls("/cgi-bin/media/upload") != calls+1 {
		t.Fatalf("nearly expired id reused: %+v %v", m4, err)
	}
}

func TestMediaLimitsAndShrink(t *testing.T) {
	ws, a, _ := shop(t, wechattest.OfficialAccount)
	ctx := context.Background()
	dir := t.TempDir()
	big := jpegFile(t, dir, "cover.jpg", 400, 400) // noise at q95: far over 64 KB
	data, err := ReadMediaFile(big, api.MediaThumb, false)
	var p *api.MediaProblem
	if !errors.As(err, &p) || !p.TooLarge {
		t.Fatalf("thumb over 64 KB: %v", err)
	}
	if _, err := ws.UploadMedia(ctx, a, api.MediaThumb, big, data, nil); !errors.As(err, &p) {
		t.Fatalf("upload skipped the check: %v", err)
	}
	small, err := ShrinkImage(data, api.MediaLimits[api.MediaThumb].MaxBytes)
	if err != nil || len(small) > 64<<10 {
		t.Fatalf("shrink: %d bytes, %v", len(small), err)
	}
	if _, err := ws.UploadMedia(ctx, a, api.MediaThumb, "cover.jpg", small, nil); err != nil {
		t.Fatalf("shrunk thumb refused: %v", err)
	}

	// A transparent PNG shrinks to a JPEG on white.
	img := image.NewNRGBA(image.Rect(0, 0, 50, 50))
	img.Set(1, 1, color.NRGBA{255, 0, 0, 255})
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	out, err := ShrinkImage(b.Bytes(), 64<<10)
	if err != nil || !api.SniffMedia(api.MediaThumb, out) {
		t.Fatalf("png → jpeg: %v", err)
	}
	dec, _ := jpeg.Decode(bytes.NewReader(out))
	if r, g, bl, _ := dec.At(40, 40).RGBA(); r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
		t.Fatalf("transparent area is not white: %d %d %d", r>>8, g>>8, bl>>8)
	}
	if _, err := ShrinkImage([]byte("not a picture"), 100); err == nil {
		t.Fatal("garbage shrunk")
	}

	// A file named .mp4 that is not one.
	fake := filepath.Join(dir, "clip.mp4")
	_ = os.WriteFile(fake, []byte("hello, this is text"), 0o600)
	if _, err := ReadMediaFile(fake, api.MediaVideo, false); !errors.As(err, &p) || p.TooLarge {
		t.Fatalf("fake mp4: %v", err)
	}
}

func TestMiniProgramUploadsImagesOnly(t *testing.T) {
	ws, a, srv := shop(t, wechattest.MiniProgram)
	amr := []byte("#!AMR\n0000")
	if _, err := ws.UploadMedia(context.Background(), a, api.MediaVoice, "a.amr", amr, nil); err == nil || srv.Calls("/cgi-bin/media/upload") != 0 {
		t.Fatalf("voice for a Mini Program: %v", err)
	}
	if names, _, err := ws.SendAsAccounts(context.Background(), a); err != nil || names != nil {
		t.Fatalf("send-as for a Mini Program: %v %v", names, err)
	}
}

func TestRecipientsMergeRecordsFollowersAndNotes(t *testing.T) {
	ws, a, srv := shop(t, wechattest.OfficialAccount)
	ctx := context.Background()
	for _, id := range []string{"oF1", "oF2", "oF3"} {
		srv.AddFollower(id)
	}
	srv.SetUserPageSize(2)
	n, err := ws.SyncFollowers(ctx, a, nil)
	if err != nil || n != 3 {
		t.Fatalf("sync: %d %v", n, err)
	}
	_ = ws.DB.SetNote(ctx, a.ID, "oF2", "王姐")
	_ = ws.DB.SetNote(ctx, a.ID, "oPasted", "门店来的")
	now := clock.Now()
	ws.SeenCustomers = func(_ context.Context, id int64, _ int) ([]SeenCustomer, error) {
		if id != a.ID {
			t.Errorf("account %d", id)
		}
		return []SeenCustomer{
			{OpenID: "oF2", LastMessage: now.Add(-47 * time.Hour), LastActivity: now.Add(-47 * time.Hour), RepliesSince: 4},
			{OpenID: "oGone", LastMessage: now.Add(-time.Hour), LastActivity: now.Add(-time.Hour), RepliesSince: 5},
		}, nil
	}
	rs, err := ws.Recipients(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range rs {
		order = append(order, r.OpenID)
	}
	if strings.Join(order, ",") != "oGone,oF2,oF3,oF1,oPasted" {
		t.Fatalf("order %v", order)
	}
	if rs[1].Reply(now).State != api.ReplyOpen || rs[1].Note != "王姐" || !rs[1].Follower || rs[1].Reply(now).Rest > time.Hour {
		t.Fatalf("oF2: %+v", rs[1])
	}
	if rs[0].Reply(now).State == api.ReplyOpen || rs[0].Follower {
		t.Fatalf("5 replies used: %+v", rs[0])
	}
	if rs[1].Reply(now.Add(2*time.Hour)).State == api.ReplyOpen {
		t.Fatal("window open after 48 h")
	}
	if rs[2].Reply(now).State == api.ReplyOpen || rs[4].Note != "门店来的" {
		t.Fatalf("%+v %+v", rs[2], rs[4])
	}
}

// The window estimate from real chat records synced from the server.
func TestRecipientsFromSyncedChatRecords(t *testing.T) {
	ws, a, srv := shop(t, wechattest.OfficialAccount)
	ctx := context.Background()
	now := clock.Now()
	srv.AddRecords(
		wechattest.Record{OpenID: "oRecent", OperCode: 2003, Text: "在吗", Time: now.Add(-2 * time.Hour).Unix()},
		wechattest.Record{OpenID: "oRecent", OperCode: 2002, Text: "在的", Time: now.Add(-2*time.Hour + time.Minute).Unix(), Worker: "a@shop"},
		wechattest.Record{OpenID: "oOld", OperCode: 2003, Text: "你好", Time: now.Add(-50 * time.Hour).Unix()},
	)
	c, _ := ws.client(ctx, a)
	s := &storage.RecordSync{DB: ws.DB, AccountID: a.ID, Fetcher: c}
	if _, err := s.Range(ctx, now.Add(-72*time.Hour), now); err != nil {
		t.Fatal(err)
	}
	rs, err := ws.Recipients(ctx, a)
	if err != nil || len(rs) != 2 {
		t.Fatalf("%+v %v", rs, err)
	}
	if rs[0].OpenID != "oRecent" || rs[0].Reply(now).State != api.ReplyOpen || rs[0].RepliesSince != 1 {
		t.Fatalf("recent: %+v", rs[0])
	}
	if rs[1].OpenID != "oOld" || rs[1].Reply(now).State == api.ReplyOpen {
		t.Fatalf("old: %+v", rs[1])
	}
}
