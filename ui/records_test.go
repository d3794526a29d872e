package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

const recordsPath = "/customservice/msgrecord/getmsglist"

// recordServer is a fake WeChat with n records over the last three days: seven
// customers write (2003) and two workers answer (2002); every tenth text asks for
// a refund (退款).
func recordServer(t *testing.T, n int) *wechattest.Server {
	t.Helper()
	srv := kfServer(t, false)
	start := storage.BeijingDay(clock.Now()).AddDate(0, 0, -3).Unix()
	span := clock.Now().Unix() - 60 - start
	var recs []wechattest.Record
	for i := range n {
		r := wechattest.Record{OpenID: fmt.Sprintf("oTest%023d", i%7), Time: start + int64(i)*span/int64(n)}
		if i%2 == 0 {
			r.OperCode, r.Text = 2003, fmt.Sprintf("你好 #%d", i)
		} else {
			r.OperCode, r.Text, r.Worker = 2002, fmt.Sprintf("Hello, how can I help? #%d", i), []string{"kf1@teashop", "kf2@teashop"}[i%4/2]
		}
		if i%10 == 0 {
			r.Text = fmt.Sprintf("我要退款 Refund #%d", i)
		}
		recs = append(recs, r)
	}
	recs = append(recs, wechattest.Record{OpenID: "oTest00000000000000000000000", OperCode: 1004, Time: start + span/2, Worker: "kf1@teashop"})
	srv.AddRecords(recs...)
	return srv
}

// recordsWindow opens the chat records of an account on srv; synced first when asked.
func recordsWindow(t *testing.T, language string, srv *wechattest.Server, synced bool) (*MainWindow, *recordsScreen) {
	t.Helper()
	m, ws := newTestWindow(t, language)
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA,
		AppID: kfAppID, TokenMode: storage.TokenStable, APIBase: srv.URL}, kfSecret)
	if err != nil {
		t.Fatal(err)
	}
	if synced {
		if _, err := ws.SyncRecords(context.Background(), a, workspace.SyncRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	m.SelectAccount("shop")
	waitIdle(t, m)
	test.Tap(findButton(t, m.Window().Canvas(), T("Chat records")))
	if m.records == nil {
		t.Fatal("no records screen")
	}
	waitIdle(t, m)
	return m, m.records
}

// rowTexts lists what the list's visible rows show.
func rowTexts(s *recordsScreen) []string {
	var out []string
	for _, o := range test.LaidOutObjects(s.list) {
		if r, ok := o.(*recordRow); ok && r.Visible() {
			out = append(out, r.when.Text+" | "+r.dir.Text+" | "+r.customer.Text+" | "+r.worker.Text+" | "+r.text.String())
		}
	}
	return out
}

func TestRecordsSyncDialogSyncsWithProgress(t *testing.T) {
	srv := recordServer(t, 900)
	m, s := recordsWindow(t, "en", srv, false)
	c := m.Window().Canvas()
	assertShows(t, c, "Never synced", "The archive is empty")

	test.Tap(findButton(t, c, "Sync…"))
	waitIdle(t, m) // the dialog reads its dates
	d := s.syncDlg
	today := calendarDay(clock.Now())
	if d == nil || d.to.Date == nil || !d.to.Date.Equal(today) || d.from.Date == nil || !d.from.Date.Equal(calendarDay(clock.Now().Add(-storage.Retention))) {
		t.Fatalf("default range: never synced = the 30 days WeChat keeps, up to today; got %v–%v", d.from.Date, d.to.Date)
	}
	assertShows(t, c, "Sync chat records of shop", "30 days")
	from := today.AddDate(0, 0, -4)
	d.from.SetDate(&from)
	var progress []string
	m.syncer.watch(func() {
		if m.syncer.running && m.syncer.progress.Pages > 0 {
			progress = append(progress, d.status.Text+fmt.Sprintf(" bar=%.2f", d.bar.Value))
		}
	})
	test.Tap(d.start)
	if !d.start.Disabled() || !d.cancel.Visible() {
		t.Fatal("while syncing, Start is off and Cancel is offered")
	}
	waitIdle(t, m)
	if len(progress) == 0 || !strings.Contains(progress[0], "pages") || !strings.Contains(progress[0], "day ") {
		t.Fatalf("no progress shown: %q", progress)
	}
	want := "done: 5 days synced, 901 records, 901 new."
	if !d.done.Visible() || d.done.Text != want || d.bar.Value != 1 {
		t.Fatalf("completion line %q (visible %v, bar %.2f), want %q", d.done.Text, d.done.Visible(), d.bar.Value, want)
	}
	assertShows(t, c, "Last synced "+clock.Now().In(storage.Beijing).Format("2006-01-02"), "Chat records of shop: done")
	// The list behind the dialog shows the new records.
	if s.total != 901 || !s.counted {
		t.Fatalf("list has %d rows after the sync", s.total)
	}
	// The automatic-sync option is remembered.
	test.Tap(d.auto)
	waitIdle(t, m)
	if v, _, _ := m.ws.DB.Setting(context.Background(), SettingRecordsAutoSync); v != "1" {
		t.Fatalf("auto-sync setting %q", v)
	}
}

func TestRecordsSyncQuotaErrorExplainedInPlace(t *testing.T) {
	srv := recordServer(t, 300)
	m, s := recordsWindow(t, "zh", srv, false)
	srv.FailNth(recordsPath, 3, wechattest.Errcode(45009, ""))
	test.Tap(findButton(t, m.Window().Canvas(), "同步…"))
	waitIdle(t, m) // the dialog reads its dates
	d := s.syncDlg
	test.Tap(d.start)
	waitIdle(t, m)
	if !d.errLine.Visible() || !strings.Contains(d.errLine.Text, "今天的接口调用次数已用完") || !strings.Contains(d.errLine.Text, "再次同步即可从这里继续") {
		t.Fatalf("error line %q", d.errLine.Text)
	}
	if d.start.Disabled() {
		t.Fatal("Start must be available again to resume")
	}
	// Resuming completes without duplicates.
	test.Tap(d.start)
	waitIdle(t, m)
	if n, _ := m.ws.DB.RecordCount(context.Background(), s.account.ID); n != 301 || !d.done.Visible() {
		t.Fatalf("%d records after resuming; done %q", n, d.done.Text)
	}
}

func TestRecordsAutoSyncOnStartCanBeCancelled(t *testing.T) {
	srv := recordServer(t, 300)
	srv.FailAlways(recordsPath, wechattest.Slow(5*time.Second))
	m, ws := newTestWindow(t, "en")
	if err := ws.DB.SetSetting(context.Background(), SettingRecordsAutoSync, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA,
		AppID: kfAppID, TokenMode: storage.TokenStable, APIBase: srv.URL}, kfSecret); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount("shop")
	eventually(t, "the auto-sync to start when the account loaded", func() bool { return m.syncer.running })
	c := m.Window().Canvas()
	assertShows(t, c, "Syncing chat records of shop")
	test.Tap(m.syncer.stop)
	waitIdle(t, m)
	assertShows(t, c, "Chat records of shop: cancelled.")
}

func TestRecordsSearchAsYouType(t *testing.T) {
	srv := recordServer(t, 600)
	m, s := recordsWindow(t, "en", srv, true)
	if s.total != 601 {
		t.Fatalf("%d rows before searching", s.total)
	}
	test.Type(s.query, "退款")
	if s.filter.Text != "" {
		t.Fatal("searched before typing paused")
	}
	waitIdle(t, m)
	if s.filter.Text != "退款" || s.total != 60 || !s.counted {
		t.Fatalf("filter %q: %d rows", s.filter.Text, s.total)
	}
	rows := rowTexts(s)
	if len(rows) < 5 {
		t.Fatalf("rows on screen: %q", rows)
	}
	for _, r := range rows {
		if !strings.Contains(r, "我要退款") {
			t.Fatalf("row does not match: %q", r)
		}
	}
	assertShows(t, m.Window().Canvas(), "60 records")
	// The match is highlighted.
	row := visibleRow(s)
	hl := false
	for _, seg := range row.text.Segments {
		if ts, ok := seg.(*widget.TextSegment); ok && ts.Text == "退款" && ts.Style == highlightStyle {
			hl = true
		}
	}
	if !hl {
		t.Fatalf("no highlighted match in %#v", row.text.Segments)
	}

	// Several words in any order, one excluded (#10 and #100); each found word highlighted.
	s.query.SetText("refund 退款 -#10")
	waitIdle(t, m)
	if s.total != 58 {
		t.Fatalf("refund 退款 -#10: %d rows, want 58", s.total)
	}
	for _, r := range rowTexts(s) {
		if strings.Contains(r, "#10 ") || strings.HasSuffix(r, "#10") || strings.Contains(r, "#100") {
			t.Fatalf("excluded row shown: %q", r)
		}
	}
	var lit []string
	for _, seg := range visibleRow(s).text.Segments {
		if ts := seg.(*widget.TextSegment); ts.Style == highlightStyle {
			lit = append(lit, ts.Text)
		}
	}
	if !slices.Equal(lit, []string{"退款", "Refund"}) {
		t.Fatalf("highlighted %q, want 退款 and Refund", lit)
	}

	// Filters combine with the text; a case-insensitive Latin query.
	s.query.SetText("REFUND")
	s.direction.SetSelectedIndex(1) // from customers
	s.customer.SetText("oTest00000000000000000000003")
	waitIdle(t, m)
	if s.total == 0 || s.total >= 60 {
		t.Fatalf("combined filter: %d rows", s.total)
	}
	for _, r := range rowTexts(s) {
		if !strings.Contains(r, "Customer »") || !strings.Contains(r, "oTest…000003") {
			t.Fatalf("row outside the filter: %q", r)
		}
	}
	s.query.SetText("no such words anywhere")
	waitIdle(t, m)
	assertShows(t, m.Window().Canvas(), "No records match.")
}

func TestRecordsStaleResultsNeverWin(t *testing.T) {
	srv := recordServer(t, 600)
	m, s := recordsWindow(t, "en", srv, true)
	// Two searches back to back: the older one's answers arrive after the newer one started.
	s.query.Text = "Hello"
	s.onSearch()
	s.query.Text = "退款"
	s.onSearch()
	waitIdle(t, m)
	if s.total != 60 || s.filter.Text != "退款" {
		t.Fatalf("%d rows for %q", s.total, s.filter.Text)
	}
	for _, r := range rowTexts(s) {
		if !strings.Contains(r, "退款") {
			t.Fatalf("a row of the older search: %q", r)
		}
	}
}

func TestRecordsListLoadsPagesAsItScrolls(t *testing.T) {
	srv := recordServer(t, 1500)
	m, s := recordsWindow(t, "en", srv, true)
	if s.total != 1501 || len(s.pages.pages) != 1 {
		t.Fatalf("%d rows, %d pages loaded at first", s.total, len(s.pages.pages))
	}
	// Jump near the end: that page is read by offset, rows show placeholders until then.
	s.list.ScrollTo(1400)
	waitIdle(t, m)
	rows := rowTexts(s)
	if len(rows) == 0 || strings.Contains(strings.Join(rows, "\n"), "Loading") {
		t.Fatalf("rows after the jump: %q", rows)
	}
	if _, ok := s.pages.pages[1400/recordPageSize]; !ok {
		t.Fatal("the page of row 1400 was not loaded")
	}
	if len(s.pages.pages) > 3 {
		t.Fatalf("%d pages loaded for one screen", len(s.pages.pages))
	}
	// The oldest record is last (newest first).
	s.list.ScrollToBottom()
	waitIdle(t, m)
	rows = rowTexts(s)
	if last := rows[len(rows)-1]; !strings.Contains(last, "#0") {
		t.Fatalf("last row %q", last)
	}
}

func TestRecordsSelectOpensConversationAndReply(t *testing.T) {
	srv := recordServer(t, 600)
	m, s := recordsWindow(t, "zh", srv, true)
	// Row 30, newest first, is text #569 (the session event is newer) of customer 569%7 = 2.
	s.list.Select(30)
	waitIdle(t, m)
	v := s.conv
	if v == nil || v.openid != "oTest00000000000000000000002" || v.selected != v.recs[len(v.recs)-1-(599-569)/7].ID {
		t.Fatal("no conversation opened")
	}
	if len(v.recs) == 0 || v.selectedRow == nil {
		t.Fatalf("%d records, selected row %v", len(v.recs), v.selectedRow)
	}
	for _, r := range v.recs {
		if r.OpenID != v.openid {
			t.Fatalf("record of %s in %s's conversation", r.OpenID, v.openid)
		}
	}
	// The whole conversation: 600/7 messages.
	if n := len(v.recs); n != 86 || v.moreBefore || v.moreAfter {
		t.Fatalf("%d records (more %v %v)", n, v.moreBefore, v.moreAfter)
	}
	c := m.Window().Canvas()
	assertShows(t, c, "客户 oTest00000000000000000000002", "Hello, how can I help? #569", "48 小时")
	// The selected message is scrolled into view.
	if y := v.selectedRow.Position().Y; v.scroll.Offset.Y > y || y > v.scroll.Offset.Y+v.scroll.Size().Height {
		t.Fatalf("selected at y=%.0f, view %.0f+%.0f", y, v.scroll.Offset.Y, v.scroll.Size().Height)
	}
	// Customer bubbles on the left, KF on the right.
	var left, right int
	for _, o := range v.box.Objects {
		if c, ok := o.(*fyne.Container); ok {
			if l, ok := c.Layout.(*bubbleLayout); ok {
				x := c.Objects[0].Position().X
				if l.right && x > 0 {
					right++
				} else if !l.right && x == 0 {
					left++
				}
			}
		}
	}
	if left == 0 || right == 0 {
		t.Fatalf("bubbles: %d left, %d right", left, right)
	}
	test.Tap(v.reply)
	waitIdle(t, m)
	if m.page != PageComposer || m.composer == nil || m.composer.to.Text != "oTest00000000000000000000002" {
		t.Fatalf("reply: page %v, composer %v", m.page, m.composer)
	}
}

func TestReplyWindowText(t *testing.T) {
	SetLanguage("en")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, storage.Beijing)
	v := &conversationView{window: newWrapLabel(""), nowFunc: func() time.Time { return now }}
	cases := []struct {
		c    storage.Customer
		want string
	}{
		{storage.Customer{LastMessage: now.Add(-time.Hour), RepliesSince: 1}, "open until 11-25 11:00: 4 of 5 replies left"},
		{storage.Customer{LastMessage: now.Add(-49 * time.Hour)}, "closed on 11-23 11:00"},
		{storage.Customer{LastMessage: now.Add(-time.Hour), RepliesSince: 5}, "used up: 5 replies"},
		{storage.Customer{}, "has not written"},
	}
	for _, c := range cases {
		v.state = c.c
		v.showWindow()
		if !strings.Contains(v.window.Text, c.want) {
			t.Errorf("%+v: %q lacks %q", c.c, v.window.Text, c.want)
		}
	}
}

func TestRecordsExportWritesTheFilter(t *testing.T) {
	srv := recordServer(t, 600)
	m, s := recordsWindow(t, "en", srv, true)
	test.Type(s.query, "退款")
	waitIdle(t, m)
	test.Tap(s.export)
	if len(m.Window().Canvas().Overlays().List()) == 0 {
		t.Fatal("Export did not open a save dialog")
	}
	m.Window().Canvas().Overlays().Top().Hide()

	path := filepath.Join(t.TempDir(), "退款.csv")
	s.exportTo(path, false)
	if !s.exportBar.Visible() || !s.export.Disabled() {
		t.Fatal("no progress while exporting")
	}
	waitIdle(t, m)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	if len(lines) != 61 || !strings.Contains(lines[1], "我要退款") {
		t.Fatalf("%d lines: %q", len(lines), lines[:2])
	}
	if want := "Exported 60 records to " + path; s.exportLine.Text != want || s.export.Disabled() {
		t.Fatalf("summary %q, want %q", s.exportLine.Text, want)
	}
}

// visibleRow is the first row of the result list on screen.
func visibleRow(s *recordsScreen) *recordRow {
	for _, o := range test.LaidOutObjects(s.list) {
		if r, ok := o.(*recordRow); ok && r.Visible() {
			return r
		}
	}
	return nil
}

func TestHighlightSegments(t *testing.T) {
	segs := highlightSegments("Refund? 我要refund，REFUND", "refund")
	var got []string
	for _, s := range segs {
		ts := s.(*widget.TextSegment)
		if ts.Style == highlightStyle {
			got = append(got, "["+ts.Text+"]")
		} else {
			got = append(got, ts.Text)
		}
	}
	if strings.Join(got, "") != "[Refund]? 我要[refund]，[REFUND]" {
		t.Fatalf("%q", got)
	}
	if len(highlightSegments("abc", "")) != 1 {
		t.Fatal("no query: one plain segment")
	}
	// Several words (storage.SearchWords): each highlighted, a phrase whole, an excluded word not.
	for _, c := range []struct{ text, q, want string }{
		{"退款后发货，退款了", "发货 退款", "[退款]后[发货]，[退款]了"},
		{"退款发货", "退款　发货", "[退款][发货]"},
		{"Refund please, refund", `"refund please" -发票`, "[Refund please], refund"},
		{"原路退回 原路", `“原路退回” 原`, "[原路退回] [原]路"},
		{"退款 没有发票", "退款 -发票", "[退款] 没有发票"},
		{"ÉCLAIR éclair", "éc", "[ÉC]LAIR [éc]lair"},
		{"aaa", "a aa", "[aa][a]"}, // the longest word where several start
		{"abc", "-", "abc"},
	} {
		var got []string
		for _, s := range highlightSegments(c.text, c.q) {
			if ts := s.(*widget.TextSegment); ts.Style == highlightStyle {
				got = append(got, "["+ts.Text+"]")
			} else {
				got = append(got, ts.Text)
			}
		}
		if strings.Join(got, "") != c.want {
			t.Errorf("%q in %q: %q, want %q", c.q, c.text, strings.Join(got, ""), c.want)
		}
	}
}

func TestConversationLoadsEarlierAndLater(t *testing.T) {
	srv := recordServer(t, 2800) // 400 records per customer: more than one window each side
	m, s := recordsWindow(t, "en", srv, true)
	s.list.ScrollTo(1400) // its page loads first; a row still loading cannot be opened
	waitIdle(t, m)
	s.list.Select(1400)
	waitIdle(t, m)
	v := s.conv
	if v == nil {
		t.Fatal("no conversation")
	}
	if !v.moreBefore || !v.moreAfter || len(v.recs) != 2*conversationWindow {
		t.Fatalf("first window: %d records, more %v/%v", len(v.recs), v.moreBefore, v.moreAfter)
	}
	first, last := v.recs[0].ID, v.recs[len(v.recs)-1].ID
	test.Tap(v.earlier)
	waitIdle(t, m)
	test.Tap(v.later)
	waitIdle(t, m)
	all, _ := m.ws.DB.CountRecords(context.Background(), s.account.ID, storage.RecordFilter{OpenID: v.openid})
	if len(v.recs) != all || v.moreBefore || v.moreAfter || v.recs[0].ID >= first || v.recs[len(v.recs)-1].ID <= last {
		t.Fatalf("after Earlier and Later: %d records, more %v/%v", len(v.recs), v.moreBefore, v.moreAfter)
	}
	for i := 1; i < len(v.recs); i++ {
		if v.recs[i].ID <= v.recs[i-1].ID {
			t.Fatal("conversation out of order")
		}
	}
}

func TestProgressTextNamesTheIndexPhase(t *testing.T) {
	SetLanguage("en")
	p := storage.SyncProgress{Days: 3, DaysDone: 3, Pages: 40, Records: 400000, Phase: storage.PhaseIndexing, Indexed: 120000, ToIndex: 400000}
	if got := progressText(p); !strings.Contains(got, "search index") || !strings.Contains(got, "120,000 of 400,000") {
		t.Fatalf("progress = %q", got)
	}
	p.Phase = storage.PhaseFetching
	if got := progressText(p); strings.Contains(got, "search index") {
		t.Fatalf("fetching progress = %q", got)
	}
}

// The demo account's empty archive fills itself the first time its chat records open,
// also when the automatic sync at start is off (it is by default).
func TestDemoRecordsSyncThemselvesTheFirstTime(t *testing.T) {
	m, ws := newTestWindow(t, "zh")
	a, err := ws.EnsureDemo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m.SelectAccount(a.Name)
	waitIdle(t, m)
	test.Tap(findButton(t, m.Window().Canvas(), "聊天记录"))
	waitIdle(t, m)
	if m.records == nil || m.records.total == 0 || !m.syncer.ended || m.syncer.err != nil {
		t.Fatalf("the demo's first sync: records %v, ended %v, err %v", m.records != nil && m.records.total > 0, m.syncer.ended, m.syncer.err)
	}
	assertShows(t, m.Window().Canvas(), "上次同步")
}
