package workspace

import (
	"context"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
)

// The inbox (issue 12 §1): the conversation list, read marks and unread counts,
// from the local archive (storage/inbox.go). What feeds the archive is inbox_watch.go.

// InboxFilter narrows the conversation list.
type InboxFilter struct {
	UnreadOnly bool
	Waiting    bool   // only customers waiting for a KF account
	OpenOnly   bool   // only those whose reply window is still open
	KF         string // only those last served by this KF account ("mine")
	Search     string // in the customer's openid, note or last message
	Limit      int    // default InboxLimit
}

// InboxLimit is how many conversations the list shows by default.
const InboxLimit = 200

// InboxConversation is one row of the inbox.
type InboxConversation struct {
	OpenID           string
	Name             string // the note, or the short openid
	LastText         string
	LastAt           time.Time
	LastFromCustomer bool
	Unread           int
	Waiting          bool
	WaitingSince     time.Time
	KF               string
	Window           InboxWindow
}

// InboxWindow is a customer's reply window (api.ReplyWindowAt): time and sends left.
type InboxWindow struct {
	Left      time.Duration
	SendsLeft int
	Exact     bool // from the push server's CreateTimes (api.ReplyFacts); else estimated from archived records
	Closed    bool // nothing may be sent now (48 hours over, the 5 sends used, or no message known)
	Low       bool // open, but less than WindowLowTime or WindowLowSends left
}

// Below these the window shows amber.
const (
	WindowLowTime  = 6 * time.Hour
	WindowLowSends = 1
)

func inboxWindow(s api.ReplyStatus, exact bool) InboxWindow {
	w := InboxWindow{Exact: exact, Closed: s.State != api.ReplyOpen}
	if !w.Closed {
		w.Left, w.SendsLeft = s.Rest, s.Left
		w.Low = s.Rest < WindowLowTime || s.Left <= WindowLowSends
	}
	return w
}

// ShortOpenID is how a customer without a note is named: the openid's last 6 characters.
func ShortOpenID(openid string) string {
	if len(openid) <= 8 {
		return openid
	}
	return "…" + openid[len(openid)-6:]
}

// InboxConversations lists the account's conversations: waiting customers on top
// (longest waiting first), then the others by newest activity.
func (w *Workspace) InboxConversations(ctx context.Context, a storage.Account, f InboxFilter) ([]InboxConversation, error) {
	if f.Limit <= 0 {
		f.Limit = InboxLimit
	}
	now := clock.Now()
	q := storage.InboxQuery{UnreadOnly: f.UnreadOnly, WaitingOnly: f.Waiting, KF: f.KF, Search: f.Search, Limit: f.Limit}
	if f.OpenOnly {
		// Customers who wrote within 48 hours (a pushed message is archived too); the
		// exact windows below then drop those with their 5 sends used. Not listed: one
		// whose only open allowance is the minute after a menu click or follow.
		q.MessageFrom = now.Add(-api.ReplyWindow)
	}
	rows, err := w.DB.InboxRows(ctx, a.ID, q)
	if err != nil {
		return nil, err
	}
	pushes, err := w.DB.HasPushes(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var windows map[string]storage.PushWindow
	if pushes {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.OpenID
		}
		if windows, err = w.DB.CustomerWindows(ctx, a.ID, ids); err != nil {
			return nil, err
		}
	}
	out := make([]InboxConversation, 0, len(rows))
	for _, r := range rows {
		c := InboxConversation{OpenID: r.OpenID, Name: r.Note, LastText: r.LastText, LastAt: r.LastAt,
			LastFromCustomer: api.OperCodeDirection(r.LastOperCode) == api.DirIn, Unread: r.Unread,
			Waiting: !r.WaitingSince.IsZero(), WaitingSince: r.WaitingSince, KF: r.KF}
		if c.Name == "" {
			c.Name = ShortOpenID(r.OpenID)
		}
		c.Window = window(a, r, windows[r.OpenID], now)
		if f.OpenOnly && c.Window.Closed {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// window is the row's reply window: exact when pushes tell of the customer (f), else
// estimated from the archive's records.
func window(a storage.Account, r storage.InboxRow, f storage.PushWindow, now time.Time) InboxWindow {
	if !f.LastMessage.IsZero() || !f.LastEvent.IsZero() {
		return inboxWindow(api.ReplyFacts{LastMessage: f.LastMessage, RepliesSince: f.SendsSinceMessage, LastEvent: f.LastEvent,
			SendsSinceEvent: f.SendsSinceEvent, MiniProgram: MiniProgram(a)}.At(now), true)
	}
	return inboxWindow(api.ReplyWindowAt(r.CustomerAt, r.Replies, now), false)
}

// MarkRead marks the customer's conversation read (selecting it in the inbox).
func (w *Workspace) MarkRead(ctx context.Context, a storage.Account, openid string) error {
	return w.DB.MarkInboxRead(ctx, a.ID, openid)
}

// UnreadTotal is the number of unread customer messages of the account (the
// navigation button's and the window title's count).
func (w *Workspace) UnreadTotal(ctx context.Context, a storage.Account) (int, error) {
	return w.DB.InboxUnread(ctx, a.ID)
}
