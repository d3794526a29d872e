package ui

import (
	"context"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// inboxScreen is the 会话 Inbox page: the conversations on the left (with the queue
// and sessions beside them when that panel exists), the open conversation and its
// reply box on the right.
type inboxScreen struct {
	m *MainWindow
	a storage.Account

	list         *inboxList
	conv         *inboxConversation // the open conversation, nil before one is chosen
	convBox      *fyne.Container
	quickReplies []quickReply
	sessions     *sessionsPanel // the queue and sessions tab (inbox_sessions.go)
	tabs         *container.AppTabs
}

// quickReply is a text template offered in the reply box.
type quickReply struct{ name, text string }

func newInboxScreen(m *MainWindow) *inboxScreen {
	return &inboxScreen{m: m, a: m.account}
}

func (s *inboxScreen) buildUI() fyne.CanvasObject {
	s.m.inbox = s
	s.list = newInboxList(s)
	s.sessions = newSessionsPanel(s.m)
	s.sessions.open = s.openCustomer
	s.tabs = container.NewAppTabs(container.NewTabItem(T("Conversations"), s.list.buildUI()),
		container.NewTabItem(T("Queue and sessions"), s.sessions.content()))
	// The queue and sessions are network calls: made when the tab is shown, not every time the page is.
	s.tabs.OnSelected = func(*container.TabItem) { s.reloadSessions() }
	hint := widget.NewLabel(T("Choose a conversation to read it and reply."))
	hint.Importance = widget.LowImportance
	s.convBox = container.NewStack(container.NewCenter(hint))
	split := container.NewHSplit(s.tabs, s.convBox)
	split.Offset = 0.36
	s.loadQuickReplies()
	s.list.reload()
	return split
}

// reloadSessions re-reads the queue and sessions while their tab is shown.
func (s *inboxScreen) reloadSessions() {
	if s.tabs.SelectedIndex() == 1 {
		s.sessions.reload(s.a)
	}
}

// loadQuickReplies reads the account's text templates off the UI thread.
func (s *inboxScreen) loadQuickReplies() {
	var ts []storage.Template
	var err error
	a := s.a
	s.m.goBackground(func() { ts, err = s.m.ws.DB.Templates(s.m.ctx, a.ID) }, func() {
		if err != nil {
			logError("read the templates for quick replies", err)
			return
		}
		s.quickReplies = s.quickReplies[:0]
		for _, t := range ts {
			if d, ok := workspace.ParseComposerDraft(t.Body); ok && d.Message.Text != nil && d.Message.Text.Content != "" &&
				d.Message.MsgType == "text" {
				s.quickReplies = append(s.quickReplies, quickReply{name: t.Name, text: d.Message.Text.Content})
			}
		}
		if s.conv != nil && s.conv.reply != nil && s.conv.reply.quick != nil {
			s.conv.reply.showQuick("")
		}
	})
}

// customerName is the conversation's title: the note or short openid, and the openid.
func (s *inboxScreen) customerName(c workspace.InboxConversation) string {
	if c.Name != "" && c.Name != c.OpenID {
		return c.Name + " · " + c.OpenID
	}
	return c.OpenID
}

// open shows a conversation beside the list (selecting it marks it read).
func (s *inboxScreen) open(c workspace.InboxConversation) {
	s.conv = newInboxConversation(s, c)
	s.convBox.Objects = []fyne.CanvasObject{s.conv.buildUI()}
	s.convBox.Refresh()
}

// openCustomer opens a customer's conversation (a line of the queue and sessions
// tab) as the conversation list would show it, read off the UI thread: the list
// holds only the recent ones. One with nothing archived has no window known (closed).
func (s *inboxScreen) openCustomer(openid string) {
	a := s.a
	var found []workspace.InboxConversation
	var err error
	s.m.goBackground(func() {
		found, err = s.m.ws.InboxConversations(s.m.ctx, a, workspace.InboxFilter{Search: openid})
	}, func() {
		if err != nil {
			s.m.setStatus(errorText(err))
			return
		}
		if s.m.inbox != s || s.a.ID != a.ID {
			return // another page or account meanwhile
		}
		c := workspace.InboxConversation{OpenID: openid, Name: workspace.ShortOpenID(openid), Window: workspace.InboxWindow{Closed: true}}
		for _, f := range found {
			if f.OpenID == openid {
				c = f
			}
		}
		s.open(c)
	})
}

// onUpdate re-reads the list (and the open conversation) after something arrived,
// and the queue if it is shown (a customer may have joined it).
func (s *inboxScreen) onUpdate() {
	s.list.reload()
	s.reloadSessions()
}

// inboxTitle is the navigation button's and the window's text with the unread count.
func inboxTitle(base string, unread int) string {
	if unread <= 0 {
		return base
	}
	return base + " (" + strconv.Itoa(unread) + ")"
}

// inboxWatch keeps the current account's inbox fed while the window is open
// (Workspace.WatchInbox: the push server's feed, or polling WeChat), whatever page
// is shown: it counts the unread messages on the navigation button and in the
// window title, notifies of new customer messages while the window is not focused,
// and says in the status line where messages come from.
type inboxWatch struct {
	m       *MainWindow
	account storage.Account
	cancel  context.CancelFunc
	gen     int

	options workspace.WatchOptions // tests step the polling through options.After
	// paused keeps the watch from starting: tests of other screens set it, so no
	// polling of their fake WeChat happens behind their back (newTestWindow).
	paused bool
	pushed bool          // the account has a push server
	every  time.Duration // how often the inbox polls WeChat

	unread    int
	unreadReq int // the newest count asked for: an older one finishing later is stale
	focused   bool
	notifyOff bool
	notify    func(*fyne.Notification) // the app's SendNotification (tests record instead)
	status    *widget.Label
}

// settingNotify turns the new-message notifications off ("off"); Settings → Notifications.
const settingNotify = "inbox_notify"

func newInboxWatch(m *MainWindow) *inboxWatch {
	w := &inboxWatch{m: m, focused: true, notify: m.app.SendNotification}
	// On the desktop the app enters the foreground when its window gains focus.
	// The driver calls these on the UI thread (its window focus callback).
	m.app.Lifecycle().SetOnEnteredForeground(func() {
		w.focused = true
		if s := m.inbox; s != nil && s.conv != nil {
			s.conv.onUpdate(s.conv.conv) // the operator is back: what came meanwhile is read now
		}
	})
	m.app.Lifecycle().SetOnExitedForeground(func() { w.focused = false })
	return w
}

// statusLabel is the inbox's part of the bottom line.
func (w *inboxWatch) statusLabel() fyne.CanvasObject {
	text := ""
	if w.status != nil {
		text = w.status.Text
	}
	w.status = widget.NewLabel(text)
	w.status.Importance = widget.LowImportance
	return w.status
}

// start watches account a's inbox (nothing if it is already watched).
func (w *inboxWatch) start(a storage.Account) {
	if a.ID == w.account.ID && w.cancel != nil {
		return
	}
	w.stop()
	w.account = a
	if a.ID == 0 || w.paused {
		return
	}
	w.gen++
	gen := w.gen
	ctx, cancel := context.WithCancel(w.m.ctx)
	w.cancel = cancel
	db := w.m.ws.DB
	firstDemo := a.Demo && !w.m.syncer.autoed[a.ID]
	if firstDemo {
		w.m.syncer.autoed[a.ID] = true // the records page does not start a second first sync
	}
	go func() {
		// The demo's sample history is synced before the first poll: a poll of today
		// counts as a sync, after which the records page would not fill the archive.
		if firstDemo {
			if _, synced, err := db.LastRecordSync(ctx, a.ID); err == nil && !synced {
				if _, err := w.m.ws.SyncRecords(ctx, a, workspace.SyncRequest{}); err != nil && ctx.Err() == nil {
					logError("sync the demo's sample records", err)
				}
			}
		}
		off, _, err := db.Setting(ctx, settingNotify)
		if err != nil {
			logError("read the notification setting", err)
		}
		_, pushed, _ := w.m.ws.PushServer(ctx, a)
		every, _ := w.m.ws.InboxInterval(ctx)
		fyne.Do(func() {
			if gen == w.gen {
				w.notifyOff, w.pushed, w.every = off == "off", pushed, every
			}
		})
		err = w.m.ws.WatchInbox(ctx, a, w.options, func(u workspace.InboxUpdate) {
			fyne.Do(func() {
				if gen == w.gen && ctx.Err() == nil {
					w.onUpdate(u)
				}
			})
		})
		if err != nil && ctx.Err() == nil {
			fyne.Do(func() {
				if gen == w.gen {
					w.setStatus(errorText(err))
				}
			})
		}
	}()
	w.refreshUnread()
}

// stop ends the watch (the account changed or was removed).
func (w *inboxWatch) stop() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	w.gen++
	w.account = storage.Account{}
	w.setStatus("")
	w.showUnread(0)
}

// restart watches the current account again (its push server changed).
func (w *inboxWatch) restart() {
	a := w.m.account
	w.stop()
	w.start(a)
}

func (w *inboxWatch) setStatus(s string) {
	if w.status != nil {
		w.status.SetText(s)
	}
}

// onUpdate takes what the watch reports: where messages come from now, and what changed.
func (w *inboxWatch) onUpdate(u workspace.InboxUpdate) {
	w.setStatus(w.sourceText(u.Source))
	if len(u.OpenIDs) == 0 && len(u.New) == 0 {
		return
	}
	w.noticeNew(u)
	if s := w.m.inbox; s != nil && s.a.ID == w.account.ID {
		s.onUpdate()
	}
	w.refreshUnread()
}

// sourceText is the status line: live from the push server, polling WeChat (and
// why, if the push server is unreachable), or stopped for the day (45009).
func (w *inboxWatch) sourceText(src workspace.InboxSource) string {
	switch src.Mode {
	case workspace.SourcePush:
		return T("Inbox: live from the push server")
	case workspace.SourceStopped:
		return T("Inbox: WeChat's daily quota for reading messages is used up (45009); checking again at %s", workspace.FormatTime(src.Until, "01-02 15:04"))
	}
	switch {
	case src.Err != nil && w.pushed:
		return T("Inbox: the push server is unreachable (%s); asking WeChat every %s meanwhile", errorText(src.Err), durationText(w.every))
	case src.Err != nil:
		return T("Inbox: could not ask WeChat (%s); trying again soon", errorText(src.Err))
	}
	return T("Inbox: asking WeChat every %s", durationText(w.every))
}

// noticeNew notifies of new customer messages when the window is not focused.
func (w *inboxWatch) noticeNew(u workspace.InboxUpdate) {
	if w.focused || w.notifyOff {
		return
	}
	var from []workspace.InboxMessage
	for _, n := range u.New {
		if n.FromCustomer {
			from = append(from, n)
		}
	}
	if len(from) == 0 {
		return
	}
	customers := map[string]bool{}
	for _, n := range from {
		customers[n.OpenID] = true
	}
	last := previewLine(notificationText(from[len(from)-1]))
	switch {
	case len(customers) > 1:
		w.notify(fyne.NewNotification(T("%d new messages from %d customers", len(from), len(customers)), last))
	case len(from) == 1:
		w.notify(fyne.NewNotification(T("New message from %s", w.customerName(from[0].OpenID)), last))
	default:
		w.notify(fyne.NewNotification(T("%d new messages from %s", len(from), w.customerName(from[0].OpenID)), last))
	}
}

// notificationText is what a notification says of a message (no picture, no file path).
func notificationText(m workspace.InboxMessage) string {
	if t := messageText(m); t != "" {
		return t
	}
	switch m.Kind {
	case kindImage:
		return T("[Picture]")
	case kindVoice:
		return T("Voice")
	case kindVideo, kindShortVideo:
		return T("Video")
	}
	return cardTitle(m)
}

// customerName is how the inbox list names a customer, or the short openid.
func (w *inboxWatch) customerName(openid string) string {
	if s := w.m.inbox; s != nil {
		for _, c := range s.list.convs {
			if c.OpenID == openid {
				return c.Name
			}
		}
	}
	return workspace.ShortOpenID(openid)
}

// refreshUnread counts the unread messages off the UI thread.
func (w *inboxWatch) refreshUnread() {
	a := w.account
	if a.ID == 0 {
		return
	}
	// Counts run in their own goroutines and may finish out of order; only the one
	// asked for last saw every write before it (a count from before a MarkRead that
	// lands after the count from after it would leave the badge at 1).
	w.unreadReq++
	req := w.unreadReq
	var n int
	var err error
	w.m.goBackground(func() { n, err = w.m.ws.UnreadTotal(w.m.ctx, a) }, func() {
		if a.ID != w.account.ID || req != w.unreadReq {
			return
		}
		if err != nil {
			logError("count unread messages", err)
			return
		}
		w.showUnread(n)
	})
}

// showUnread puts the count on the navigation button and in the window title.
func (w *inboxWatch) showUnread(n int) {
	w.unread = n
	if int(PageInbox) < len(w.m.navButtons) {
		w.m.navButtons[PageInbox].SetText(inboxTitle(T("Inbox"), n))
	}
	w.m.win.SetTitle(inboxTitle(windowTitle, n))
}
