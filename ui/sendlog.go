package ui

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

const sendLogPage = 100

// sendLogView is the send log: every attempt, newest first, with the exact body
// and the explained result.
type sendLogView struct {
	s       *composerScreen
	entries []storage.SendLogEntry
	list    *widget.List
	detail  *widget.Entry
	more    *widget.Button
}

func (s *composerScreen) onSendLog() {
	v := &sendLogView{s: s}
	v.list = widget.NewList(func() int { return len(v.entries) },
		func() fyne.CanvasObject {
			return widget.NewLabel("template 2006-01-02 15:04:05 text oXXXXXXXXXXXXXXXXXXXXXXXXXXX")
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.summary(v.entries[i])) })
	v.detail = widget.NewMultiLineEntry()
	v.detail.Wrapping = fyne.TextWrapWord
	v.list.OnSelected = func(i widget.ListItemID) { v.detail.SetText(v.describe(v.entries[i])) }
	v.more = widget.NewButton(T("Older…"), v.load)
	v.load()
	split := container.NewVSplit(v.list, container.NewBorder(nil, v.more, nil, nil, v.detail))
	split.Offset = 0.6
	d := dialog.NewCustom(T("Send log"), T("Close"), split, s.m.win)
	d.Resize(fyne.NewSize(900, 600))
	s.sendLog = v
	d.Show()
}

// load appends the next page of older entries.
func (v *sendLogView) load() {
	before := int64(0)
	if n := len(v.entries); n > 0 {
		before = v.entries[n-1].ID
	}
	v.more.Disable()
	var page []storage.SendLogEntry
	var err error
	v.s.m.goBackground(func() { page, err = v.s.m.ws.DB.SendLog(v.s.m.ctx, v.s.a.ID, before, sendLogPage) }, func() {
		if err != nil {
			v.detail.SetText(errorText(err))
			v.more.Enable()
			return
		}
		v.entries = append(v.entries, page...)
		if len(page) == sendLogPage {
			v.more.Enable()
		}
		v.list.Refresh()
	})
}

func (v *sendLogView) summary(e storage.SendLogEntry) string {
	return workspace.FormatTime(e.Time, "2006-01-02 15:04:05") + "  " + v.result(e) + "  " + T(typeLabels[e.MsgType]) + "  » " + v.s.recipientName(e.ToUser)
}

func (v *sendLogView) result(e storage.SendLogEntry) string {
	switch e.Status {
	case storage.SendOK:
		return T("sent")
	case storage.SendUnknown:
		return "? " + T("unknown")
	}
	if e.ErrCode != nil {
		return "× " + T("error %d", *e.ErrCode)
	}
	return "× " + T("failed")
}

// describe is the selected entry in full: who, as whom, the result explained, the body.
func (v *sendLogView) describe(e storage.SendLogEntry) string {
	text := T("Time: %s", workspace.FormatTime(e.Time, "2006-01-02 15:04:05")) + "\n" + T("To: %s", e.ToUser)
	if e.KFAccount != "" {
		text += "\n" + T("Sent as: %s", e.KFAccount)
	}
	text += "\n" + T("Result: %s", v.result(e))
	switch {
	case e.Status == storage.SendFailed && e.ErrCode != nil:
		zh, en := api.Explain(*e.ErrCode, e.Error)
		text += "\n" + Bilingual(zh, en)
	case e.Status == storage.SendUnknown:
		text += "\n" + T("No clear answer from WeChat (%s): check with the customer whether it arrived before sending again.", e.Error)
	case e.Error != "":
		text += "\n" + e.Error
	}
	return text + "\n\n" + T("Body (errcode %s):", codeText(e.ErrCode)) + "\n" + e.Body
}

func codeText(c *int) string {
	if c == nil {
		return "—"
	}
	return strconv.Itoa(*c)
}
