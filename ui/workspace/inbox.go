package workspace

import (
	"context"
	"strings"
	"time"

	"kfdesk/storage"
)

// What kfdesk serve received (issue 11 §6): the stored pushes, read page by page.

// inboxPage is how many pushes one read takes.
const inboxPage = 500

// Inbox calls each for every push of account accountID (0: every account) received
// at or after since (zero: all), oldest first, reading a page at a time so a large
// archive is never held whole. It stops at the first error each returns.
func (w *Workspace) Inbox(ctx context.Context, accountID int64, since time.Time, each func(storage.Push) error) error {
	var cursor int64
	if !since.IsZero() {
		c, err := w.DB.PushCursorAt(ctx, accountID, since)
		if err != nil {
			return err
		}
		cursor = c
	}
	for {
		page, err := w.DB.PushesSince(ctx, accountID, cursor, inboxPage)
		if err != nil {
			return err
		}
		for _, p := range page {
			if err := each(p); err != nil {
				return err
			}
		}
		if len(page) < inboxPage {
			return nil
		}
		cursor = page[len(page)-1].ID
	}
}

// ParseInboxTime reads a time as the command line takes it: RFC 3339
// (2026-12-01T09:30:00+08:00), or YYYY-MM-DD or "YYYY-MM-DD HH:MM" in TimeZone.
func ParseInboxTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, TimeZone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &storage.ValidationError{Field: "since",
		Chinese: "时间格式应为 YYYY-MM-DD、「YYYY-MM-DD HH:MM」（" + TimeZoneNameZH + "）或 RFC 3339，例如 2026-12-01 09:30。",
		English: "Give the time as YYYY-MM-DD, \"YYYY-MM-DD HH:MM\" (" + TimeZoneNameEN + ") or RFC 3339, e.g. 2026-12-01 09:30."}
}

// PushItem is one push as the front-ends give it out (`inbox list --json`, the
// desktops' feed): one shape, times in TimeZone, never the raw body.
type PushItem struct {
	ID          int64             `json:"id"` // also the cursor to read on from
	Account     string            `json:"account"`
	Time        string            `json:"time"` // CreateTime, RFC 3339
	Received    string            `json:"received"`
	OpenID      string            `json:"openid"`
	MsgType     string            `json:"msgtype"`
	Event       string            `json:"event"`
	EventKey    string            `json:"event_key,omitempty"`
	Text        string            `json:"text"`
	MsgID       string            `json:"msgid"`
	MenuID      string            `json:"menu_id"`
	MenuChoice  string            `json:"menu_choice,omitempty"` // the option of the menu this account sent
	Media       string            `json:"media"`                 // where the downloaded media is (a path, or the API's URL path)
	Recognition string            `json:"recognition,omitempty"`
	Title       string            `json:"title,omitempty"`
	URL         string            `json:"url,omitempty"`
	Location    *storage.Location `json:"location,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// NewPushItem is p as a PushItem of the account named account; Media is left to the
// front-end (a file path on the server, a URL path for a desktop).
func NewPushItem(p storage.Push, account string) PushItem {
	return PushItem{ID: p.ID, Account: account, Time: FormatTime(p.CreateTime, time.RFC3339),
		Received: FormatTime(p.ReceivedAt, time.RFC3339), OpenID: p.OpenID, MsgType: p.MsgType, Event: p.Event,
		EventKey: p.EventKey, Text: p.Content, MsgID: p.MsgID, MenuID: p.MenuID, Recognition: p.Recognition,
		Title: p.Title, URL: p.URL, Location: p.Location, Extra: p.Extra}
}
