package ui

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"kfdesk/storage"
)

// The end of a sync, where the suggested replies are prepared, shows as its own
// phase in the dialog, with the customers counted; cancelled there, the dialog says
// every record is stored, and the next sync prepares the rest.
func TestRecordsSyncDialogShowsTheSuggestPhase(t *testing.T) {
	srv := recordServer(t, 300) // seven customers
	m, s := recordsWindow(t, "zh", srv, false)
	test.Tap(findButton(t, m.Window().Canvas(), "同步…"))
	waitIdle(t, m) // the dialog reads its dates
	d := s.syncDlg
	var shown []string
	cancelIn := true
	m.syncer.watch(func() {
		if m.syncer.running && m.syncer.progress.Phase == storage.PhaseSuggesting {
			d.refresh() // the dialog's own watcher may come after this one
			shown = append(shown, d.status.Text+" "+strconv.FormatFloat(d.bar.Value, 'f', 2, 64))
			if cancelIn {
				cancelIn = false
				test.Tap(d.cancel)
			}
		}
	})
	test.Tap(d.start)
	waitIdle(t, m)
	if want := "正在整理建议回复：0 / 7 位顾客 0.00"; len(shown) != 1 || shown[0] != want {
		t.Fatalf("the suggest phase showed %q, want %q", shown, want)
	}
	want := "已在整理建议回复时取消。聊天记录已全部保存（新增 301 条）；其余 7 位顾客的建议回复会在下次同步时整理。"
	if !d.done.Visible() || d.done.Text != want || d.errLine.Visible() {
		t.Fatalf("after cancelling: %q (visible %v, error line %q), want %q", d.done.Text, d.done.Visible(), d.errLine.Text, want)
	}
	assertShows(t, m.Window().Canvas(), "shop 的聊天记录："+want)

	shown = nil
	test.Tap(d.start)
	waitIdle(t, m)
	if len(shown) == 0 || shown[len(shown)-1] != "正在整理建议回复：7 / 7 位顾客 1.00" {
		t.Fatalf("the next sync's suggest phase showed %q", shown)
	}
	if n, err := m.ws.DB.SuggestPending(context.Background(), s.account.ID); n != 0 || err != nil || !strings.HasPrefix(d.done.Text, "同步完成") {
		t.Fatalf("after the next sync: %d customers pending (%v); %q", n, err, d.done.Text)
	}
}

// Stopped by an error while preparing the suggested replies, a sync has stored every
// record: the end text says so instead of the day it stopped at.
func TestEndTextOfTheSuggestPhase(t *testing.T) {
	SetLanguage("en")
	p := storage.SyncProgress{Days: 3, DaysDone: 3, Added: 1200, Phase: storage.PhaseSuggesting, Suggested: 500, ToSuggest: 1234}
	if got := endText(p, errors.New("database is locked")); !strings.Contains(got, "Every record is stored (1,200 new); sync again to prepare the suggested replies.") || strings.Contains(got, "Stopped at") {
		t.Fatalf("error in the suggest phase: %q", got)
	}
	if got := endText(p, context.Canceled); !strings.Contains(got, "the suggested replies of the other 734 customers are prepared by the next sync") {
		t.Fatalf("cancelled in the suggest phase: %q", got)
	}
	if got := progressText(p); got != "preparing suggested replies: 500 of 1,234 customers" {
		t.Fatalf("progress %q", got)
	}
}

// Stopped before its first day (a wrong AppSecret, no network), a sync names no day.
func TestEndTextBeforeTheFirstDay(t *testing.T) {
	SetLanguage("en")
	got := endText(storage.SyncProgress{Days: 3}, errors.New("no network"))
	if !strings.HasSuffix(got, " Nothing was stored; sync again when the problem is solved.") || strings.Contains(got, "Stopped at") {
		t.Fatalf("%q", got)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, storage.Beijing)
	if got := endText(storage.SyncProgress{Days: 3, Day: day, Added: 5}, errors.New("no network")); !strings.Contains(got, "Stopped at 2026-11-20 with 5 new records") {
		t.Fatalf("%q", got)
	}
}
