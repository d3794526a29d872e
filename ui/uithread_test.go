package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
)

// Fyne's test driver runs fyne.Do callbacks at once on the calling goroutine, so
// results of background work would touch widgets while the test does too (Fyne's
// caches are plain maps: "concurrent map writes"). The real driver runs them on
// the one UI thread, only when it is idle. uiThread gives tests that model: the
// test goroutine owns the UI and lets callbacks run only while it waits (waitFor).

type uiThread struct {
	mu     sync.Mutex
	closed bool
}

type serialDriver struct {
	fyne.Driver
	ui *uiThread
}

func (d serialDriver) DoFromGoroutine(f func(), _ bool) {
	d.ui.mu.Lock()
	defer d.ui.mu.Unlock()
	if !d.ui.closed {
		f()
	}
}

type serialApp struct {
	fyne.App
	d fyne.Driver
}

func (a serialApp) Driver() fyne.Driver { return a.d }

// currentUI is the UI thread of the test running now (tests in this package are sequential).
var currentUI *uiThread

// ownUIThread makes the test goroutine the UI thread of the current test app
// (newTestWindow calls it); eventually lets background results in.
func ownUIThread(t testing.TB) *uiThread {
	t.Helper()
	ui := &uiThread{}
	a := fyne.CurrentApp()
	fyne.SetCurrentApp(serialApp{a, serialDriver{a.Driver(), ui}})
	ui.mu.Lock()
	currentUI = ui
	t.Cleanup(func() { // runs before the window closes: late callbacks are dropped
		ui.closed = true
		ui.mu.Unlock()
	})
	return ui
}

// waitFor lets background results in until cond holds on the UI thread.
func (ui *uiThread) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		ui.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		ui.mu.Lock()
	}
}
