package ui

import (
	"fmt"
	"image"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	photo "kfdesk/api/picture"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// inboxConversation is the open conversation beside the inbox list: its messages as
// bubbles in a widget.List (rows reused, so 5,000 messages scroll without building
// 5,000 rows), "Earlier messages" at the top reading further back in the archive, and
// the reply box under it.
type inboxConversation struct {
	s      *inboxScreen
	openid string
	conv   workspace.InboxConversation

	msgs    []workspace.InboxMessage // oldest first
	echoes  int                      // sent replies shown before the archive has them (keys "sent1"…)
	keys    map[string]bool          // Key of each shown message: a reload adds only new ones
	more    bool                     // the archive has earlier messages
	loading bool                     // a read is on its way
	again   bool                     // read again when it is back (an update came meanwhile)

	title   *widget.Label
	window  *widget.Label
	earlier *widget.Button
	loadErr *wrapLabel
	list    *widget.List
	reply   *inboxReply
	box     *fyne.Container // the list with the reply box under it
	// atEnd: the first page has been shown at its end; from then on, the oldest row
	// coming into view (the operator scrolls up) reads the page before it.
	atEnd bool
}

// conversationPage is how many messages are read at a time.
const conversationPage = 200

func newInboxConversation(s *inboxScreen, c workspace.InboxConversation) *inboxConversation {
	return &inboxConversation{s: s, openid: c.OpenID, conv: c, keys: map[string]bool{}}
}

func (v *inboxConversation) buildUI() fyne.CanvasObject {
	v.title = widget.NewLabel(v.s.customerName(v.conv))
	v.title.TextStyle.Bold = true
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.window = widget.NewLabel("")
	v.showWindow()
	v.earlier = widget.NewButton(T("Earlier messages"), v.onEarlier)
	v.earlier.Hide()
	v.loadErr = newErrorLabel()
	v.list = widget.NewList(
		func() int { return len(v.msgs) },
		func() fyne.CanvasObject { return newMessageRow().obj },
		v.updateRow,
	)
	v.list.HideSeparators = true
	v.reply = newInboxReply(v)
	top := container.NewVBox(container.NewBorder(nil, nil, nil, v.window, v.title), v.loadErr, container.NewCenter(v.earlier))
	v.load()
	v.box = container.NewBorder(top, v.reply.buildUI(), nil, nil, v.list)
	return v.box
}

// replyBoxResized keeps the newest message in view when the reply box grows or
// shrinks (suggestions come or go): laid out now, not at the next frame, so the
// scroll sees the list's new height.
func (v *inboxConversation) replyBoxResized() {
	v.box.Refresh()
	v.scrollToEnd()
}

// showWindow shows the reply window in the title bar.
func (v *inboxConversation) showWindow() {
	text, imp := windowText(v.conv.Window)
	v.window.SetText(text)
	v.window.Importance = imp
	v.window.Refresh()
}

func (v *inboxConversation) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(v.msgs) {
		return
	}
	if id == 0 && v.more && v.atEnd && !v.loading {
		v.onEarlier() // scrolled up to the oldest message shown: the history goes on
	}
	m := v.msgs[id]
	r := rowOf(o)
	img, load := pictures.lookup(m.MediaPath)
	if m.Kind == kindImage && load {
		v.loadThumb(m.MediaPath)
	}
	r.set(m, img, func() { v.openFile(m.MediaPath) }, func() { v.showPicture(m.MediaPath) })
	// Rows differ in height: the List learns each one's when it is first shown.
	if h := r.obj.MinSize().Height; h > 0 {
		v.list.SetItemHeight(id, h)
	}
}

// loadThumb decodes a picture off the UI thread, then redraws the rows.
func (v *inboxConversation) loadThumb(path string) {
	v.s.m.goBackground(func() {
		pic, err := loadPicture(path, pictureSide)
		if err != nil {
			logError("read a received picture", err)
		}
		pictures.set(path, pic)
	}, func() {
		if v.list != nil {
			v.list.Refresh()
		}
	})
}

// showPicture opens the picture full size in a dialog, read off the UI thread.
func (v *inboxConversation) showPicture(path string) {
	if path == "" {
		return
	}
	var pic imageResult
	v.s.m.goBackground(func() { pic.img, pic.err = loadPicture(path, 0) }, func() {
		if pic.err != nil {
			showError(v.loadErr, errorText(pic.err))
			return
		}
		img := canvas.NewImageFromImage(pic.img)
		img.FillMode = canvas.ImageFillContain
		size := v.s.m.win.Canvas().Size()
		img.SetMinSize(fyne.NewSize(size.Width*0.8, size.Height*0.7))
		d := dialog.NewCustom(filepath.Base(path), T("Close"), img, v.s.m.win)
		d.Show()
	})
}

// openFile opens a voice or video file with the system's player.
func (v *inboxConversation) openFile(path string) {
	if path == "" {
		return
	}
	u := &url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	if err := v.s.m.app.OpenURL(u); err != nil {
		showError(v.loadErr, errorText(err))
	}
}

// load reads the newest messages and marks the conversation read.
func (v *inboxConversation) load() {
	v.readNewest(func(msgs []workspace.InboxMessage) {
		showError(v.loadErr, "")
		v.more = len(msgs) >= conversationPage
		v.addNewer(msgs)
		v.scrollToEnd()
		v.atEnd = true
	})
}

// readNewest reads the newest page off the UI thread and marks it read while the
// window has the operator's attention (focused: otherwise what came stays unread,
// counted and notified, until they come back). A read asked for while one runs
// runs again after it, so nothing that arrived meanwhile is missed.
func (v *inboxConversation) readNewest(then func([]workspace.InboxMessage)) {
	if v.loading {
		v.again = true
		return
	}
	var msgs []workspace.InboxMessage
	var err error
	a, openid, markRead := v.s.a, v.openid, v.s.m.inboxWatch.focused
	v.loading, v.again = true, false
	v.s.m.goBackground(func() {
		if msgs, err = v.s.m.ws.InboxMessages(v.s.m.ctx, a, openid, time.Time{}, conversationPage); err != nil || !markRead {
			return
		}
		err = v.s.m.ws.MarkRead(v.s.m.ctx, a, openid)
	}, func() {
		v.loading = false
		if v.s.conv != v {
			return // another conversation was opened meanwhile
		}
		if err != nil {
			showError(v.loadErr, errorText(err))
			return
		}
		then(msgs)
		v.s.m.inboxWatch.refreshUnread()
		if v.again {
			v.onUpdate(v.conv)
		}
	})
}

// scrollToEnd shows the newest message. Rows differ in height and the List learns
// each one's as it first shows it, so its idea of the end moves as the rows near it
// are measured: scroll again until it stays put.
func (v *inboxConversation) scrollToEnd() {
	for i := 0; i < 8; i++ {
		before := v.list.GetScrollOffset()
		v.list.ScrollToBottom()
		if i > 0 && v.list.GetScrollOffset() == before {
			return
		}
	}
}

// addNewer adds the messages not shown yet (a reload after a push, a send) at the end.
func (v *inboxConversation) addNewer(msgs []workspace.InboxMessage) (added bool) {
	for _, m := range msgs {
		if !v.keys[m.Key] {
			v.keys[m.Key] = true
			v.dropEcho(m)
			v.msgs = append(v.msgs, m)
			added = true
		} else if m.MediaPath != "" {
			v.mediaArrived(m)
		}
	}
	if v.more {
		v.earlier.Show()
	} else {
		v.earlier.Hide()
	}
	if added {
		v.list.Refresh()
		v.reply.suggestFor(v.msgs)
	}
	return added
}

// mediaArrived shows a picture or file downloaded after its message was shown.
func (v *inboxConversation) mediaArrived(m workspace.InboxMessage) {
	for i := len(v.msgs) - 1; i >= 0; i-- {
		if v.msgs[i].Key == m.Key {
			if v.msgs[i].MediaPath == "" {
				v.msgs[i] = m
				v.list.RefreshItem(i)
			}
			return
		}
	}
}

// onUpdate reads what arrived since the last message shown, and marks it read.
func (v *inboxConversation) onUpdate(c workspace.InboxConversation) {
	v.conv = c
	v.title.SetText(v.s.customerName(c))
	v.showWindow()
	v.readNewest(func(msgs []workspace.InboxMessage) {
		if n := len(v.msgs); v.addNewer(msgs) && n > 0 {
			v.scrollToEnd() // what just arrived comes into view
		}
	})
}

func (v *inboxConversation) onEarlier() {
	if len(v.msgs) == 0 || v.loading {
		return
	}
	before := v.msgs[0].At
	a, openid := v.s.a, v.openid
	var older []workspace.InboxMessage
	var err error
	v.loading = true
	v.earlier.Disable()
	v.s.m.goBackground(func() {
		older, err = v.s.m.ws.InboxMessages(v.s.m.ctx, a, openid, before, conversationPage)
	}, func() {
		v.earlier.Enable()
		if err != nil {
			v.loading = false
			showError(v.loadErr, errorText(err))
			return
		}
		var add []workspace.InboxMessage
		for _, m := range older {
			if !v.keys[m.Key] {
				v.keys[m.Key] = true
				add = append(add, m)
			}
		}
		v.more = len(older) >= conversationPage
		v.msgs = append(add, v.msgs...)
		if !v.more {
			v.earlier.Hide()
		}
		v.list.Refresh()
		v.list.ScrollTo(len(add)) // the message that was on top stays in view
		// Only now: the Refresh above drew the new oldest row at the old offset, which
		// would have read the page before it too, and so on to the very first.
		v.loading = false
		if v.again {
			v.onUpdate(v.conv)
		}
	})
}

type imageResult struct {
	img image.Image
	err error
}

// afterSend shows a reply WeChat accepted at once. The archive gets it with the next
// getmsglist (a KF message, opercode 2002); then that record takes the echo's place.
func (v *inboxConversation) afterSend(text, kf string) {
	v.echoes++
	m := workspace.InboxMessage{Key: "sent" + strconv.Itoa(v.echoes), At: clock.Now(), Worker: kf, Kind: workspace.KindText, Text: text}
	v.keys[m.Key] = true
	v.msgs = append(v.msgs, m)
	v.list.Refresh()
	v.scrollToEnd()
	v.reply.suggestFor(v.msgs) // answered: the suggestions go
}

// dropEcho removes the echo of a sent reply that the archive now has (same text, sent by KF).
func (v *inboxConversation) dropEcho(m workspace.InboxMessage) {
	if m.FromCustomer || m.Kind != workspace.KindText {
		return
	}
	for i, e := range v.msgs {
		if strings.HasPrefix(e.Key, "sent") && e.Text == m.Text {
			v.msgs = slices.Delete(v.msgs, i, i+1)
			return
		}
	}
}

// messageRow is one row of the conversation list: a session event as a small
// centred line, or a bubble (customer left, KF right) holding what the message is
// — text, a picture's thumbnail, a voice or video file with its length and Open, a
// location, a link or Mini Program card, a menu answer. The List reuses rows: set
// fills the same objects for another message, showing only the parts it needs.
type messageRow struct {
	event *canvas.Text

	bubble   *fyne.Container
	bg       *canvas.Rectangle
	meta     *canvas.Text
	body     *wrapLabel
	picture  *canvas.Image
	pictureT *tapArea
	file     *fyne.Container
	fileText *widget.Label
	open     *widget.Button
	card     *fyne.Container
	cardHead *widget.Label
	cardURL  *wrapLabel

	right bool
	width float32
	obj   *fyne.Container
}

// thumbBox is the size a picture's thumbnail is shown at; pictureSide its pixels (HiDPI).
var thumbBox = fyne.NewSize(180, 135)

const pictureSide = 360

func newMessageRow() *messageRow {
	r := &messageRow{}
	r.event = canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
	r.event.TextSize = theme.CaptionTextSize()
	r.event.Alignment = fyne.TextAlignCenter
	r.bg = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	r.bg.CornerRadius = 8
	r.meta = canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))
	r.meta.TextSize = theme.CaptionTextSize()
	r.body = newWrapLabel("")
	r.picture = canvas.NewImageFromImage(nil)
	r.picture.FillMode = canvas.ImageFillContain
	r.picture.SetMinSize(thumbBox)
	r.pictureT = newTapArea(r.picture)
	r.fileText = widget.NewLabel("")
	r.open = widget.NewButtonWithIcon(T("Open"), theme.FolderOpenIcon(), nil)
	r.file = container.NewHBox(r.fileText, r.open)
	r.cardHead = widget.NewLabel("")
	r.cardHead.TextStyle.Bold = true
	r.cardHead.Wrapping = fyne.TextWrapWord
	r.cardURL = newWrapLabel("")
	r.cardURL.Importance = widget.LowImportance
	r.card = container.NewVBox(r.cardHead, r.cardURL)
	r.bubble = container.NewStack(r.bg, container.NewVBox(container.NewPadded(r.meta), r.body, container.NewPadded(r.pictureT), r.file, r.card))
	r.obj = container.New(&messageRowLayout{r: r}, container.NewPadded(r.event), r.bubble)
	return r
}

// rowOf finds the messageRow of a List row object.
func rowOf(o fyne.CanvasObject) *messageRow { return o.(*fyne.Container).Layout.(*messageRowLayout).r }

// set shows m in the row. thumb is the picture's thumbnail (nil while it loads); onOpen
// opens the message's media file; onPicture shows the picture full size.
func (r *messageRow) set(m workspace.InboxMessage, thumb image.Image, onOpen, onPicture func()) {
	when := workspace.FormatTime(m.At, "01-02 15:04")
	if m.Kind == workspace.KindEvent {
		r.event.Text = eventLine(m) + " · " + when
		r.event.Refresh()
		r.event.Show()
		r.bubble.Hide()
		return
	}
	r.event.Hide()
	r.bubble.Show()
	r.right = !m.FromCustomer
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.meta.Text = when
	if r.right {
		r.bg.FillColor = bubbleGreen
		r.meta.Text = workerName(m.Worker) + " · " + when
	}
	r.bg.Refresh()
	r.meta.Refresh()

	text, file, card := messageText(m), "", false
	switch m.Kind {
	case kindImage:
		r.picture.Image = thumb
		r.picture.Refresh()
		r.pictureT.onTap = onPicture
		r.pictureT.Show()
		if thumb == nil && m.MediaPath == "" {
			r.pictureT.Hide()
		}
	case kindVoice, kindVideo, kindShortVideo:
		file = mediaLine(m)
	case kindLink, kindMiniProgram:
		card = true
	}
	if m.Kind != kindImage {
		r.pictureT.Hide()
	}
	r.body.SetText(text)
	if text == "" {
		r.body.Hide()
	} else {
		r.body.Show()
	}
	if file != "" {
		r.fileText.SetText(file)
		r.open.OnTapped = onOpen
		if m.MediaPath == "" {
			r.open.Disable()
		} else {
			r.open.Enable()
		}
		r.file.Show()
	} else {
		r.file.Hide()
	}
	if card {
		r.cardHead.SetText(cardTitle(m))
		r.cardURL.SetText(m.URL)
		r.card.Show()
	} else {
		r.card.Hide()
	}
	r.width = messageWidth(m, text, r.meta)
}

// The kinds of InboxMessage (workspace.InboxMessage.Kind) beside text, menu and event.
const (
	kindImage       = api.TypeImage
	kindVoice       = api.TypeVoice
	kindVideo       = api.TypeVideo
	kindShortVideo  = "shortvideo"
	kindLocation    = "location"
	kindLink        = api.TypeLink
	kindMiniProgram = api.TypeMiniProgramPage
)

// locationText is a location's address, or its coordinates when it has none.
func locationText(l *storage.Location) string {
	switch {
	case l == nil:
		return T("Location")
	case l.Label != "":
		return T("Location: %s", l.Label)
	}
	return T("Location: %s", fmt.Sprintf("%.5f, %.5f", l.X, l.Y))
}

// messageText is what the bubble's text says: the message, or what kind it is.
func messageText(m workspace.InboxMessage) string {
	switch m.Kind {
	case workspace.KindText:
		return m.Text
	case kindImage:
		if m.MediaPath == "" {
			return T("[Picture, not downloaded]")
		}
		return ""
	case kindLocation:
		return locationText(m.Location)
	case workspace.KindMenu:
		return T("Chose %s", m.MenuChoice)
	case kindLink, kindMiniProgram, kindVoice, kindVideo, kindShortVideo:
		return ""
	}
	if m.Text != "" {
		return m.Text
	}
	return T("[Message of a kind KF Desk does not show]")
}

func cardTitle(m workspace.InboxMessage) string {
	prefix := T("Link")
	if m.Kind == kindMiniProgram {
		prefix = T("Mini Program card")
	}
	if m.Title == "" {
		return prefix
	}
	return prefix + " · " + m.Title
}

// mediaLine names a voice or video file with its length.
func mediaLine(m workspace.InboxMessage) string {
	kind := T("Voice")
	if m.Kind == kindVideo || m.Kind == kindShortVideo {
		kind = T("Video")
	}
	if m.Duration > 0 {
		kind += " " + clockDuration(m.Duration)
	}
	if m.MediaPath == "" {
		kind += " · " + T("not downloaded")
	}
	return kind
}

// clockDuration is 0:07 or 1:02:03.
func clockDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// eventLine names a session event (follow, session opened by a KF account…).
func eventLine(m workspace.InboxMessage) string {
	t := m.EventText(Chinese())
	if m.Worker != "" {
		t += " · " + workerName(m.Worker)
	}
	return t
}

// messageWidth fits the bubble to its text, up to bubbleMaxWidth; pictures and cards take the most.
func messageWidth(m workspace.InboxMessage, text string, meta *canvas.Text) float32 {
	switch m.Kind {
	case kindImage, kindLink, kindMiniProgram, kindVoice, kindVideo, kindShortVideo:
		return max(fitBubbleWidth(text, meta), thumbBox.Width+4*theme.Padding())
	}
	return fitBubbleWidth(text, meta)
}

// messageRowLayout puts the event line across the row, or the bubble at its width on its side.
type messageRowLayout struct{ r *messageRow }

func (l *messageRowLayout) bubbleSize(avail float32) fyne.Size {
	w := min(l.r.width, max(avail, 1))
	// A wrapping label knows its height once it has its width.
	l.r.bubble.Resize(fyne.NewSize(w, l.r.bubble.MinSize().Height))
	return fyne.NewSize(w, l.r.bubble.MinSize().Height)
}

func (l *messageRowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if l.r.event.Visible() {
		objs[0].Move(fyne.NewPos(0, 0))
		objs[0].Resize(size)
		return
	}
	s := l.bubbleSize(size.Width)
	x := float32(0)
	if l.r.right {
		x = size.Width - s.Width
	}
	objs[1].Move(fyne.NewPos(x, 0))
	objs[1].Resize(s)
}

func (l *messageRowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if l.r.event.Visible() {
		return objs[0].MinSize()
	}
	s := l.bubbleSize(l.r.width)
	return fyne.NewSize(min(s.Width, 120), s.Height+theme.Padding())
}

// tapArea makes any object tappable (a thumbnail opens the picture full size).
type tapArea struct {
	widget.BaseWidget
	obj   fyne.CanvasObject
	onTap func()
}

func newTapArea(obj fyne.CanvasObject) *tapArea {
	t := &tapArea{obj: obj}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapArea) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.obj) }

func (t *tapArea) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

// pictures caches the conversation's thumbnails by file path for the session.
var pictures = &thumbCache{m: map[string]*thumbEntry{}}

// loadPicture reads and scales a picture file: never on the UI thread.
func loadPicture(path string, side int) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := photo.Decode(data)
	if err != nil || side <= 0 {
		return img, err
	}
	b := img.Bounds()
	if b.Dx() <= side && b.Dy() <= side {
		return img, nil
	}
	w, h := side, b.Dy()*side/b.Dx()
	if b.Dy() > b.Dx() {
		w, h = b.Dx()*side/b.Dy(), side
	}
	return photo.Scale(img, max(w, 1), max(h, 1)), nil
}
