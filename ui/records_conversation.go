package ui

import (
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// conversationView shows one customer's conversation as chat bubbles around the
// selected record: the customer on the left, KF on the right, session events as
// small centred lines. It loads a window of records either side of the selected
// one; "Earlier"/"Later" load more.
type conversationView struct {
	s        *recordsScreen
	openid   string
	selected int64

	recs                  []storage.Record
	moreBefore, moreAfter bool
	state                 storage.Customer

	title          *widget.Label
	window         *wrapLabel
	reply          *widget.Button
	earlier, later *widget.Button
	box            *fyne.Container
	scroll         *container.Scroll
	selectedRow    fyne.CanvasObject
	loadErr        *wrapLabel
	nowFunc        func() time.Time
}

// conversationWindow is how many records are loaded each side of the selected one, and per "Earlier"/"Later".
const conversationWindow = 150

func newConversationView(s *recordsScreen, r storage.Record) *conversationView {
	return &conversationView{s: s, openid: r.OpenID, selected: r.ID, nowFunc: clock.Now}
}

func (v *conversationView) buildUI() fyne.CanvasObject {
	v.title = widget.NewLabel(v.s.customerTitle(v.openid))
	v.title.TextStyle.Bold = true
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.window = newWrapLabel(T("Checking the 48-hour reply window…"))
	v.reply = widget.NewButtonWithIcon(T("Reply"), theme.MailReplyIcon(), func() { v.s.onReply(v.openid) })
	v.reply.Importance = widget.HighImportance
	v.earlier = widget.NewButton(T("Earlier messages"), v.onEarlier)
	v.later = widget.NewButton(T("Later messages"), v.onLater)
	v.earlier.Hide()
	v.later.Hide()
	v.loadErr = newErrorLabel()
	v.box = container.NewVBox()
	v.scroll = container.NewVScroll(v.box)
	v.load()
	top := container.NewVBox(container.NewBorder(nil, nil, nil, v.reply, v.title), v.window, v.loadErr, widget.NewSeparator())
	return container.NewBorder(top, nil, nil, nil, v.scroll)
}

// customerTitle names a customer fully: their note and OpenID.
func (s *recordsScreen) customerTitle(openid string) string {
	if n := s.notes[openid]; n != "" {
		return n + " · " + openid
	}
	return T("Customer %s", openid)
}

// load reads the records around the selected one and the customer's reply window.
func (v *conversationView) load() {
	db, acct := v.s.m.ws.DB, v.s.account.ID
	var before, after storage.RecordPage
	var state storage.Customer
	var err error
	v.s.m.goBackground(func() {
		ctx := v.s.m.ctx
		// Newest first below the selected id, then oldest first from it.
		if before, err = db.SearchRecords(ctx, acct, storage.RecordFilter{OpenID: v.openid}, storage.RecordCursor(v.selected), conversationWindow); err != nil {
			return
		}
		if after, err = db.Conversation(ctx, acct, v.openid, storage.RecordCursor(v.selected-1), conversationWindow); err != nil {
			return
		}
		state, err = db.CustomerState(ctx, acct, v.openid)
	}, func() {
		if v.s.conv != v {
			return // another record was selected meanwhile
		}
		if err != nil {
			showError(v.loadErr, errorText(err))
			return
		}
		slices.Reverse(before.Records)
		v.recs = append(before.Records, after.Records...)
		v.moreBefore, v.moreAfter, v.state = before.More, after.More, state
		v.showWindow()
		v.render()
		v.scrollToSelected()
		// Once more after the window has laid the panel out at its real size.
		v.s.m.goBackground(func() {}, func() {
			v.scroll.Refresh()
			v.scrollToSelected()
		})
	})
}

func (v *conversationView) onEarlier() { v.loadMore(true) }
func (v *conversationView) onLater()   { v.loadMore(false) }

// loadMore adds the next window of records before the first or after the last shown.
func (v *conversationView) loadMore(earlier bool) {
	if len(v.recs) == 0 {
		return
	}
	var page storage.RecordPage
	var err error
	db, acct, first, last := v.s.m.ws.DB, v.s.account.ID, v.recs[0].ID, v.recs[len(v.recs)-1].ID
	v.s.m.goBackground(func() {
		if earlier {
			page, err = db.SearchRecords(v.s.m.ctx, acct, storage.RecordFilter{OpenID: v.openid}, storage.RecordCursor(first), conversationWindow)
		} else {
			page, err = db.Conversation(v.s.m.ctx, acct, v.openid, storage.RecordCursor(last), conversationWindow)
		}
	}, func() {
		if err != nil {
			showError(v.loadErr, errorText(err))
			return
		}
		if earlier {
			slices.Reverse(page.Records)
			v.recs, v.moreBefore = append(page.Records, v.recs...), page.More
		} else {
			v.recs, v.moreAfter = append(v.recs, page.Records...), page.More
		}
		v.render()
	})
}

// showWindow says whether a reply is still allowed, going by the archive.
func (v *conversationView) showWindow() {
	c := v.state
	w := c.Reply(v.nowFunc())
	v.window.Importance = widget.WarningImportance
	switch w.State {
	case api.ReplyOpen:
		v.window.Importance = widget.SuccessImportance
		v.window.SetText(T("48-hour window open until %s: %d of %d replies left.", workspace.FormatTime(w.Until, "01-02 15:04"),
			w.Left, api.ReplyLimit))
	case api.ReplyUnknown:
		v.window.SetText(T("48-hour window closed: this customer has not written to you in the archived days. WeChat accepts a reply only within 48 hours of their message."))
	case api.ReplyUsedUp:
		v.window.SetText(T("48-hour window used up: %d replies were sent since their last message. Wait until they write again.", c.RepliesSince))
	default:
		v.window.SetText(T("48-hour window closed on %s. WeChat accepts a reply again after the customer writes.", workspace.FormatTime(w.Until, "01-02 15:04")))
	}
	v.window.Refresh()
}

// render rebuilds the bubbles.
func (v *conversationView) render() {
	objs := make([]fyne.CanvasObject, 0, len(v.recs)+2)
	if v.moreBefore {
		objs = append(objs, container.NewCenter(v.earlier))
		v.earlier.Show()
	}
	v.selectedRow = nil
	for _, r := range v.recs {
		row := chatRow(r, r.ID == v.selected)
		if r.ID == v.selected {
			v.selectedRow = row
		}
		objs = append(objs, row)
	}
	if v.moreAfter {
		objs = append(objs, container.NewCenter(v.later))
		v.later.Show()
	}
	objs = append(objs, layout.NewSpacer(), canvas.NewRectangle(color.Transparent)) // room below the last bubble
	objs[len(objs)-1].(*canvas.Rectangle).SetMinSize(fyne.NewSize(1, 3*theme.Padding()))
	v.box.Objects = objs
	v.box.Refresh()
	v.scroll.Refresh()
}

// scrollToSelected brings the selected message into view, a third down the panel
// so the messages just before it show too.
func (v *conversationView) scrollToSelected() {
	if v.selectedRow == nil {
		return
	}
	y := v.selectedRow.Position().Y - v.scroll.Size().Height/3
	v.scroll.ScrollToOffset(fyne.NewPos(0, max(y, 0)))
}

// bubbleMaxWidth caps a bubble's width, so its height does not depend on the panel's.
const bubbleMaxWidth = 340

// chatRow is one record: an event line or a bubble on its side.
func chatRow(r storage.Record, selected bool) fyne.CanvasObject {
	when := workspace.FormatTime(r.Time, "01-02 15:04")
	dir := api.OperCodeDirection(r.OperCode)
	if dir == api.DirEvent || dir == api.DirOther {
		t := api.OperCodeName(r.OperCode, Chinese()) + " · " + when
		if r.Worker != "" {
			t = api.OperCodeName(r.OperCode, Chinese()) + " · " + workerName(r.Worker) + " · " + when
		}
		line := canvas.NewText(t, theme.Color(theme.ColorNamePlaceHolder))
		line.TextSize = theme.CaptionTextSize()
		line.Alignment = fyne.TextAlignCenter
		if selected {
			line.Color = theme.Color(theme.ColorNamePrimary)
		}
		return container.NewPadded(line)
	}
	right := dir == api.DirOut
	meta := when
	if right {
		meta = workerName(r.Worker) + " · " + when
	}
	metaText := canvas.NewText(meta, theme.Color(theme.ColorNamePlaceHolder))
	metaText.TextSize = theme.CaptionTextSize()
	text := r.Text
	if text == "" {
		text = api.OperCodeName(r.OperCode, Chinese())
	}
	body := newWrapLabel(text)
	fill := theme.Color(theme.ColorNameInputBackground)
	if right {
		fill = bubbleGreen
	}
	bg := canvas.NewRectangle(fill)
	bg.CornerRadius = 8
	if selected {
		bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
		bg.StrokeWidth = 2
	}
	bubble := container.NewStack(bg, container.NewVBox(container.NewPadded(metaText), body))
	width := fitBubbleWidth(text, metaText)
	return container.New(&bubbleLayout{right: right, width: width}, bubble)
}

// bubbleGreen is the KF side's bubble, the light green chat apps use for "mine".
var bubbleGreen = color.NRGBA{R: 0x95, G: 0xec, B: 0x69, A: 0x90}

// fitBubbleWidth fits the longest line of the text (and the time line), up to bubbleMaxWidth.
func fitBubbleWidth(text string, meta *canvas.Text) float32 {
	w := meta.MinSize().Width + 2*theme.Padding()
	for _, line := range strings.Split(text, "\n") {
		w = max(w, fyne.MeasureText(line, theme.TextSize(), fyne.TextStyle{}).Width)
	}
	return min(w+2*theme.InnerPadding()+2, bubbleMaxWidth)
}

// bubbleLayout puts its one object, a fixed width wide, on the left or the right.
type bubbleLayout struct {
	right bool
	width float32
	sized bool
}

func (l *bubbleLayout) size(o fyne.CanvasObject) fyne.Size {
	if !l.sized { // a wrapping label knows its height once it has its width
		o.Resize(fyne.NewSize(l.width, o.MinSize().Height))
		l.sized = true
	}
	return fyne.NewSize(l.width, o.MinSize().Height)
}

func (l *bubbleLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	s := l.size(objs[0])
	w := min(s.Width, size.Width)
	x := float32(0)
	if l.right {
		x = size.Width - w
	}
	objs[0].Move(fyne.NewPos(x, 0))
	objs[0].Resize(fyne.NewSize(w, s.Height))
}

func (l *bubbleLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := l.size(objs[0])
	return fyne.NewSize(min(s.Width, 120), s.Height)
}
