package workspace_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Times on the command line are Beijing time unless they say their zone.
func TestParseInboxTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-12-01":                "2026-11-30T16:00:00Z",
		"2026-12-01 09:30":          "2026-12-01T01:30:00Z",
		"2026-12-01T09:30":          "2026-12-01T01:30:00Z",
		"2026-12-01T09:30:00Z":      "2026-12-01T09:30:00Z",
		"2026-12-01T09:30:00+08:00": "2026-12-01T01:30:00Z",
	} {
		got, err := workspace.ParseInboxTime(in)
		if err != nil || got.UTC().Format(time.RFC3339) != want {
			t.Errorf("%q: %v %v, want %s", in, got.UTC(), err, want)
		}
	}
	var ve *storage.ValidationError
	for _, bad := range []string{"", "yesterday", "2026-13-01", "01.12.2026"} {
		if _, err := workspace.ParseInboxTime(bad); !errors.As(err, &ve) || ve.Chinese == "" || ve.English == "" {
			t.Errorf("%q: %v, want a validation error in both languages", bad, err)
		}
	}
}

// Inbox reads every push oldest first across pages, of one account or all.
func TestInboxReadsEveryPushInOrderAcrossPages(t *testing.T) {
	ws := openWS(t)
	ctx := context.Background()
	const n = 1203 // more than two pages
	ids := storeJobs(t, ws, n, "notify")
	other, err := ws.AddAccount(ctx, storage.Account{Name: "别的店", Kind: storage.KindOA, AppID: "wxfedcba9876543210"}, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.DB.StorePush(ctx, other.ID, storage.Push{CreateTime: clock.Now(), OpenID: jobCustomer, MsgType: "text", MsgID: "1",
		Raw: []byte("<xml/>"), BodyFormat: storage.FormatXML}); err != nil {
		t.Fatal(err)
	}
	var got []int64
	first, _ := ws.DB.Push(ctx, ids[0])
	if err := ws.Inbox(ctx, first.AccountID, time.Time{}, func(p storage.Push) error { got = append(got, p.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("read %d pushes (first %v), want %d in order", len(got), got[:min(3, len(got))], n)
	}
	all := 0
	if err := ws.Inbox(ctx, 0, time.Time{}, func(storage.Push) error { all++; return nil }); err != nil || all != n+1 {
		t.Fatalf("every account: %d %v, want %d", all, err, n+1)
	}
	later := 0
	if err := ws.Inbox(ctx, 0, clock.Now().Add(time.Hour), func(storage.Push) error { later++; return nil }); err != nil || later != 0 {
		t.Fatalf("since an hour from now: %d %v", later, err)
	}
}
