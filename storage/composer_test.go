package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

func addTestAccount(t *testing.T, db *DB, name string) Account {
	t.Helper()
	a, err := db.AddAccount(context.Background(), Account{Name: name, Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFollowersReplaceAndKeepOrder(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a, b := addTestAccount(t, db, "a"), addTestAccount(t, db, "b")
	if f, err := db.Followers(ctx, a.ID); err != nil || !f.SyncedAt.IsZero() || len(f.OpenIDs) != 0 {
		t.Fatalf("never synced: %+v %v", f, err)
	}
	at := time.Unix(1_800_000_000, 0)
	if err := db.ReplaceFollowers(ctx, a.ID, []string{"o3", "o1", "o2"}, 3, at); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceFollowers(ctx, b.ID, []string{"x"}, 1, at); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceFollowers(ctx, a.ID, []string{"o2", "o4"}, 2, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f, err := db.Followers(ctx, a.ID)
	if err != nil || len(f.OpenIDs) != 2 || f.OpenIDs[0] != "o2" || f.OpenIDs[1] != "o4" || f.Total != 2 || !f.SyncedAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("%+v %v", f, err)
	}
	if f, _ := db.Followers(ctx, b.ID); len(f.OpenIDs) != 1 {
		t.Fatalf("other account touched: %+v", f)
	}
}

func TestNotesDraftsTemplates(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a := addTestAccount(t, db, "a")
	if err := db.SetNote(ctx, a.ID, "o1", " 老顾客 王姐 "); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Notes(ctx, a.ID); n["o1"] != "老顾客 王姐" {
		t.Fatalf("%v", n)
	}
	if err := db.SetNote(ctx, a.ID, "o1", ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Notes(ctx, a.ID); len(n) != 0 {
		t.Fatalf("not deleted: %v", n)
	}
	long := make([]rune, MaxNoteRunes+1)
	for i := range long {
		long[i] = '茶'
	}
	var ve *ValidationError
	if err := db.SetNote(ctx, a.ID, "o1", string(long)); !errors.As(err, &ve) {
		t.Fatalf("long note: %v", err)
	}

	if d, err := db.Draft(ctx, a.ID); d != "" || err != nil {
		t.Fatalf("%q %v", d, err)
	}
	_ = db.SaveDraft(ctx, a.ID, `{"v":1}`)
	_ = db.SaveDraft(ctx, a.ID, `{"v":2}`)
	if d, _ := db.Draft(ctx, a.ID); d != `{"v":2}` {
		t.Fatalf("%q", d)
	}
	_ = db.ClearDraft(ctx, a.ID)
	if d, _ := db.Draft(ctx, a.ID); d != "" {
		t.Fatalf("%q", d)
	}

	if err := db.SaveTemplate(ctx, a.ID, "  ", "x"); !errors.As(err, &ve) {
		t.Fatalf("empty name: %v", err)
	}
	_ = db.SaveTemplate(ctx, a.ID, "问候", "1")
	_ = db.SaveTemplate(ctx, a.ID, "满意度", "2")
	_ = db.SaveTemplate(ctx, a.ID, "问候", "3")
	ts, err := db.Templates(ctx, a.ID)
	if err != nil || len(ts) != 2 {
		t.Fatalf("%+v %v", ts, err)
	}
	for _, tp := range ts {
		if tp.Name == "问候" && tp.Body != "3" {
			t.Fatalf("not overwritten: %+v", tp)
		}
	}
	_ = db.DeleteTemplate(ctx, a.ID, "问候")
	if ts, _ := db.Templates(ctx, a.ID); len(ts) != 1 {
		t.Fatalf("%+v", ts)
	}
}

func TestMediaCacheExpiry(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a := addTestAccount(t, db, "a")
	created := time.Unix(1_800_000_000, 0)
	if err := db.SaveMedia(ctx, a.ID, CachedMedia{Type: "image", SHA256: "h", MediaID: "m1", Filename: "a.png", CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	if id, ok, _ := db.CachedMediaID(ctx, a.ID, "image", "h", created.Add(-time.Second)); !ok || id != "m1" {
		t.Fatalf("fresh: %q %v", id, ok)
	}
	if _, ok, _ := db.CachedMediaID(ctx, a.ID, "thumb", "h", created.Add(-time.Second)); ok {
		t.Fatal("type ignored")
	}
	if _, ok, _ := db.CachedMediaID(ctx, a.ID, "image", "h", created); ok {
		t.Fatal("expired id returned")
	}
	if m, ok, _ := db.MediaByID(ctx, a.ID, "m1"); !ok || m.Filename != "a.png" {
		t.Fatalf("%+v", m)
	}
}

func TestSendLogNewestFirstWithPaging(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a := addTestAccount(t, db, "a")
	code := 45015
	zero := 0
	base := time.UnixMilli(1_800_000_000_000)
	for i, e := range []SendLogEntry{
		{ToUser: "o1", MsgType: "text", Body: `{"a":1}`, Status: SendOK, ErrCode: &zero},
		{ToUser: "o2", MsgType: "image", Body: `{"a":2}`, Status: SendFailed, ErrCode: &code, Error: "response out of time limit"},
		{ToUser: "o3", MsgType: "text", Body: `{"a":3}`, Status: SendUnknown, Error: "timeout"},
	} {
		e.Time = base.Add(time.Duration(i) * time.Second)
		if _, err := db.LogSend(ctx, a.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := db.SendLog(ctx, a.ID, 0, 2)
	if err != nil || len(page) != 2 || page[0].ToUser != "o3" || page[0].ErrCode != nil || page[1].ErrCode == nil || *page[1].ErrCode != 45015 {
		t.Fatalf("%+v %v", page, err)
	}
	rest, _ := db.SendLog(ctx, a.ID, page[1].ID, 2)
	if len(rest) != 1 || rest[0].ToUser != "o1" || !rest[0].Time.Equal(base) || rest[0].Status != SendOK {
		t.Fatalf("%+v", rest)
	}
}
