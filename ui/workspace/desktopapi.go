package workspace

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
)

// What kfdesk serve gives the desktops that connect to it (issue 11 §5): the
// pushes as a feed read from a cursor, their media, and the accounts' access
// tokens. ui/serve speaks HTTP; the reading and waiting are here.

// CheckDesktopKey tells whether key is a valid, unrevoked desktop key, and whose
// (storage.CheckDesktopKey: hashed, compared in constant time).
func (w *Workspace) CheckDesktopKey(ctx context.Context, key string) (name string, ok bool, err error) {
	if !strings.HasPrefix(key, storage.DesktopKeyPrefix) {
		return "", false, nil // not a key at all: no database read
	}
	return w.DB.CheckDesktopKey(ctx, key)
}

// signal wakes every reader waiting for the next push: wait hands out the current
// channel, broadcast closes it. A reader takes the channel before it reads the
// database, so a push stored between its read and its wait still wakes it.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Feed limits.
const (
	FeedLimit   = 200              // pushes in one answer
	FeedMaxWait = 30 * time.Second // the longest a feed read waits for a new push
)

var (
	// feedFallback: a push stored by another process on the same data folder sends
	// no signal to this one; it is seen at the latest this long after.
	feedFallback = 5 * time.Second
	// feedWaiting, when set (tests), is called each time a feed read starts waiting.
	feedWaiting func()
)

// FeedQuery is one read of the feed.
type FeedQuery struct {
	Accounts []int64 // the accounts whose pushes to read (those served here; one when the desktop asked for one)
	Cursor   int64   // pushes after this id (0: from the first)
	Wait     time.Duration
}

// FeedEntry is one push of the feed, with the menu option a menu tap chose
// (MenuOption, "" when the tap answers no menu this account sent).
type FeedEntry struct {
	storage.Push
	MenuOption string
}

// Feed returns up to FeedLimit pushes of q.Accounts after q.Cursor, oldest first,
// and the cursor to read on from (the last one's id). When there is none it waits
// up to q.Wait (at most FeedMaxWait) for one to be stored, then answers: an empty
// list and the cursor on timeout. Ids only grow and are never reused
// (storage.PushesSince), so reading from cursor to cursor sees every push once.
func (w *Workspace) Feed(ctx context.Context, q FeedQuery) ([]FeedEntry, int64, error) {
	var timeout <-chan time.Time
	if wait := min(q.Wait, FeedMaxWait); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	cursor := q.Cursor
	for {
		stored := w.pushed.wait() // before the read: see signal
		page, next, err := w.feedPage(ctx, q.Accounts, cursor)
		if err != nil || len(page) > 0 || timeout == nil {
			return page, next, err
		}
		cursor = next
		if feedWaiting != nil {
			feedWaiting()
		}
		select {
		case <-stored:
		case <-time.After(feedFallback):
		case <-timeout:
			return nil, cursor, nil
		case <-ctx.Done():
			return nil, cursor, ctx.Err()
		}
	}
}

// feedPage reads the pushes after cursor that belong to accounts, skipping those
// of other accounts (the cursor moves past them too).
func (w *Workspace) feedPage(ctx context.Context, accounts []int64, cursor int64) ([]FeedEntry, int64, error) {
	if len(accounts) == 0 {
		return nil, cursor, nil
	}
	var only int64 // one account: the database filters
	if len(accounts) == 1 {
		only = accounts[0]
	}
	for {
		ps, err := w.DB.PushesSince(ctx, only, cursor, FeedLimit)
		if err != nil {
			return nil, cursor, err
		}
		var out []FeedEntry
		for _, p := range ps {
			cursor = p.ID
			if !slices.Contains(accounts, p.AccountID) {
				continue
			}
			e := FeedEntry{Push: p}
			if p.MenuID != "" {
				m, ok, err := w.DB.MenuChoice(ctx, p.AccountID, p.OpenID, p.MenuID)
				if err != nil {
					return nil, cursor, err
				}
				if ok {
					e.MenuOption = m.Option
				}
			}
			out = append(out, e)
		}
		if len(out) > 0 || len(ps) < FeedLimit {
			return out, cursor, nil
		}
	}
}

// PushMedia is the saved media file of push id, when the push belongs to one of
// accounts and its media was downloaded; storage.ErrNotFound otherwise.
func (w *Workspace) PushMedia(ctx context.Context, id int64, accounts []int64) (string, error) {
	p, err := w.DB.Push(ctx, id)
	if err != nil {
		return "", err
	}
	if !slices.Contains(accounts, p.AccountID) || p.MediaPath == "" {
		return "", storage.ErrNotFound
	}
	// The path was written by runMediaJob; a path outside the account's folder is never served.
	if rel, err := filepath.Rel(w.MediaDir(p.AccountID), p.MediaPath); err != nil || rel != filepath.Base(p.MediaPath) {
		return "", storage.ErrNotFound
	}
	return p.MediaPath, nil
}

// unknownExpiry is the lifetime told for a token whose expiry the source does not
// know: short, so the desktop asks again soon.
const unknownExpiry = 10 * time.Minute

// AccessToken is account a's current access token and how long it stays valid, from
// the same cached token source this server's own calls use (so handing it out
// fetches nothing new and logs nobody out), for desktops in the token URL mode.
func (w *Workspace) AccessToken(ctx context.Context, a storage.Account) (string, time.Duration, error) {
	c, err := w.client(ctx, a)
	if err != nil {
		return "", 0, err
	}
	t, err := c.CurrentToken(ctx)
	if err != nil {
		return "", 0, err
	}
	if t.Value == "" {
		return "", 0, &api.Error{Kind: api.KindToken, Endpoint: "token", Err: errors.New("no token")}
	}
	left := unknownExpiry
	if !t.ExpiresAt.IsZero() {
		left = t.ExpiresAt.Sub(clock.Now()).Truncate(time.Second)
	}
	if left <= 0 {
		return "", 0, &api.Error{Kind: api.KindToken, Endpoint: "token", Err: fmt.Errorf("the token expired")}
	}
	return t.Value, left, nil
}

// PushReplyWindow is a customer's reply window as the pushes know it: exact, from
// WeChat's CreateTimes of their last message and last menu click, follow or scan (a
// Mini Program: entering the chat), and the sends logged since (api.ReplyFacts).
func (w *Workspace) PushReplyWindow(ctx context.Context, a storage.Account, openid string) (api.ReplyStatus, error) {
	f, err := w.DB.CustomerWindow(ctx, a.ID, openid)
	if err != nil {
		return api.ReplyStatus{}, err
	}
	return api.ReplyFacts{LastMessage: f.LastMessage, RepliesSince: f.SendsSinceMessage, LastEvent: f.LastEvent,
		SendsSinceEvent: f.SendsSinceEvent, MiniProgram: MiniProgram(a)}.At(clock.Now()), nil
}
