package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/ui/workspace"
)

// inboxReply is the reply box under a conversation: a text that Enter (or
// Ctrl+Enter) sends, quick replies (the account's text templates, by a click or by
// typing "/" and their name), "send as" a KF account, "more types" through the
// composer, and the typing indicator sent when the operator starts typing. A failed
// send keeps the text and says why under it.
type inboxReply struct {
	v *inboxConversation

	entry       *sendEntry
	send        *widget.Button
	more        *widget.Button
	sendAs      *sendAsSelect
	sendAsNames []string
	quick       *fyne.Container // the quick-reply buttons (those matching "/…" while one is typed)
	quickBar    *container.Scroll
	errLine     *wrapLabel
	status      *widget.Label
	suggest     *suggestionBar // replies the shop gave to messages like the customer's last one (inbox_suggest.go)

	typingAt time.Time // when "typing…" was last sent: WeChat shows it for 15 s
	sending  bool
}

// typingEvery is how often "typing…" is sent again while the operator keeps typing.
const typingEvery = 10 * time.Second

func newInboxReply(v *inboxConversation) *inboxReply { return &inboxReply{v: v} }

func (r *inboxReply) buildUI() fyne.CanvasObject {
	r.entry = newSendEntry(r.onSend)
	r.entry.SetPlaceHolder(T("Reply… (Enter sends, Shift+Enter starts a new line, / for quick replies)"))
	r.entry.SetMinRowsVisible(3)
	r.entry.OnChanged = r.onChanged
	r.entry.onEnter = r.onEnterQuick
	r.send = widget.NewButtonWithIcon(T("Send"), theme.MailSendIcon(), r.onSend)
	r.send.Importance = widget.HighImportance
	r.more = widget.NewButton(T("More types…"), func() { r.v.s.m.OpenComposerFor(r.v.openid) })
	r.sendAs = newSendAsSelect(r.loadSendAs)
	r.sendAs.PlaceHolder = T("Send as (default)")
	r.sendAs.OnChanged = func(string) {}
	r.quick = container.NewHBox()
	r.errLine = newErrorLabel()
	r.status = widget.NewLabel("")
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.suggest = newSuggestionBar(r.v.s.m, r.fillSuggestion)
	r.suggest.resized = r.v.replyBoxResized
	r.entry.onShortcut = r.suggest.handleShortcut // Alt+1/2/3 in the reply box
	r.quickBar = container.NewHScroll(r.quick)
	r.showQuick("")
	buttons := container.NewHBox(r.sendAs, r.more, r.send)
	return container.NewVBox(
		widget.NewSeparator(),
		r.suggest.content(),
		r.quickBar,
		r.entry,
		r.errLine,
		container.NewBorder(nil, nil, nil, buttons, r.status),
	)
}

// fillSuggestion puts a chosen suggestion in the reply box (it sends nothing).
func (r *inboxReply) fillSuggestion(text string) {
	r.entry.SetText("")
	r.insert(text)
}

// suggestFor asks for suggestions for the customer's last message when no reply
// followed it (an empty text clears the bar).
func (r *inboxReply) suggestFor(msgs []workspace.InboxMessage) {
	last := ""
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Kind == workspace.KindEvent {
			continue
		}
		if m.FromCustomer && m.Kind == workspace.KindText {
			last = m.Text
		}
		break
	}
	r.suggest.show(r.v.s.a, r.v.openid, last)
}

// insert puts a text into the reply box (a quick reply, a suggestion): it replaces
// a "/…" being typed, otherwise it goes where the cursor is.
func (r *inboxReply) insert(text string) {
	if strings.HasPrefix(r.entry.Text, "/") {
		r.entry.SetText(text)
	} else {
		r.entry.SetText(r.entry.Text + text)
	}
	r.entry.CursorRow = strings.Count(r.entry.Text, "\n")
	r.entry.CursorColumn = len([]rune(r.entry.Text[strings.LastIndexByte(r.entry.Text, '\n')+1:]))
	r.entry.Refresh()
	if c := fyne.CurrentApp().Driver().CanvasForObject(r.entry); c != nil {
		c.Focus(r.entry)
	}
}

// showQuick lists the quick replies whose name starts with prefix ("" = all).
func (r *inboxReply) showQuick(prefix string) {
	r.quick.RemoveAll()
	for _, q := range r.v.s.quickReplies {
		if prefix != "" && !strings.HasPrefix(strings.ToLower(q.name), strings.ToLower(prefix)) {
			continue
		}
		b := widget.NewButtonWithIcon(q.name, theme.ContentPasteIcon(), func() { r.insert(q.text) })
		b.Importance = widget.LowImportance
		r.quick.Add(b)
	}
	if r.quickBar != nil {
		if len(r.quick.Objects) == 0 {
			r.quickBar.Hide() // no empty row above the text
		} else {
			r.quickBar.Show()
		}
	}
	r.quick.Refresh()
}

// slashPrefix is the name typed after "/" ("", false when no quick reply is being chosen).
func slashPrefix(text string) (string, bool) {
	if !strings.HasPrefix(text, "/") || strings.ContainsAny(text, "\n") {
		return "", false
	}
	return strings.TrimPrefix(text, "/"), true
}

// onEnterQuick: Enter after "/name" inserts the first quick reply that matches instead of sending.
func (r *inboxReply) onEnterQuick() bool {
	prefix, ok := slashPrefix(r.entry.Text)
	if !ok {
		return false
	}
	for _, q := range r.v.s.quickReplies {
		if strings.HasPrefix(strings.ToLower(q.name), strings.ToLower(prefix)) {
			r.insert(q.text)
			return true
		}
	}
	return false
}

func (r *inboxReply) onChanged(text string) {
	showError(r.errLine, "")
	if prefix, ok := slashPrefix(text); ok {
		r.showQuick(prefix)
	} else if len(r.quick.Objects) != len(r.v.s.quickReplies) {
		r.showQuick("")
	}
	if strings.TrimSpace(text) != "" && time.Since(r.typingAt) > typingEvery {
		r.typingAt = time.Now()
		r.sendTyping()
	}
}

// sendTyping shows "typing…" to the customer; a failure only goes to the log (it is a courtesy).
func (r *inboxReply) sendTyping() {
	m, a, openid := r.v.s.m, r.v.s.a, r.v.openid
	if r.v.conv.Window.Closed {
		return // WeChat refuses it outside the 48 hours
	}
	var err error
	m.goBackground(func() {
		ctx, cancel := context.WithTimeout(m.ctx, 30*time.Second)
		defer cancel()
		err = m.ws.Typing(ctx, a, openid, true)
	}, func() {
		if err != nil {
			logError("show typing to the customer", err)
		}
	})
}

// loadSendAs fetches the KF accounts the first time "send as" is opened (a network call).
func (r *inboxReply) loadSendAs() {
	m, a := r.v.s.m, r.v.s.a
	var names []string
	var err error
	r.status.SetText(T("Loading the KF accounts…"))
	m.goBackground(func() {
		ctx, cancel := context.WithTimeout(m.ctx, 30*time.Second)
		defer cancel()
		names, _, err = m.ws.SendAsAccounts(ctx, a)
	}, func() {
		if err != nil {
			r.sendAs.loaded = false
			r.status.SetText(T("Could not load the KF accounts for \"Send as\": %s", errorText(err)))
			return
		}
		r.status.SetText("")
		r.sendAsNames = names
		r.sendAs.SetOptions(append([]string{T("(default)")}, names...))
		r.sendAs.open()
	})
}

// kfAccount is the chosen "send as" account ("" = WeChat's default).
func (r *inboxReply) kfAccount() string {
	i := r.sendAs.SelectedIndex()
	if i <= 0 || i > len(r.sendAsNames) {
		return ""
	}
	return r.sendAsNames[i-1]
}

// onSend sends the text off the UI thread. The text stays in the box until WeChat
// has accepted it; a failure says why under it.
func (r *inboxReply) onSend() {
	text := unixNewlines(r.entry.Text)
	if strings.TrimSpace(text) == "" || r.sending {
		return
	}
	m, a, openid := r.v.s.m, r.v.s.a, r.v.openid
	msg := &api.Message{ToUser: openid, MsgType: api.TypeText, Text: &api.Text{Content: text}}
	if kf := r.kfAccount(); kf != "" {
		msg.CustomService = &api.CustomService{KFAccount: kf}
	}
	r.sending = true
	r.send.Disable()
	showError(r.errLine, "")
	r.status.SetText(T("Sending…"))
	var err error
	m.goBackground(func() {
		ctx, cancel := context.WithTimeout(m.ctx, time.Minute)
		defer cancel()
		_, err = m.ws.Send(ctx, a, msg)
	}, func() {
		r.sending = false
		r.send.Enable()
		if err != nil {
			r.status.SetText("")
			showError(r.errLine, T("Not sent: %s", errorText(err))+" "+T("Your text is kept."))
			return
		}
		r.status.SetText(T("Sent at %s.", workspace.FormatTime(clock.Now(), "15:04:05")))
		if r.entry.Text == text || unixNewlines(r.entry.Text) == text {
			r.entry.SetText("")
		}
		r.typingAt = time.Time{}
		r.v.afterSend(text, msg.KFAccount())
	})
}

// imeSettle is how long a plain Enter waits before it sends. On macOS and Linux (X11)
// the Enter an input method uses to commit what is being composed (Latin letters in
// pinyin mode) also reaches the field, just before the committed letters (see README,
// "Chinese input"): letters arriving within this time mean the Enter was the input
// method's, and nothing is sent. Measured on fcitx5: the commit lands right after the key.
const imeSettle = 150 * time.Millisecond

// sendEntry is the reply box: a multi-line entry where Enter sends (unless an input
// method was composing, see imeSettle), Ctrl+Enter (⌘+Enter) sends at once and
// Shift+Enter starts a new line.
type sendEntry struct {
	widget.Entry
	onSend func()
	// onEnter is asked first on Enter: true when it used the key (a "/" quick reply chosen).
	onEnter func() bool
	// onShortcut is offered every shortcut first: true when it took it (Alt+1/2/3 for a suggestion).
	onShortcut func(fyne.Shortcut) bool

	shift bool
	// settle runs f after imeSettle on the UI thread and returns a cancel (tests replace it).
	settle  func(f func()) (cancel func())
	pending func() // cancels the Enter waiting to send
	gen     int    // counts Enters, so a stopped timer that fired anyway does nothing
}

func newSendEntry(onSend func()) *sendEntry {
	e := &sendEntry{onSend: onSend}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.settle = func(f func()) func() {
		t := time.AfterFunc(imeSettle, func() { fyne.Do(f) })
		return func() { t.Stop() }
	}
	e.ExtendBaseWidget(e)
	return e
}

func (e *sendEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

func (e *sendEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

func (e *sendEntry) TypedKey(k *fyne.KeyEvent) {
	if (k.Name != fyne.KeyReturn && k.Name != fyne.KeyEnter) || e.shift {
		e.Entry.TypedKey(k)
		return
	}
	if e.onEnter != nil && e.onEnter() {
		return
	}
	e.cancelPending()
	e.gen++
	gen := e.gen
	e.pending = e.settle(func() {
		if gen != e.gen || e.pending == nil {
			return // cancelled: letters came, or another Enter
		}
		e.pending = nil
		e.onSend()
	})
}

func (e *sendEntry) TypedRune(r rune) {
	e.cancelPending() // letters right after Enter: the input method committed them
	e.Entry.TypedRune(r)
}

func (e *sendEntry) TypedShortcut(s fyne.Shortcut) {
	if c, ok := s.(*desktop.CustomShortcut); ok && (c.KeyName == fyne.KeyReturn || c.KeyName == fyne.KeyEnter) &&
		c.Modifier&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		e.cancelPending()
		e.onSend()
		return
	}
	if e.onShortcut != nil && e.onShortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

func (e *sendEntry) cancelPending() {
	if e.pending != nil {
		e.pending()
		e.pending = nil
		e.gen++
	}
}
