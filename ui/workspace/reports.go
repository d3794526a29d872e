package workspace

import (
	"context"
	"io"
	"time"

	"kfdesk/api/clock"
	"kfdesk/storage"
)

// ReportPeriod names a period of the Reports page and of `kfdesk report`.
type ReportPeriod string

const (
	PeriodToday      ReportPeriod = "today"
	Period7Days      ReportPeriod = "7d"
	Period30Days     ReportPeriod = "30d"
	PeriodEverything ReportPeriod = "all"
	PeriodCustom     ReportPeriod = "custom"
)

// PeriodDays is the Beijing days of a named period at now (zero From: from the
// first archived day). PeriodCustom has no days of its own: the caller's.
func PeriodDays(p ReportPeriod, now time.Time) (from, to time.Time) {
	today := storage.BeijingDay(now)
	switch p {
	case PeriodToday:
		return today, today
	case Period7Days:
		return today.AddDate(0, 0, -6), today
	case Period30Days:
		return today.AddDate(0, 0, -29), today
	}
	return time.Time{}, today
}

// Report computes the Reports page's figures for an account over Beijing days
// from..to (zero from: since the first archived record; zero to: today). Slow over
// a big archive (hundreds of milliseconds): call it off the UI thread.
func (w *Workspace) Report(ctx context.Context, a storage.Account, from, to time.Time, unansweredAfter time.Duration) (*storage.Report, error) {
	return w.DB.Report(ctx, a.ID, storage.ReportOptions{From: from, To: to, Now: clock.Now(), UnansweredAfter: unansweredAfter})
}

// ExportReportTable writes one of the report's tables (storage.ReportTables) to
// path as CSV, with the chat records export's rules; nothing is left behind on failure.
func (w *Workspace) ExportReportTable(r *storage.Report, path, table string, zh bool) error {
	return storage.WriteFileAtomic(path, func(out io.Writer) error { return r.WriteReportCSV(out, table, zh) })
}

// SaveFile writes path through write, atomically (a chart's PNG).
func (w *Workspace) SaveFile(path string, write func(io.Writer) error) error {
	return storage.WriteFileAtomic(path, write)
}
