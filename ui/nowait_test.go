package ui

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"kfdesk/ui/workspace"
)

// holdWriter takes the database's one writer connection, as a first sync's index
// build does for seconds, until release is closed or hold has passed. It returns
// once the writer is held; released reports whether it has been let go.
func holdWriter(t *testing.T, ws *workspace.Workspace, hold time.Duration) (release func(), released *atomic.Bool) {
	t.Helper()
	held, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	released = &atomic.Bool{}
	go func() {
		defer close(done)
		_ = ws.DB.WriteTx(context.Background(), func(*sql.Tx) error {
			close(held)
			select {
			case <-stop:
			case <-time.After(hold):
			}
			released.Store(true)
			return nil
		})
	}()
	<-held
	var once atomic.Bool
	release = func() {
		if once.CompareAndSwap(false, true) {
			close(stop)
			<-done
		}
	}
	t.Cleanup(release)
	return release, released
}

// The window never waits for the database's writer: navigating between the pages,
// typing in the composer and opening the recipient picker all return while another
// write holds it. What they write (the page, the draft) lands once it is free.
func TestWindowNeverWaitsForTheDatabaseWriter(t *testing.T) {
	m, ws := newTestWindow(t, "zh")
	ctx := context.Background()
	a, err := ws.EnsureDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m.SelectAccount(a.Name)
	waitIdle(t, m)
	c := m.Window().Canvas()

	release, released := holdWriter(t, ws, 8*time.Second)
	for _, page := range []string{"客服账号", "聊天记录", "设置", "发送消息"} {
		test.Tap(findButton(t, c, page))
	}
	eventually(t, "the composer to be read", func() bool { return m.composer != nil && m.composer.to != nil })
	s := m.composer
	test.Type(s.to, customer)
	test.Type(s.entries["text.content"], "您好，请问要几斤？")
	test.Tap(findButton(t, c, "选择…"))
	if s.picker == nil || len(c.Overlays().List()) == 0 {
		t.Fatal("the recipient picker did not open")
	}
	test.Type(s.picker.filter, "o")
	if released.Load() {
		t.Fatal("the window waited until the database writer was free")
	}

	release()
	waitIdle(t, m)
	eventually(t, "the draft to be saved", func() bool {
		d, err := ws.DB.Draft(ctx, a.ID)
		return err == nil && d != ""
	})
	if v, _, _ := ws.DB.Setting(ctx, settingLastPage); v != "composer" {
		t.Fatalf("last page %q, want composer: the writes queued behind the lock were lost or reordered", v)
	}
}
