package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// draftDelay is how long typing pauses before the draft is written.
const draftDelay = 500 * time.Millisecond

// composerDraft is what is saved as the operator types (workspace.ComposerDraft).
type composerDraft = workspace.ComposerDraft

// composerScreen sends customer-service messages: recipient, type, the type's
// form with errors at the fields, media uploads, a preview, drafts, templates
// and the send log.
type composerScreen struct {
	m  *MainWindow
	a  storage.Account
	mp bool // Mini Program account

	root        *fyne.Container // "loading" until the state is read, then the composer
	prev        *composerScreen // the composer this one replaces: its draft is written first
	msg         *api.Message
	files       map[string]string
	recipients  []workspace.Recipient
	notes       map[string]string // openid → note, read once when the composer opens
	followers   storage.SyncedFollowers
	templates   []storage.Template
	haveRecords bool // chat records were downloaded, so a missing customer means no message

	to             *widget.Entry
	recipientInfo  *wrapLabel
	note           *widget.Entry
	typeSelect     *widget.Select
	sendAs         *sendAsSelect
	sendAsNames    []string
	kfNicks        map[string]string // KF account → nickname, for the preview
	formBox        *fyne.Container
	preview        *fyne.Container
	entries        map[string]*widget.Entry
	errLabels      map[string]*wrapLabel
	formError      *wrapLabel
	status         *wrapLabel
	byteCount      *widget.Label
	send           *widget.Button
	typing         *widget.Button
	cancelTyping   *widget.Button
	templateSelect *widget.Select
	deleteDialog   *widget.Select // the template chooser of the open delete dialog (tests)
	uploads        map[string]*uploadRow
	addMenuOption  func() // the menu editor's "Add option"
	picker         *recipientPicker
	sendLog        *sendLogView

	draftMu    sync.Mutex
	draftTimer *time.Timer
	draftBody  string // latest snapshot, written by the timer
	ready      bool   // built: from now on changes are the operator's and saved
}

func newComposerScreen(m *MainWindow) *composerScreen {
	return &composerScreen{m: m, a: m.account, mp: workspace.MiniProgram(m.account), prev: m.composer}
}

// typeLabels name the message types in the type chooser.
var typeLabels = map[string]string{
	api.TypeText: "Text", api.TypeImage: "Image", api.TypeVoice: "Voice", api.TypeVideo: "Video",
	api.TypeMusic: "Music", api.TypeNews: "News (one article)", api.TypeMPNews: "Article material (mpnews)",
	api.TypeMPNewsArticle: "Published article", api.TypeMsgMenu: "Menu (options to tap)", api.TypeWXCard: "Card / coupon",
	api.TypeMiniProgramPage: "Mini Program card", api.TypeLink: "Link card",
}

// buildUI shows "loading" while the draft, notes, recipients and templates are read
// off the UI thread, then the composer.
func (s *composerScreen) buildUI() fyne.CanvasObject {
	s.m.composer = s
	busy := widget.NewProgressBarInfinite()
	s.root = container.NewStack(container.NewVBox(heading(T("Composer")), widget.NewLabel(T("Loading…")), busy))
	recipient := s.m.composerRecipient
	var st workspace.ComposerState
	var err error
	s.m.goBackground(func() {
		if s.prev != nil {
			s.prev.flushDraft() // this screen must read the latest draft
		}
		st, err = s.m.ws.ComposerState(s.m.ctx, s.a)
	}, func() {
		busy.Stop()
		if s.m.composer != s {
			return // the operator has moved on
		}
		s.root.Objects = []fyne.CanvasObject{s.fill(st, recipient)}
		s.root.Refresh()
		if err != nil {
			s.status.SetText(errorText(err))
		}
	})
	return s.root
}

// fill builds the composer from its state.
func (s *composerScreen) fill(st workspace.ComposerState, recipient string) fyne.CanvasObject {
	s.loadDraft(st.Draft)
	if recipient != "" {
		s.msg.ToUser = recipient
	}
	s.recipients, s.notes, s.followers, s.haveRecords, s.templates = st.Recipients, st.Notes, st.Followers, st.HasRecords, st.Templates
	if s.notes == nil {
		s.notes = map[string]string{}
	}

	s.to = widget.NewEntry()
	s.to.SetPlaceHolder(T("Paste an openid, or choose a customer"))
	s.to.SetText(s.msg.ToUser)
	s.to.OnChanged = func(v string) { s.setRecipient(strings.TrimSpace(v), false) }
	choose := widget.NewButtonWithIcon(T("Choose…"), theme.AccountIcon(), s.onChooseRecipient)
	s.recipientInfo = newWrapLabel("")
	s.note = widget.NewEntry()
	s.note.SetPlaceHolder(T("Your note on this customer, e.g. 老顾客 王姐"))
	// no OnSubmitted: an input method's Enter would save a half-typed note (textinput.go)
	saveNote := widget.NewButton(T("Save note"), s.onSaveNote)

	var labels []string
	for _, t := range api.MsgTypes(s.mp) {
		labels = append(labels, T(typeLabels[t]))
	}
	s.typeSelect = widget.NewSelect(labels, nil)
	s.sendAs = newSendAsSelect(s.loadSendAs)
	s.sendAsNames = nil
	if kf := s.msg.KFAccount(); kf != "" {
		s.sendAsNames = []string{kf} // the draft's choice, until the list is loaded
	}
	s.sendAs.SetOptions(append([]string{T("(default)")}, s.sendAsNames...))
	s.sendAs.SetSelectedIndex(len(s.sendAsNames))
	s.sendAs.OnChanged = func(string) { s.onSendAs() }

	s.formBox = container.NewVBox()
	s.preview = container.NewStack()
	s.formError = newErrorLabel()
	s.status = newWrapLabel("")

	s.send = widget.NewButtonWithIcon(T("Send"), theme.MailSendIcon(), s.onSend)
	s.send.Importance = widget.HighImportance
	s.typing = widget.NewButton(T("Show typing…"), func() { s.onTyping(true) })
	s.cancelTyping = widget.NewButton(T("Stop typing"), func() { s.onTyping(false) })
	saveTpl := widget.NewButtonWithIcon(T("Save as template"), theme.DocumentSaveIcon(), s.onSaveTemplate)
	s.templateSelect = widget.NewSelect(nil, s.onUseTemplate)
	s.templateSelect.PlaceHolder = T("Use a template…")
	s.showTemplates()
	logButton := widget.NewButtonWithIcon(T("Send log"), theme.HistoryIcon(), s.onSendLog)

	s.errLabels = map[string]*wrapLabel{"touser": newErrorLabel(), "customservice.kf_account": newErrorLabel()}
	grid := container.New(layout.NewFormLayout(),
		widget.NewLabel(T("To")), container.NewVBox(container.NewBorder(nil, nil, nil, choose, s.to), s.errLabels["touser"], s.recipientInfo),
		widget.NewLabel(T("Note")), container.NewBorder(nil, nil, nil, saveNote, s.note),
		widget.NewLabel(T("Type")), s.typeSelect,
	)
	if !s.mp {
		grid.Add(widget.NewLabel(T("Send as")))
		grid.Add(container.NewVBox(s.sendAs, s.errLabels["customservice.kf_account"]))
	}
	buttons := container.NewHBox(s.send, s.typing, s.cancelTyping, layout.NewSpacer(), logButton)
	delTpl := widget.NewButtonWithIcon(T("Delete template…"), theme.DeleteIcon(), s.onDeleteTemplate)
	tplRow := container.NewHBox(saveTpl, container.NewGridWrap(fyne.NewSize(220, s.templateSelect.MinSize().Height), s.templateSelect), delTpl)
	left := container.NewBorder(
		container.NewVBox(heading(T("Composer")), grid, widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), s.formError, buttons, tplRow, s.status),
		nil, nil, container.NewVScroll(s.formBox))

	previewTitle := widget.NewLabel(T("Preview: what the customer sees"))
	right := container.NewBorder(previewTitle, nil, nil, nil, s.preview)
	split := container.NewHSplit(left, right)
	split.Offset = 0.62

	// Selecting the type last builds the form and the preview once everything exists.
	s.typeSelect.OnChanged = func(string) { s.onTypeChosen() }
	s.typeSelect.SetSelectedIndex(max(0, slices.Index(api.MsgTypes(s.mp), s.msg.MsgType)))
	s.setRecipient(s.msg.ToUser, true)
	s.ready = true
	return split
}

// loadDraft restores the account's draft, or starts an empty message.
func (s *composerScreen) loadDraft(body string) {
	s.msg, s.files = api.NewMessage(), map[string]string{}
	d, ok := workspace.ParseComposerDraft(body)
	if !ok {
		return
	}
	if slices.Index(api.MsgTypes(s.mp), d.Message.MsgType) < 0 {
		d.Message.MsgType = api.TypeText
	}
	s.msg = d.Message
	if d.Files != nil {
		s.files = d.Files
	}
}

// changed is called after every edit: preview now, draft after a pause.
func (s *composerScreen) changed() {
	s.renderPreview()
	if !s.ready {
		return
	}
	b, err := json.Marshal(composerDraft{Message: s.msg, Files: s.files})
	if err != nil {
		return
	}
	s.draftMu.Lock()
	defer s.draftMu.Unlock()
	s.draftBody = string(b)
	if s.draftTimer != nil {
		s.draftTimer.Stop()
	}
	s.draftTimer = time.AfterFunc(draftDelay, s.flushDraft)
}

// flushDraft writes the latest snapshot now: from the timer, before a send, when
// the next composer opens, when the window closes. Never on the UI thread.
func (s *composerScreen) flushDraft() {
	s.draftMu.Lock()
	defer s.draftMu.Unlock()
	if s.draftTimer != nil {
		s.draftTimer.Stop()
		s.draftTimer = nil
	}
	if s.draftBody == "" {
		return
	}
	if err := s.m.ws.SaveDraft(context.Background(), s.a, s.draftBody); err != nil {
		logError("save the composer's draft", err) // kept in memory: the next flush tries again
		return
	}
	s.draftBody = ""
}

func (s *composerScreen) onTypeChosen() {
	i := s.typeSelect.SelectedIndex()
	if i < 0 {
		return
	}
	s.msg.MsgType = api.MsgTypes(s.mp)[i]
	s.rebuildForm()
	s.changed()
}

// rebuildForm shows the chosen type's form (after a type change, a template or a reset).
func (s *composerScreen) rebuildForm() {
	s.entries = map[string]*widget.Entry{}
	for k := range s.errLabels {
		if k != "touser" && k != "customservice.kf_account" {
			delete(s.errLabels, k)
		}
	}
	s.uploads = map[string]*uploadRow{}
	s.formBox.Objects = []fyne.CanvasObject{s.buildForm()}
	s.formBox.Refresh()
	showError(s.formError, "")
}

// setRecipient takes a recipient from the entry, the picker or OpenComposerFor.
func (s *composerScreen) setRecipient(openid string, fromCode bool) {
	if fromCode && s.to.Text != openid {
		s.to.SetText(openid) // calls back here with fromCode false
		return
	}
	s.msg.ToUser = openid
	s.showFieldError("touser", "")
	s.note.SetText(s.notes[openid])
	s.recipientInfo.SetText(s.windowText(openid))
	s.changed()
}

// reloadRecipients reads the recipient list again off the UI thread (after a follower sync).
func (s *composerScreen) reloadRecipients(then func()) {
	var st workspace.ComposerState
	var err error
	s.m.goBackground(func() { st, err = s.m.ws.ComposerState(s.m.ctx, s.a) }, func() {
		if err != nil {
			s.status.SetText(errorText(err))
		} else {
			s.recipients, s.notes, s.followers, s.haveRecords = st.Recipients, st.Notes, st.Followers, st.HasRecords
		}
		if then != nil {
			then()
		}
	})
}

func (s *composerScreen) onSaveNote() {
	if s.msg.ToUser == "" {
		s.status.SetText(T("Choose a recipient first."))
		return
	}
	openid, note := s.msg.ToUser, strings.TrimSpace(s.note.Text)
	s.m.save(func(ctx context.Context) error { return s.m.ws.SetNote(ctx, s.a, openid, note) }, func(err error) {
		if err != nil {
			s.status.SetText(errorText(err))
			return
		}
		s.notes[openid] = note
		found := false
		for i := range s.recipients {
			if s.recipients[i].OpenID == openid {
				s.recipients[i].Note, found = note, true
			}
		}
		if !found && note != "" {
			s.recipients = append(s.recipients, workspace.Recipient{OpenID: openid, Note: note})
		}
		s.status.SetText(T("Note saved."))
	})
}

// loadSendAs fetches the account's KF accounts for "send as" (a network call),
// the first time the operator opens the list, then opens it.
func (s *composerScreen) loadSendAs() {
	var names []string
	var nicks map[string]string
	var err error
	s.status.SetText(T("Loading the KF accounts…"))
	s.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(s.m.ctx, 30*time.Second)
		defer cancel()
		names, nicks, err = s.m.ws.SendAsAccounts(ctx, s.a)
	}, func() {
		if err != nil {
			s.sendAs.loaded = false // try again next time
			s.status.SetText(T("Could not load the KF accounts for \"Send as\": %s", errorText(err)))
			return
		}
		s.status.SetText("")
		cur := s.msg.KFAccount()
		if cur != "" && slices.Index(names, cur) < 0 {
			names = append(names, cur) // keep the draft's choice visible even if it is gone
		}
		s.sendAsNames = names
		s.kfNicks = nicks
		s.sendAs.SetOptions(append([]string{T("(default)")}, names...))
		s.sendAs.SetSelectedIndex(slices.Index(names, cur) + 1)
		s.sendAs.open()
	})
}

// sendAsSelect loads its options when first opened: the KF list is a network
// call, made when the operator wants it rather than every time the page shows.
type sendAsSelect struct {
	widget.Select
	load   func()
	loaded bool
}

func newSendAsSelect(load func()) *sendAsSelect {
	s := &sendAsSelect{load: load}
	s.ExtendBaseWidget(s)
	return s
}

func (s *sendAsSelect) Tapped(e *fyne.PointEvent) {
	if !s.loaded {
		s.loaded = true
		s.load()
		return
	}
	s.Select.Tapped(e)
}

// open shows the option list (after loading), if the select is on screen.
func (s *sendAsSelect) open() {
	if fyne.CurrentApp().Driver().CanvasForObject(s) != nil {
		s.Select.Tapped(&fyne.PointEvent{})
	}
}

func (s *composerScreen) onSendAs() {
	i := s.sendAs.SelectedIndex()
	if i <= 0 || i > len(s.sendAsNames) {
		s.msg.CustomService = nil
	} else {
		s.msg.CustomService = &api.CustomService{KFAccount: s.sendAsNames[i-1]}
	}
	s.showFieldError("customservice.kf_account", "")
	s.changed()
}

// onSend validates, then sends off the UI thread. The draft is saved first and
// cleared only when WeChat accepted the message.
func (s *composerScreen) onSend() {
	s.changed()
	s.clearErrors()
	if err := s.msg.Validate(s.mp); err != nil {
		s.showErrors(err)
		return
	}
	s.send.Disable()
	s.status.SetText(T("Sending…"))
	msg := s.msg.Clone() // deep: the form may change while the send runs
	var err error
	s.m.goBackground(func() {
		s.flushDraft() // a failed send, a crash while sending: the text is kept
		ctx, cancel := context.WithTimeout(s.m.ctx, time.Minute)
		defer cancel()
		if _, err = s.m.ws.Send(ctx, s.a, msg); err == nil {
			if cerr := s.m.ws.ClearDraft(context.WithoutCancel(ctx), s.a); cerr != nil {
				logError("clear the draft after a send", cerr)
			}
		}
	}, func() {
		s.send.Enable()
		if err != nil {
			s.showErrors(err)
			s.status.SetText(T("Not sent. Your message is kept as a draft."))
			return
		}
		sentAt := T("Sent to %s at %s.", s.recipientName(msg.ToUser), workspace.FormatTime(clock.Now(), "15:04:05"))
		if sameBody(msg, s.msg) {
			s.status.SetText(sentAt)
			s.resetBody()
			return
		}
		// Typed on while it was sent: keep that (and save it again: the sent draft was cleared).
		s.status.SetText(sentAt + " " + T("What you typed meanwhile is kept."))
		s.changed()
	})
}

// sameBody: a and b would send the same request body.
func sameBody(a, b *api.Message) bool {
	x, errA := a.JSON()
	y, errB := b.JSON()
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// resetBody empties the message after a send, keeping recipient, type and sender.
func (s *composerScreen) resetBody() {
	fresh := api.NewMessage()
	fresh.ToUser, fresh.MsgType, fresh.CustomService = s.msg.ToUser, s.msg.MsgType, s.msg.CustomService
	s.msg, s.files = fresh, map[string]string{}
	s.rebuildForm()
	s.renderPreview()
	s.draftMu.Lock()
	if s.draftTimer != nil {
		s.draftTimer.Stop()
		s.draftTimer = nil
	}
	s.draftBody = ""
	s.draftMu.Unlock()
}

func (s *composerScreen) onTyping(on bool) {
	if s.msg.ToUser == "" {
		s.showFieldError("touser", T("Choose a recipient first."))
		return
	}
	to := s.msg.ToUser
	var err error
	s.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(s.m.ctx, 30*time.Second)
		defer cancel()
		err = s.m.ws.Typing(ctx, s.a, to, on)
	}, func() {
		switch {
		case err != nil:
			s.status.SetText(errorText(err))
		case on:
			s.status.SetText(T("The customer sees \"typing…\" for up to 15 seconds, or until your message arrives."))
		default:
			s.status.SetText(T("\"Typing…\" stopped."))
		}
	})
}

// clearErrors hides every field error.
func (s *composerScreen) clearErrors() {
	for _, l := range s.errLabels {
		showError(l, "")
	}
	showError(s.formError, "")
}

// showErrors puts validation errors at their fields and anything else under the form.
func (s *composerScreen) showErrors(err error) {
	var verr api.ValidationErrors
	if !errors.As(err, &verr) {
		showError(s.formError, errorText(err))
		return
	}
	var rest []string
	for _, fe := range verr {
		text := Bilingual(fe.ZH(), fe.EN())
		if l, ok := s.errLabels[fe.Field]; ok && l.Hidden {
			showError(l, text)
		} else if !ok {
			rest = append(rest, text)
		}
	}
	summary := T("Please correct the marked fields.")
	if len(rest) > 0 {
		summary = strings.Join(rest, "\n")
	}
	showError(s.formError, summary)
}

func (s *composerScreen) showFieldError(field, text string) {
	if l, ok := s.errLabels[field]; ok {
		showError(l, text)
	}
}

// recipientName is the note, or the openid.
func (s *composerScreen) recipientName(openid string) string {
	for _, r := range s.recipients {
		if r.OpenID == openid && r.Note != "" {
			return r.Note
		}
	}
	return openid
}

// OpenComposerFor shows the composer with openid as the recipient (from the chat
// records browser: "reply"). The recipient is handed over before the page is
// built, so nothing touches the screen while it loads.
func (m *MainWindow) OpenComposerFor(openid string) {
	m.composerRecipient = openid
	m.showPage(PageComposer)
	m.composerRecipient = ""
}
