// Command inboxshot prepares a demo data folder for the inbox screenshot
// (docs/inbox_screenshot.sh → docs/inbox.png): a demo customer has just written,
// sent a picture and answered a satisfaction menu, as pushes arriving from a push
// server would. Usage: go run -tags TAGS ./docs/inboxshot DATA-DIR
package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// customer is a demo follower who wrote recently (docs/composer_screenshot.sh uses them too).
const customer = "oDemom1xYpCJKZFofBDv2ixoF5hI"

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "inboxshot:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	ctx := context.Background()
	ws, err := workspace.Open(dir)
	if err != nil {
		return err
	}
	defer ws.Close()
	a, err := ws.EnsureDemo(ctx)
	if err != nil {
		return err
	}
	if err := ws.SetNote(ctx, a, customer, "老顾客 王姐"); err != nil {
		return err
	}
	if err := os.MkdirAll(ws.MediaDir(a.ID), 0o700); err != nil {
		return err
	}
	now := clock.Now().Truncate(time.Second)
	pushes := []storage.Push{
		{MsgType: "text", Content: "你好，我昨天买的龙井到了，外盒有点压坏了，茶叶没事。给你们看一下照片。"},
		{MsgType: "image", MediaID: "demo-photo"},
		{MsgType: "voice", MediaID: "demo-voice", Format: "amr"},
		{MsgType: "text", Content: "满意", MenuID: "101"},
		{MsgType: "text", Content: "下次还在你们家买，谢谢！"},
	}
	// docs/suggestions.png: the customer then asks what the demo's history has answered.
	if q := os.Getenv("INBOXSHOT_ASK"); q != "" {
		pushes = append(pushes, storage.Push{MsgType: "text", Content: q})
	}
	for i, p := range pushes {
		p.OpenID, p.CreateTime, p.MsgID = customer, now.Add(time.Duration(i-len(pushes))*40*time.Second), strconv.Itoa(880001+i)
		p.Raw, p.BodyFormat = []byte(`{}`), storage.FormatJSON
		id, _, err := ws.DB.StorePush(ctx, a.ID, p)
		if err != nil {
			return err
		}
		if _, err := ws.DB.ArchivePush(ctx, id); err != nil {
			return err
		}
		var path string
		var size int64
		switch p.MsgType {
		case "image":
			path, size, err = writePhoto(ws.MediaDir(a.ID), id)
		case "voice": // six seconds of speech frames: the bubble says 语音 0:06
			path = filepath.Join(ws.MediaDir(a.ID), strconv.FormatInt(id, 10)+".amr")
			voice := wechattest.AMR(6 * time.Second)
			size, err = int64(len(voice)), os.WriteFile(path, voice, 0o600)
		default:
			continue
		}
		if err != nil {
			return err
		}
		if err := ws.DB.SetPushMedia(ctx, id, path, size); err != nil {
			return err
		}
	}
	return nil
}

// writePhoto draws a parcel on a table (a picture a customer might send) as the push's media file.
func writePhoto(dir string, id int64) (string, int64, error) {
	img := image.NewRGBA(image.Rect(0, 0, 480, 360))
	for y := 0; y < 360; y++ {
		for x := 0; x < 480; x++ {
			c := color.RGBA{R: uint8(150 + y/6), G: uint8(110 + y/8), B: 80, A: 255} // wood
			if x > 110 && x < 370 && y > 70 && y < 290 {
				c = color.RGBA{R: 60, G: uint8(120 + (x-110)/5), B: 70, A: 255} // the green tea box
				if (x-110+y)%90 < 6 {
					c = color.RGBA{R: 40, G: 80, B: 45, A: 255} // the dent
				}
			}
			img.Set(x, y, c)
		}
	}
	path := filepath.Join(dir, strconv.FormatInt(id, 10)+".jpg")
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 85}); err != nil {
		f.Close()
		return "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	return path, st.Size(), nil
}
