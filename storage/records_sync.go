package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// RecordFetcher fetches one getmsglist page; *api.Client is one. Storage does no HTTP itself.
type RecordFetcher interface {
	GetMsgList(ctx context.Context, start, end, msgid int64, number int) (*api.MsgListPage, error)
}

// Retention is how long WeChat keeps chat records.
const Retention = 30 * 24 * time.Hour

// SyncPhase is what a sync is doing.
type SyncPhase int

const (
	// PhaseFetching: pages are fetched from WeChat and stored (Days, Pages, Records, Added move).
	PhaseFetching SyncPhase = iota
	// PhaseIndexing: every page is stored; the search index of a first sync is being
	// built in one pass (Indexed of ToIndex records). Search works meanwhile, by a scan.
	PhaseIndexing
	// PhaseSuggesting: every record is stored and indexed; the suggested-reply exchanges of
	// the customers with new messages are computed (Suggested of ToSuggest customers,
	// suggest.go). Cancelled, the customers not done are finished by the next sync.
	PhaseSuggesting
)

// SyncProgress is reported after every stored page, while the search index and the
// suggested replies are built, and at the end.
type SyncProgress struct {
	Days     int       // days this run syncs (complete days already skipped)
	DaysDone int       // days finished
	Skipped  int       // days in the range skipped because they were already complete
	Day      time.Time // the day being synced (00:00 Beijing)
	Pages    int       // pages stored
	Records  int       // records received
	Added    int       // records new to the archive
	Phase    SyncPhase // PhaseFetching, then PhaseIndexing and PhaseSuggesting at the end
	Indexed  int       // records indexed so far in PhaseIndexing
	ToIndex  int       // records the index is being built for in PhaseIndexing

	Suggested int // customers whose suggested-reply exchanges are done in PhaseSuggesting
	ToSuggest int // customers they are being computed for in PhaseSuggesting
}

// RecordSync copies an account's chat records from WeChat into the archive,
// one Beijing day at a time, one transaction per page. It can be interrupted at
// any point (cancel, crash, network, quota); the next run picks up every day
// that is not complete and ends with each record stored exactly once.
type RecordSync struct {
	DB        *DB
	AccountID int64
	Fetcher   RecordFetcher
	Progress  func(SyncProgress) // optional; called from the syncing goroutine
	Now       func() time.Time   // default clock.Now
	PageSize  int                // default api.MaxMsgListPage
	Force     bool               // Range: sync complete days again too
	// Retries of a retryable failure (network, 5xx, busy) per page, waiting RetryWait, doubling.
	Retries   int           // default 3; negative = none
	RetryWait time.Duration // default 2 s
}

func (s *RecordSync) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return clock.Now()
}

// oldestDay is the first Beijing day WeChat may still have records of.
func (s *RecordSync) oldestDay() time.Time { return BeijingDay(s.now().Add(-Retention)) }

// Incremental syncs every day WeChat still keeps (the last 30 days up to today)
// that is not complete yet: for a daily run, so nothing ages out unsaved.
func (s *RecordSync) Incremental(ctx context.Context) (SyncProgress, error) {
	force := s.Force
	s.Force = false
	defer func() { s.Force = force }()
	return s.Range(ctx, s.oldestDay(), BeijingDay(s.now()))
}

// Range syncs the Beijing days from..to (inclusive; times are truncated to their
// Beijing day). Days WeChat no longer keeps are left out; complete days are
// skipped unless Force.
func (s *RecordSync) Range(ctx context.Context, from, to time.Time) (SyncProgress, error) {
	p, err := s.syncRange(ctx, from, to)
	return p, cancelCause(ctx, err)
}

// cancelCause is err, or ctx's error when ctx is done: cancelling rolls back the open
// transaction under our feet, and what then fails ("transaction has already been
// committed or rolled back", "statement is closed") is only a consequence. It says
// what happened: cancelled (or timed out).
func cancelCause(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	return err
}

func (s *RecordSync) syncRange(ctx context.Context, from, to time.Time) (SyncProgress, error) {
	var p SyncProgress
	from, to = BeijingDay(from), BeijingDay(to)
	if from.After(to) {
		return p, &ValidationError{Field: "date", Chinese: fmt.Sprintf("开始日期 %s 晚于结束日期 %s。", dayKey(from), dayKey(to)),
			English: fmt.Sprintf("The start date %s is after the end date %s.", dayKey(from), dayKey(to))}
	}
	oldest, today := s.oldestDay(), BeijingDay(s.now())
	if from.Before(oldest) {
		from = oldest
	}
	if to.After(today) {
		to = today
	}
	if from.After(to) {
		return p, &ValidationError{Field: "date",
			Chinese: fmt.Sprintf("这段日期没有可同步的记录：微信只保留最近 30 天（%s 至 %s）。", dayKey(oldest), dayKey(today)),
			English: fmt.Sprintf("No records to sync in that range: WeChat keeps only the last 30 days (%s to %s).", dayKey(oldest), dayKey(today))}
	}
	done := map[string]bool{}
	if !s.Force {
		var err error
		if done, err = s.DB.completeDays(ctx, s.AccountID); err != nil {
			return p, err
		}
	}
	var days []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if done[dayKey(d)] {
			p.Skipped++
			continue
		}
		days = append(days, d)
	}
	p.Days = len(days)
	// A first sync into an empty archive leaves the search index to one pass at the end.
	if _, err := s.DB.deferIndexIfEmpty(ctx, s.AccountID, s.now()); err != nil {
		return p, err
	}
	s.report(p)
	for _, d := range days {
		p.Day = d
		if err := s.syncDay(ctx, d, &p); err != nil {
			return p, err
		}
		p.DaysDone++
		s.report(p)
	}
	// Also finishes the index of an earlier run that was interrupted.
	err := s.DB.buildPendingIndex(ctx, s.AccountID, func(done, total int) {
		p.Phase, p.Indexed, p.ToIndex = PhaseIndexing, done, total
		s.report(p)
	})
	if err != nil {
		return p, err
	}
	// The exchanges of the customers these pages (or an interrupted run's) added messages of.
	err = s.DB.buildSuggest(ctx, s.AccountID, suggestChunk, suggestHold, func(done, total int) {
		p.Phase, p.Suggested, p.ToSuggest = PhaseSuggesting, done, total
		s.report(p)
	})
	return p, err
}

func (s *RecordSync) report(p SyncProgress) {
	if s.Progress != nil {
		s.Progress(p)
	}
}

// syncDay pages through one day's window from the start. Records are identified
// by content and occurrence within the window, so a day stored partly before
// simply gets its missing records.
func (s *RecordSync) syncDay(ctx context.Context, day time.Time, p *SyncProgress) error {
	size := s.PageSize
	if size <= 0 || size > api.MaxMsgListPage {
		size = api.MaxMsgListPage
	}
	start := day.Unix()
	end := day.AddDate(0, 0, 1).Unix() - 1
	startedAt := s.now()
	occ := map[[16]byte]int{}
	var lastSecond, inSecond int64 = -1, 0
	next, total := int64(1), 0 // next: the first cursor position not seen yet
	// The next page is fetched while this one is stored: network and SQLite overlap.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		page *api.MsgListPage
		err  error
	}
	fetchAsync := func(msgid int64) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			page, err := s.fetch(fctx, start, end, msgid, size)
			ch <- answer{page, err}
		}()
		return ch
	}
	pending := fetchAsync(1)
	for msgid := int64(1); ; {
		a := <-pending
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := a.page, a.err
		if err != nil {
			return err
		}
		last := len(page.Records) < size
		if !last && page.Next <= msgid {
			return &api.Error{Kind: api.KindMalformed, Endpoint: "/customservice/msgrecord/getmsglist",
				Err: fmt.Errorf("full page but msgid did not advance (%d after %d)", page.Next, msgid)}
		}
		var recs []pendingRecord
		for i, r := range page.Records {
			if r.Time < start || r.Time > end {
				return &api.Error{Kind: api.KindMalformed, Endpoint: "/customservice/msgrecord/getmsglist",
					Err: fmt.Errorf("record time %d outside the window %d–%d", r.Time, start, end)}
			}
			if msgid+int64(i) < next {
				continue // a cursor that overlaps the previous page: already counted
			}
			if r.Time != lastSecond {
				lastSecond, inSecond = r.Time, 0
			}
			key := recordKey(r)
			k := [16]byte(key)
			recs = append(recs, pendingRecord{Record: r, key: key, occ: occ[k], n: inSecond})
			occ[k]++
			inSecond++
		}
		next = max(next, msgid+int64(len(page.Records)))
		total += len(recs)
		if !last {
			pending = fetchAsync(page.Next)
		}
		complete := last && startedAt.Unix() > end
		added, err := s.DB.storePage(ctx, s.AccountID, day, recs, last, complete, total, s.now())
		if err != nil {
			return err
		}
		p.Pages++
		p.Records += len(page.Records)
		p.Added += added
		s.report(*p)
		if last {
			return nil
		}
		msgid = page.Next
	}
}

// fetch gets one page, retrying failures that may pass (network, 5xx, "busy").
func (s *RecordSync) fetch(ctx context.Context, start, end, msgid int64, size int) (*api.MsgListPage, error) {
	retries, wait := s.Retries, s.RetryWait
	if retries == 0 {
		retries = 3
	}
	if wait <= 0 {
		wait = 2 * time.Second
	}
	for attempt := 0; ; attempt++ {
		page, err := s.Fetcher.GetMsgList(ctx, start, end, msgid, size)
		var ae *api.Error
		if err == nil || attempt >= retries || !errors.As(err, &ae) || !ae.Retryable() {
			return page, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait << attempt):
		}
	}
}
