package ui

import (
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/clock"
	"kfdesk/ui/workspace"
)

// inboxList is the inbox's left side: the filters, the search, and the
// conversations (waiting customers on top, then newest activity first), each with
// the customer, the last message, the unread count and the reply window.
type inboxList struct {
	s *inboxScreen

	convs    []workspace.InboxConversation
	selected string // the open conversation's openid
	kfs      []string
	gen      int  // numbers reloads: an older answer arriving late is dropped
	choosing bool // the list's selection is being set by the code, not the operator

	unread, waiting, open *widget.Check
	mine                  *widget.Select
	search                *widget.Entry
	list                  *widget.List
	empty                 *widget.Label
	rows                  map[fyne.CanvasObject]*inboxRow
	nowFunc               func() time.Time
}

// inboxRow is one conversation row's widgets.
type inboxRow struct {
	name, preview, when, badge, window, waiting *widget.Label
}

func newInboxList(s *inboxScreen) *inboxList {
	return &inboxList{s: s, rows: map[fyne.CanvasObject]*inboxRow{}, nowFunc: clock.Now}
}

func (l *inboxList) buildUI() fyne.CanvasObject {
	l.unread = widget.NewCheck(T("Unread"), func(bool) { l.reload() })
	l.waiting = widget.NewCheck(T("Waiting"), func(bool) { l.reload() })
	l.open = widget.NewCheck(T("Window open"), func(bool) { l.reload() })
	l.mine = widget.NewSelect(nil, func(string) { l.reload() })
	l.mine.PlaceHolder = T("All KF accounts")
	l.setKFOptions()
	l.search = widget.NewEntry()
	l.search.SetPlaceHolder(T("Search the inbox: customer, note or message"))
	l.search.OnChanged = func(string) { l.reload() }
	l.empty = widget.NewLabel(T("No conversations yet. New customer messages appear here."))
	l.empty.Wrapping = fyne.TextWrapWord
	l.empty.Hide()
	l.list = widget.NewList(func() int { return len(l.convs) }, l.newRow, l.updateRow)
	l.list.OnSelected = l.onSelected
	filters := container.NewVBox(l.search, container.NewHBox(l.unread, l.waiting, l.open), l.mine)
	return container.NewBorder(filters, nil, nil, nil, container.NewStack(l.list, container.NewPadded(l.empty)))
}

func (l *inboxList) newRow() fyne.CanvasObject {
	r := &inboxRow{name: widget.NewLabel("customer name"), preview: widget.NewLabel("last message"),
		when: widget.NewLabel("12-01 10:00"), badge: widget.NewLabel("99"), window: widget.NewLabel("约剩 47 小时 · 还可发 5/5 条"),
		waiting: widget.NewLabel("")}
	r.name.TextStyle.Bold = true
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.preview.Truncation = fyne.TextTruncateEllipsis
	r.when.Importance = widget.LowImportance
	r.badge.Importance = widget.DangerImportance
	r.badge.TextStyle.Bold = true
	r.waiting.Importance = widget.WarningImportance
	// customer · (waiting) · unread · time / last message · reply window
	top := container.NewBorder(nil, nil, nil, container.NewHBox(r.waiting, r.badge, r.when), r.name)
	bottom := container.NewBorder(nil, nil, nil, r.window, r.preview)
	o := container.NewVBox(top, bottom)
	l.rows[o] = r
	return o
}

func (l *inboxList) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	r, ok := l.rows[o]
	if !ok || id >= len(l.convs) {
		return
	}
	c := l.convs[id]
	r.name.SetText(c.Name)
	preview := c.LastText
	if !c.LastFromCustomer && preview != "" {
		preview = T("You: %s", preview)
	}
	r.preview.SetText(previewLine(preview))
	r.when.SetText(workspace.FormatTime(c.LastAt, "01-02 15:04"))
	if c.Unread > 0 {
		r.badge.SetText(strconv.Itoa(c.Unread))
		r.badge.Show()
	} else {
		r.badge.Hide()
	}
	if c.Waiting {
		r.waiting.SetText(T("Waiting %s", durationText(l.nowFunc().Sub(c.WaitingSince))))
		r.waiting.Show()
	} else {
		r.waiting.Hide()
	}
	text, imp := windowText(c.Window)
	r.window.Importance = imp
	r.window.SetText(text)
}

// previewLine is the first line of a message, short enough to shape quickly.
func previewLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			s = s[:i] + " …"
			break
		}
	}
	if r := []rune(s); len(r) > rowTextRunes {
		s = string(r[:rowTextRunes])
	}
	return s
}

// windowText says how long is left to reply and how many sends, "about" when it is an
// estimate from the archive; amber when little is left, grey when closed.
func windowText(w workspace.InboxWindow) (string, widget.Importance) {
	if w.Closed {
		return T("Window closed"), widget.LowImportance
	}
	text := T("%s left · %d of 5 sends", durationText(w.Left), w.SendsLeft)
	if !w.Exact {
		text = T("about %s left · %d of 5 sends", durationText(w.Left), w.SendsLeft)
	}
	if w.Low {
		return text, widget.WarningImportance
	}
	return text, widget.SuccessImportance
}

// filter is what the filters and the search ask for.
func (l *inboxList) filter() workspace.InboxFilter {
	f := workspace.InboxFilter{UnreadOnly: l.unread.Checked, Waiting: l.waiting.Checked, OpenOnly: l.open.Checked, Search: l.search.Text}
	if i := l.mine.SelectedIndex(); i > 0 && i <= len(l.kfs) {
		f.KF = l.kfs[i-1]
	}
	return f
}

// reload reads the conversations off the UI thread.
func (l *inboxList) reload() {
	if l.list == nil {
		return
	}
	l.gen++
	gen, f, a := l.gen, l.filter(), l.s.a
	var convs []workspace.InboxConversation
	var err error
	l.s.m.goBackground(func() {
		convs, err = l.s.m.ws.InboxConversations(l.s.m.ctx, a, f)
	}, func() {
		if gen != l.gen || l.s.m.inbox != l.s {
			return // a newer reload is on its way, or the page is gone
		}
		if err != nil {
			l.s.m.setStatus(errorText(err))
			return
		}
		l.show(convs)
	})
}

// show puts the conversations in the list, keeping the open one selected.
func (l *inboxList) show(convs []workspace.InboxConversation) {
	l.convs = convs
	for _, c := range convs {
		if c.KF != "" && !slices.Contains(l.kfs, c.KF) {
			l.kfs = append(l.kfs, c.KF)
			l.setKFOptions()
		}
	}
	if len(convs) == 0 {
		l.empty.Show()
	} else {
		l.empty.Hide()
	}
	l.list.Refresh()
	l.choosing = true
	defer func() { l.choosing = false }()
	for i, c := range convs {
		if c.OpenID == l.selected {
			l.list.Select(i)
			if v := l.s.conv; v != nil && v.openid == c.OpenID {
				v.onUpdate(c)
			}
			return
		}
	}
	l.list.UnselectAll()
}

func (l *inboxList) setKFOptions() {
	names := make([]string, 0, len(l.kfs)+1)
	names = append(names, T("All KF accounts"))
	for _, k := range l.kfs {
		names = append(names, workerName(k))
	}
	l.mine.Options = names
	l.mine.Refresh()
}

// onSelected opens the conversation and marks it read.
func (l *inboxList) onSelected(id widget.ListItemID) {
	if l.choosing || id >= len(l.convs) {
		return
	}
	c := l.convs[id]
	if c.OpenID == l.selected && l.s.conv != nil {
		return
	}
	l.selected = c.OpenID
	l.convs[id].Unread = 0 // it is marked read as it opens
	l.list.RefreshItem(id)
	l.s.open(c)
}
