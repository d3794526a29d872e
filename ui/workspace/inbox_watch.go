package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
)

// Where the inbox's messages come from (issue 12 §3). With a push server: its feed,
// long-polled from a stored cursor, each push stored here with its media and written
// into the archive (storage.ArchivePush). Without one, or while the server is
// unreachable: today's getmsglist and the wait queue, every interval. Both end in
// the records table, so search, export and reports see them, once each (the
// no-double rule, storage/inbox.go).

// InboxUpdate is what changed since the last call of onUpdate.
type InboxUpdate struct {
	OpenIDs []string       // the conversations that changed (new records, events, joined or left the wait queue)
	New     []InboxMessage // customer messages that just arrived, oldest first
	Source  InboxSource
}

// InboxSource says where the messages come from now.
type InboxSource struct {
	Mode  string    // SourcePush, SourcePolling or SourceStopped
	Err   error     // the last error (api.Describe-style: ZH/EN), nil when all is well
	Until time.Time // SourceStopped: polling resumes then (the next Beijing day)
}

// Source modes.
const (
	SourcePush    = "push"
	SourcePolling = "polling"
	SourceStopped = "stopped" // WeChat's daily quota is used up (45009)
)

// WatchOptions tune WatchInbox.
type WatchOptions struct {
	Interval time.Duration // between polls; 0: the setting (InboxInterval)
	// After waits d (nil: time.After). Tests step the watcher through it without sleeping.
	After func(d time.Duration) <-chan time.Time
}

// Polling intervals.
const (
	SettingInboxInterval = "inbox_interval" // seconds
	DefaultInboxInterval = 60 * time.Second
	MinInboxInterval     = 10 * time.Second
	maxInboxBackoff      = 10 * time.Minute
	feedWait             = 25 * time.Second // the long poll's wait (the server allows FeedMaxWait)
)

// InboxInterval is how often the inbox polls WeChat (the setting, else the default).
func (w *Workspace) InboxInterval(ctx context.Context) (time.Duration, error) {
	s, ok, err := w.DB.Setting(ctx, SettingInboxInterval)
	if err != nil || !ok {
		return DefaultInboxInterval, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || time.Duration(n)*time.Second < MinInboxInterval {
		return DefaultInboxInterval, nil
	}
	return time.Duration(n) * time.Second, nil
}

// SetInboxInterval sets how often the inbox polls (at least MinInboxInterval).
func (w *Workspace) SetInboxInterval(ctx context.Context, d time.Duration) error {
	if d < MinInboxInterval || d > 24*time.Hour {
		return &api.InputError{Field: "interval", Chinese: "查询间隔应在 10 秒到 24 小时之间。",
			English: "The polling interval is between 10 seconds and 24 hours."}
	}
	return w.DB.SetSetting(ctx, SettingInboxInterval, strconv.Itoa(int(d/time.Second)))
}

// WatchInbox keeps the account's inbox current until ctx ends (then it returns
// ctx's error), calling onUpdate from its own goroutine whenever something changed.
func (w *Workspace) WatchInbox(ctx context.Context, a storage.Account, opt WatchOptions, onUpdate func(InboxUpdate)) error {
	if opt.Interval <= 0 {
		d, err := w.InboxInterval(ctx)
		if err != nil {
			return err
		}
		opt.Interval = d
	}
	if opt.After == nil {
		opt.After = time.After
	}
	conn, pushed, err := w.pushServer(a)
	if err != nil {
		return err
	}
	wt := &watcher{w: w, a: a, opt: opt, on: onUpdate, seen: map[int64]bool{}, waiting: map[string]int64{}}
	if err := wt.baseline(ctx); err != nil {
		return err
	}
	if a.Demo {
		w.demoCustomers(ctx, a) // the demo's customers write in while the inbox watches (issue 12 §6)
	}
	if pushed {
		return wt.watchFeed(ctx, conn)
	}
	return wt.watchPolling(ctx)
}

type watcher struct {
	w   *Workspace
	a   storage.Account
	opt WatchOptions
	on  func(InboxUpdate)

	since        time.Time        // records from here on are compared with seen
	announceFrom time.Time        // customer messages from here on are announced (New)
	seen         map[int64]bool   // record ids already reported (or there at the start)
	waiting      map[string]int64 // the wait queue as last reported: openid → since
	source       InboxSource
	reported     bool           // source was reported once
	polledOn     time.Time      // the Beijing day of the last good getmsglist poll
	failures     int            // polls failed in a row
	pending      []pendingMedia // pushed media the server had not downloaded yet
}

// watchWindow is how far back the watcher compares records with what it has seen:
// a record arriving later than this after it was written (a catch-up after hours
// offline) is archived and listed, but not announced as new.
const watchWindow = 6 * time.Hour

// announceBefore: a message written this long before the watch started is not
// announced as new when the first poll brings it (the history of an archive synced
// for the first time would be a burst of notifications), only listed.
const announceBefore = 10 * time.Minute

// baseline: what is archived when the watch starts is not new.
func (wt *watcher) baseline(ctx context.Context) error {
	wt.since = clock.Now().Add(-watchWindow)
	wt.announceFrom = clock.Now().Add(-announceBefore)
	items, err := wt.w.DB.InboxItemsSince(ctx, wt.a.ID, wt.since)
	for _, it := range items {
		wt.seen[it.Record.ID] = true
	}
	return err
}

// report tells onUpdate what changed since the last report: new records, the wait
// queue, extra conversations (events), and the source when it changed.
func (wt *watcher) report(ctx context.Context, src InboxSource, extra []string) error {
	var up InboxUpdate
	changed := map[string]bool{}
	for _, id := range extra {
		changed[id] = true
	}
	items, err := wt.w.DB.InboxItemsSince(ctx, wt.a.ID, wt.since)
	if err != nil {
		return err
	}
	for _, it := range items {
		if wt.seen[it.Record.ID] {
			continue
		}
		wt.seen[it.Record.ID] = true
		changed[it.Record.OpenID] = true
		if it.Record.Direction() == api.DirIn && !it.Record.Time.Before(wt.announceFrom) {
			m, err := wt.w.inboxMessage(ctx, wt.a, it)
			if err != nil {
				return err
			}
			up.New = append(up.New, m)
		}
	}
	rows, err := wt.w.DB.InboxRows(ctx, wt.a.ID, storage.InboxQuery{WaitingOnly: true, Limit: 1000})
	if err != nil {
		return err
	}
	now := map[string]int64{}
	for _, r := range rows {
		now[r.OpenID] = r.WaitingSince.Unix()
		if wt.waiting[r.OpenID] != now[r.OpenID] {
			changed[r.OpenID] = true
		}
	}
	for id := range wt.waiting {
		if _, ok := now[id]; !ok {
			changed[id] = true
		}
	}
	wt.waiting = now
	for id := range changed {
		up.OpenIDs = append(up.OpenIDs, id)
	}
	slices.Sort(up.OpenIDs)
	sameSource := wt.reported && src.Mode == wt.source.Mode && errText(src.Err) == errText(wt.source.Err) && src.Until.Equal(wt.source.Until)
	wt.source, wt.reported, up.Source = src, true, src
	if len(up.OpenIDs) > 0 || !sameSource {
		wt.on(up)
	}
	wt.prune()
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// prune moves the window on and forgets the ids before it, so a watch of weeks stays small.
func (wt *watcher) prune() {
	cut := clock.Now().Add(-watchWindow)
	if !cut.After(wt.since.Add(time.Minute)) {
		return
	}
	wt.since = cut
	for id := range wt.seen {
		if id>>20 < cut.Unix() { // record ids are time<<20 | n (storage/records.go)
			delete(wt.seen, id)
		}
	}
}

// poll fetches today's chat records (from the day of the last good poll, so the
// last minutes of yesterday are not lost at midnight; the first time, from the day
// the watch window begins) and the wait queue.
func (wt *watcher) poll(ctx context.Context) error {
	today := storage.BeijingDay(clock.Now())
	from := wt.polledOn
	if from.IsZero() {
		from = storage.BeijingDay(wt.since)
	}
	if from.After(today) {
		from = today
	}
	if _, err := wt.w.SyncRecords(ctx, wt.a, SyncRequest{From: from, To: today}); err != nil {
		return err
	}
	wt.polledOn = today
	c, err := wt.w.client(ctx, wt.a)
	if err != nil {
		return err
	}
	cases, err := c.WaitCases(ctx)
	if err != nil {
		return err
	}
	var wc []storage.WaitCase
	for _, c := range cases.List {
		if c.OpenID != "" {
			wc = append(wc, storage.WaitCase{OpenID: c.OpenID, Since: time.Unix(c.LatestTime, 0)})
		}
	}
	return wt.w.DB.SetInboxWaiting(ctx, wt.a.ID, wc)
}

// pollSource polls once and says what that means for the source and the next wait.
func (wt *watcher) pollSource(ctx context.Context) (InboxSource, time.Duration) {
	err := wt.poll(ctx)
	switch {
	case err == nil:
		wt.failures = 0
		return InboxSource{Mode: SourcePolling}, wt.opt.Interval
	case api.IsCode(err, 45009):
		until := storage.BeijingDay(clock.Now()).AddDate(0, 0, 1)
		return InboxSource{Mode: SourceStopped, Err: err, Until: until}, until.Sub(clock.Now())
	}
	wt.failures++
	return InboxSource{Mode: SourcePolling, Err: err}, backoff(wt.opt.Interval, wt.failures)
}

// backoff is the wait after failures polls failed in a row: the interval doubled
// each time, at most maxInboxBackoff.
func backoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 0; i < failures && d < maxInboxBackoff; i++ {
		d *= 2
	}
	return min(d, max(maxInboxBackoff, interval))
}

func (wt *watcher) watchPolling(ctx context.Context) error {
	for {
		src, wait := wt.pollSource(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := wt.report(ctx, src, nil); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wt.opt.After(wait):
		}
	}
}

// feedResult is one long poll's answer.
type feedResult struct {
	ans feedAnswer
	err error
}

// Feed retries: after a failure the feed is read again after 1 s, doubling up to maxFeedRetry.
const maxFeedRetry = 30 * time.Second

// watchFeed long-polls the push server's feed. It also polls WeChat every interval
// (getmsglist holds what the push stream misses: a customer transferred to the KF
// system is pushed no more for a while, and the wait queue), and while the server
// fails that is where messages come from. The feed is then read on from the stored
// cursor, which moves only after a page is stored: nothing is skipped, and what both
// sources brought is archived once (storage/inbox.go).
func (wt *watcher) watchFeed(ctx context.Context, conn Connection) error {
	results := make(chan feedResult, 1)
	read := func(cursor int64, wait time.Duration) {
		go func() {
			rctx, cancel := context.WithTimeout(ctx, wait+pushServerTimeout)
			defer cancel()
			q := url.Values{"cursor": {strconv.FormatInt(cursor, 10)}, "account": {wt.a.AppID}, "wait": {wait.String()}}
			ans, err := getFeed(rctx, conn, q)
			results <- feedResult{ans, err}
		}()
	}
	cursor, err := wt.w.DB.InboxFeedCursor(ctx, wt.a.ID)
	if err != nil {
		return err
	}
	read(cursor, 0) // catch up at once
	pollC := wt.opt.After(0)
	var retryC, mediaC <-chan time.Time
	var feedErr error
	var polled InboxSource // the last poll's outcome
	feedFailures := 0
	source := func() InboxSource {
		switch {
		case feedErr != nil && polled.Mode == SourceStopped:
			return InboxSource{Mode: SourceStopped, Err: feedErr, Until: polled.Until}
		case feedErr != nil:
			return InboxSource{Mode: SourcePolling, Err: feedErr} // what the operator must know: the server is down
		}
		return InboxSource{Mode: SourcePush, Err: polled.Err}
	}
	for {
		var events []string
		select {
		case <-ctx.Done():
			return ctx.Err()
		case r := <-results:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if r.err != nil {
				if feedFailures++; feedFailures == 1 {
					slog.Warn("inbox: the push server is unreachable, polling WeChat", "account", wt.a.Name, "err", r.err)
					pollC = wt.opt.After(0) // fall back at once
				}
				feedErr = r.err
				retryC = wt.opt.After(min(backoff(time.Second, feedFailures-1), maxFeedRetry))
				break
			}
			if feedFailures > 0 {
				slog.Info("inbox: the push server answers again", "account", wt.a.Name)
			}
			feedFailures, feedErr = 0, nil
			if events, err = wt.storeFeed(ctx, r.ans); err != nil {
				return err
			}
			cursor = max(cursor, r.ans.Cursor)
			read(cursor, feedWait)
			if len(wt.pending) > 0 && mediaC == nil {
				mediaC = wt.opt.After(0)
			}
		case <-retryC:
			retryC = nil
			read(cursor, 0)
			continue
		case <-pollC:
			var wait time.Duration
			polled, wait = wt.pollSource(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pollC = wt.opt.After(wait)
		case <-mediaC:
			mediaC = nil
			events = wt.fetchMedia(ctx, conn)
			if len(wt.pending) > 0 {
				mediaC = wt.opt.After(mediaRetry << min(wt.pending[0].tries, 10))
			}
		}
		if err := wt.report(ctx, source(), events); err != nil {
			return err
		}
	}
}

// mediaRetry: a pushed file the server has not fetched from WeChat yet is asked for
// again this much later, doubling with each try.
const mediaRetry = time.Second

// storeFeed stores one feed answer: each push for this account, its media, its
// record (ArchivePush), then the cursor. It returns the customers of events.
func (wt *watcher) storeFeed(ctx context.Context, ans feedAnswer) ([]string, error) {
	var events []string
	for _, it := range ans.Items {
		if it.Account != "" && it.Account != wt.a.AppID {
			continue
		}
		p, err := pushFromItem(it)
		if err != nil {
			slog.Warn("inbox: a push from the server could not be read", "push", it.ID, "err", err)
			continue
		}
		id, _, err := wt.w.DB.StorePush(ctx, wt.a.ID, p)
		if err != nil {
			return nil, err
		}
		if p.IsEvent() {
			events = append(events, p.OpenID)
		} else if _, err := wt.w.DB.ArchivePush(ctx, id); err != nil {
			return nil, err
		}
		if hasMedia(p.MsgType) {
			wt.pending = append(wt.pending, pendingMedia{local: id, server: it.ID, kind: p.MsgType})
		}
	}
	return events, wt.w.DB.SetInboxFeedCursor(ctx, wt.a.ID, ans.Cursor)
}

func hasMedia(msgType string) bool {
	switch msgType {
	case "image", "voice", "video", "shortvideo":
		return true
	}
	return false
}

// pendingMedia is a pushed file still to fetch from the server.
type pendingMedia struct {
	local, server int64
	kind          string
	tries         int
}

// mediaTries: the server fetches media from WeChat in the background; a file it
// has not got yet (404) is asked for again, this many times.
const mediaTries = 10

var feedMediaExt = map[string]string{"image": ".jpg", "voice": ".amr", "video": ".mp4", "shortvideo": ".mp4"}

// fetchMedia downloads the pending media files into MediaDir, as runMediaJob names
// them, and returns the customers whose file arrived (their conversation shows it now).
func (wt *watcher) fetchMedia(ctx context.Context, conn Connection) (arrived []string) {
	var keep []pendingMedia
	for _, m := range wt.pending {
		p, err := wt.w.DB.Push(ctx, m.local)
		if err != nil || p.MediaPath != "" {
			continue
		}
		mctx, cancel := context.WithTimeout(ctx, mediaWrite)
		b, err := serverGet(mctx, conn, "/api/v1/media/"+strconv.FormatInt(m.server, 10), 32<<20)
		cancel()
		if err == nil {
			err = wt.saveMedia(ctx, m, b)
		}
		if err == nil {
			arrived = append(arrived, p.OpenID)
		} else {
			if m.tries++; m.tries < mediaTries && ctx.Err() == nil {
				keep = append(keep, m)
			} else {
				slog.Warn("inbox: could not fetch a pushed file from the server", "push", m.server, "err", err)
			}
		}
	}
	wt.pending = keep
	return arrived
}

// mediaWrite bounds one media download from the server.
const mediaWrite = 2 * time.Minute

func (wt *watcher) saveMedia(ctx context.Context, m pendingMedia, b []byte) error {
	dir := wt.w.MediaDir(wt.a.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, strconv.FormatInt(m.local, 10)+feedMediaExt[m.kind])
	tmp := path + ".part"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return wt.w.DB.SetPushMedia(ctx, m.local, path, int64(len(b)))
}

// extraMenuChoice keeps a fed push's MenuChoice among its Extra fields.
const extraMenuChoice = "kfdesk_menu_choice"

// pushFromItem is a feed item as a push of this desktop's own store. Its body is
// the item itself (the server keeps WeChat's raw body).
func pushFromItem(it PushItem) (storage.Push, error) {
	t, err := time.Parse(time.RFC3339, it.Time)
	if err != nil {
		return storage.Push{}, fmt.Errorf("time %q: %w", it.Time, err)
	}
	raw, err := json.Marshal(it)
	if err != nil {
		return storage.Push{}, err
	}
	extra := it.Extra
	if it.MenuChoice != "" { // the option of a menu the server's account sent (not in this desktop's send log)
		extra = maps.Clone(extra)
		if extra == nil {
			extra = map[string]string{}
		}
		extra[extraMenuChoice] = it.MenuChoice
	}
	return storage.Push{CreateTime: t, OpenID: it.OpenID, MsgType: it.MsgType, Event: it.Event, EventKey: it.EventKey,
		MsgID: it.MsgID, Content: it.Text, MenuID: it.MenuID, Recognition: it.Recognition, Title: it.Title, URL: it.URL,
		Location: it.Location, Extra: extra, Raw: raw, BodyFormat: storage.FormatJSON}, nil
}
