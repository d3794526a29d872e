package workspace

import (
	"context"
	"strings"
	"time"

	"kfdesk/api/clock"
	"kfdesk/storage"
)

// SyncRequest says which days to sync. With From and To zero the sync is
// incremental: every day WeChat still keeps (the last 30) that is not complete yet.
type SyncRequest struct {
	From, To time.Time                  // Beijing days, inclusive
	Force    bool                       // sync complete days in From..To again too
	Progress func(storage.SyncProgress) // optional; called from the syncing goroutine
}

// SyncRecords copies the account's chat records from WeChat into the archive
// (storage.RecordSync: exactly once, resumable after any interruption).
func (w *Workspace) SyncRecords(ctx context.Context, a storage.Account, req SyncRequest) (storage.SyncProgress, error) {
	c, err := w.client(ctx, a)
	if err != nil {
		return storage.SyncProgress{}, err
	}
	s := &storage.RecordSync{DB: w.DB, AccountID: a.ID, Fetcher: c, Force: req.Force, Progress: req.Progress}
	if req.From.IsZero() && req.To.IsZero() {
		return s.Incremental(ctx)
	}
	if req.To.IsZero() {
		req.To = storage.BeijingDay(clock.Now())
	}
	if req.From.IsZero() {
		req.From = req.To
	}
	return s.Range(ctx, req.From, req.To)
}

// DefaultSyncRange is what a sync offers by default: from the day after the last
// complete one (or the oldest day WeChat keeps) to today, in Beijing days. It is
// the range an incremental sync covers.
func (w *Workspace) DefaultSyncRange(ctx context.Context, a storage.Account) (from, to time.Time, err error) {
	now := clock.Now()
	to, from = storage.BeijingDay(now), storage.BeijingDay(now.Add(-storage.Retention))
	last, ok, err := w.DB.LastCompleteDay(ctx, a.ID)
	if err != nil {
		return from, to, err
	}
	if ok && last.AddDate(0, 0, 1).After(from) {
		from = last.AddDate(0, 0, 1)
	}
	if from.After(to) {
		from = to
	}
	return from, to, nil
}

// ExportRecords writes the records matching f to path as CSV for Excel and WPS, in
// the language asked for, times in TimeZone (named in the header). Nothing is left
// behind when it fails or is cancelled.
func (w *Workspace) ExportRecords(ctx context.Context, a storage.Account, path string, f storage.RecordFilter, zh bool, progress func(done, total int)) (int, error) {
	zone := TimeZoneNameEN
	if zh {
		zone = TimeZoneNameZH
	}
	return w.DB.ExportRecordsFile(ctx, path, a.ID, f, storage.ExportOptions{ZH: zh, Location: TimeZone, ZoneName: zone, Progress: progress})
}

// MatchCustomers is the customer filter of the chat records: the customers whose
// note (the operator's own name for them) contains input, ignoring case; with no
// such note, input is taken as an OpenID.
func MatchCustomers(notes map[string]string, input string) []string {
	input = strings.TrimSpace(input)
	if input == "" {
		return nil
	}
	var ids []string
	lc := strings.ToLower(input)
	for openid, note := range notes {
		if strings.Contains(strings.ToLower(note), lc) {
			ids = append(ids, openid)
		}
	}
	if len(ids) == 0 {
		ids = []string{input}
	}
	return ids
}

// FilterCustomers narrows f to the customers ids (MatchCustomers).
func FilterCustomers(f storage.RecordFilter, ids []string) storage.RecordFilter {
	switch len(ids) {
	case 0:
	case 1:
		f.OpenID = ids[0]
	default:
		f.OpenIDs = ids
	}
	return f
}

// CustomerFilter narrows f to the customers input names (a note or an OpenID).
func (w *Workspace) CustomerFilter(ctx context.Context, a storage.Account, f storage.RecordFilter, input string) (storage.RecordFilter, error) {
	if strings.TrimSpace(input) == "" {
		return f, nil
	}
	notes, err := w.DB.Notes(ctx, a.ID)
	if err != nil {
		return f, err
	}
	return FilterCustomers(f, MatchCustomers(notes, input)), nil
}
