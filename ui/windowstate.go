package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
)

// The window's size and last page are kept in the database's settings, so they move
// with the data folder (and a backup) instead of living in a per-user preferences file.
const (
	settingWindowSize = "window_size" // "1100x720", in Fyne's device-independent units
	settingLastPage   = "last_page"   // a pageNames value
)

var defaultWindowSize = fyne.NewSize(1100, 720)

// pageNames are the stored names of the pages (stable, unlike the Page numbers).
var pageNames = map[Page]string{
	PageInbox:    "inbox",
	PageComposer: "composer",
	PageKF:       "kf",
	PageRecords:  "records",
	PageSettings: "settings",
}

// restoreWindowState sizes the window and picks the page as they were last time,
// and saves the size when the window closes or the app quits.
func (m *MainWindow) restoreWindowState() {
	size := defaultWindowSize
	if s, ok, _ := m.ws.DB.Setting(m.ctx, settingWindowSize); ok {
		var w, h float32
		// Ignore nonsense (a hand-edited value, a window that was minimised to nothing).
		if _, err := fmt.Sscanf(s, "%gx%g", &w, &h); err == nil && w >= 640 && h >= 400 && w <= 10000 && h <= 10000 {
			size = fyne.NewSize(w, h)
		}
	}
	m.win.Resize(size)
	if s, ok, _ := m.ws.DB.Setting(m.ctx, settingLastPage); ok {
		for p, name := range pageNames {
			if name == s {
				m.page = p
			}
		}
	}
	// Closing the window runs OnClosed (which also stops background work);
	// quitting (Cmd+Q, logging off, SIGTERM) only OnStopped.
	m.win.SetOnClosed(func() {
		m.saveOnExit()
		m.stop()
	})
	m.app.Lifecycle().SetOnStopped(m.saveOnExit)
}

// saveOnExit keeps what must survive the window: its size and the composer's
// draft, however recently typed. It writes at once: the program is about to end.
func (m *MainWindow) saveOnExit() {
	if m.composer != nil {
		m.composer.flushDraft()
	}
	s := m.win.Canvas().Size()
	if s.Width > 0 && s.Height > 0 {
		ctx := context.WithoutCancel(m.ctx)
		if err := m.ws.SaveSetting(ctx, settingWindowSize, fmt.Sprintf("%gx%g", s.Width, s.Height)); err != nil {
			logError("save the window size", err)
		}
	}
}

// rememberPage stores the page the operator went to.
func (m *MainWindow) rememberPage(p Page) {
	if name, ok := pageNames[p]; ok {
		m.saveSetting(settingLastPage, name)
	}
}
