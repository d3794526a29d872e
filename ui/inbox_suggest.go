package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// suggestionBar shows, above a reply box, up to three replies the shop's KF staff
// gave to messages like the customer's last one (issue 15, storage/suggest.go). A
// click or Alt+1/2/3 puts one in the reply box through fill: it never sends. "Why
// this?" lists the past exchanges each comes from (another customer's numbers and
// addresses masked); each opens that conversation.
type suggestionBar struct {
	m    *MainWindow
	fill func(string)
	// openSource opens the conversation of a past exchange; by default the chat
	// records page with that message selected (an embedder may set its own).
	openSource func(storage.SuggestSource)
	// resized, if set, is called when the bar appears, changes or goes (the
	// conversation above it keeps its newest message in view).
	resized func()

	box     *fyne.Container // everything; hidden while there is nothing to suggest
	buttons *fyne.Container
	why     *widget.Button
	sources *fyne.Container // the "Why this?" panel
	status  *widget.Label

	shown []workspace.Suggestion
	gen   int // counts show calls: a late answer for an earlier message is dropped
}

// suggestionLabelRunes is how much of a suggestion its button shows; fill gets it whole.
const suggestionLabelRunes = 36

func newSuggestionBar(m *MainWindow, fill func(string)) *suggestionBar {
	b := &suggestionBar{m: m, fill: fill}
	b.openSource = m.openRecordConversation
	return b
}

// content is the bar, to put above the reply box.
func (b *suggestionBar) content() fyne.CanvasObject {
	if b.box != nil {
		return b.box
	}
	title := widget.NewLabelWithStyle(T("Suggested replies"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	b.why = widget.NewButtonWithIcon(T("Why this?"), theme.QuestionIcon(), b.onWhy)
	b.why.Importance = widget.LowImportance
	b.status = widget.NewLabel("")
	b.status.Importance = widget.LowImportance
	b.buttons = container.NewVBox()
	b.sources = container.NewVBox()
	b.sources.Hide()
	b.box = container.NewVBox(container.NewBorder(nil, nil, title, b.why, b.status), b.buttons, b.sources)
	b.box.Hide()
	return b.box
}

// show finds suggestions for the customer's last (unanswered) message, off the UI
// thread; an empty text clears the bar.
func (b *suggestionBar) show(a storage.Account, openid, lastCustomerText string) {
	b.content()
	b.gen++
	gen := b.gen
	b.setSuggestions(nil)
	if lastCustomerText == "" {
		return
	}
	var ss []workspace.Suggestion
	var err error
	b.m.goBackground(func() {
		ss, err = b.m.ws.Suggest(b.m.ctx, a, openid, lastCustomerText)
	}, func() {
		if gen != b.gen {
			return // another conversation or message meanwhile
		}
		if err != nil {
			logError("suggest replies", err) // the reply box works without suggestions
			return
		}
		b.setSuggestions(ss)
	})
}

func (b *suggestionBar) setSuggestions(ss []workspace.Suggestion) {
	b.shown = ss
	b.buttons.RemoveAll()
	b.sources.RemoveAll()
	b.sources.Hide()
	if len(ss) == 0 {
		if b.box.Visible() {
			b.box.Hide()
			b.afterResize()
		}
		return
	}
	for i, s := range ss {
		i := i
		btn := widget.NewButton(suggestionLabel(i, s), func() { b.choose(i) })
		btn.Alignment = widget.ButtonAlignLeading
		b.buttons.Add(btn)
	}
	b.status.SetText(T("from the chat records · a click puts it in the reply box"))
	b.box.Show()
	b.box.Refresh()
	b.afterResize()
}

func (b *suggestionBar) afterResize() {
	if b.resized != nil {
		b.resized()
	}
}

// suggestionLabel: "Alt+1  text…  (used 5×, last 11-20 15:01)".
func suggestionLabel(i int, s workspace.Suggestion) string {
	text := []rune(s.Text)
	short := s.Text
	if len(text) > suggestionLabelRunes {
		short = string(text[:suggestionLabelRunes]) + "…"
	}
	return fmt.Sprintf("Alt+%d  %s  %s", i+1, short,
		T("(used %d×, last %s)", s.Count, workspace.FormatTime(s.LastUsed, "01-02 15:04")))
}

// choose puts suggestion i in the reply box (and sends nothing).
func (b *suggestionBar) choose(i int) {
	if i < 0 || i >= len(b.shown) {
		return
	}
	b.fill(b.shown[i].Text)
}

// onWhy shows or hides the exchanges the suggestions come from.
func (b *suggestionBar) onWhy() {
	if b.sources.Visible() {
		b.sources.Hide()
		b.afterResize()
		return
	}
	b.sources.RemoveAll()
	for i, s := range b.shown {
		b.sources.Add(widget.NewLabelWithStyle(T("%d. Given %d times to messages like this one, for example:", i+1, s.Count),
			fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
		for _, src := range s.Sources {
			src := src
			line := newWrapLabel(T("%s · customer %s asked “%s”", workspace.FormatTime(src.Time, "2006-01-02 15:04"), shortOpenID(src.OpenID), storage.MaskPersonalData(src.Question)))
			open := widget.NewButtonWithIcon(T("Open conversation"), theme.NavigateNextIcon(), func() { b.openSource(src) })
			open.Importance = widget.LowImportance
			b.sources.Add(container.NewBorder(nil, nil, nil, open, line))
		}
	}
	b.sources.Show()
	b.box.Refresh()
	b.afterResize()
}

func shortOpenID(openid string) string {
	if r := []rune(openid); len(r) > 14 {
		return string(r[:5]) + "…" + string(r[len(r)-6:])
	}
	return openid
}

// suggestionShortcuts are Alt+1, Alt+2 and Alt+3.
var suggestionShortcuts = []*desktop.CustomShortcut{
	{KeyName: fyne.Key1, Modifier: fyne.KeyModifierAlt},
	{KeyName: fyne.Key2, Modifier: fyne.KeyModifierAlt},
	{KeyName: fyne.Key3, Modifier: fyne.KeyModifierAlt},
}

// registerShortcuts adds Alt+1/2/3 to a window's canvas. A focused entry gets
// shortcuts itself, not the canvas: the reply box should be a suggestingEntry
// (or call handleShortcut from its own TypedShortcut).
func (b *suggestionBar) registerShortcuts(c fyne.Canvas) {
	for i, s := range suggestionShortcuts {
		c.AddShortcut(s, func(fyne.Shortcut) { b.choose(i) })
	}
}

// handleShortcut chooses a suggestion for Alt+1/2/3 and reports whether s was one.
func (b *suggestionBar) handleShortcut(s fyne.Shortcut) bool {
	for i, own := range suggestionShortcuts {
		if s.ShortcutName() == own.ShortcutName() {
			b.choose(i)
			return true
		}
	}
	return false
}

// suggestingEntry is a reply box in which Alt+1/2/3 choose a suggestion.
type suggestingEntry struct {
	widget.Entry
	bar *suggestionBar
}

func newSuggestingEntry(bar *suggestionBar) *suggestingEntry {
	e := &suggestingEntry{bar: bar}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut lets the bar take its shortcuts first.
func (e *suggestingEntry) TypedShortcut(s fyne.Shortcut) {
	if !e.bar.handleShortcut(s) {
		e.Entry.TypedShortcut(s)
	}
}

// openRecordConversation shows the chat records page with that message's
// conversation open beside the list.
func (m *MainWindow) openRecordConversation(src storage.SuggestSource) {
	m.onNavigate(PageRecords)
	s := m.records
	if s == nil {
		return
	}
	s.conv = newConversationView(s, storage.Record{ID: src.RecordID, OpenID: src.OpenID, Time: src.Time})
	s.side.Objects = []fyne.CanvasObject{s.conv.buildUI()}
	s.side.Refresh()
}
