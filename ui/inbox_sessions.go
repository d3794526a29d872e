package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// sessionsPanel is the queue and the sessions (workspace/sessions.go): customers
// waiting for a KF account, with how long they have waited, and each KF account's
// open sessions; take a waiting customer, close or transfer a session. The KF
// account chosen at the top takes and receives transfers. A failure is explained
// in the panel, beside the lists it concerns, and the lists stay as they were.
type sessionsPanel struct {
	m       *MainWindow
	account storage.Account
	loads   int  // reload generation: only the latest answer is shown
	acting  bool // a take, close or transfer is on its way: the row buttons wait

	waiting  api.WaitCases
	sessions []workspace.KFSessions
	notes    map[string]string // the operator's notes on customers, by openid
	kfs      []api.KFAccount   // the bound KF accounts the chooser offers, in its order
	// open, if set, shows a customer's conversation (a tap on their line): what they
	// wrote is read before they are taken.
	open func(openid string)

	kfSelect        *widget.Select
	refresh         *widget.Button
	busy            *widget.ProgressBarInfinite
	problem, notice *wrapLabel
	waitTitle       *widget.Label
	waitBox, served *fyne.Container
	root            *fyne.Container // re-laid out when a line appears or a list changes

	// The row buttons by openid, rebuilt with the lists.
	take, closeB, transfer map[string]*widget.Button
}

func newSessionsPanel(m *MainWindow) *sessionsPanel {
	p := &sessionsPanel{m: m, account: m.account}
	p.kfSelect = widget.NewSelect(nil, func(string) { p.updateButtons() })
	p.kfSelect.PlaceHolder = T("Choose a KF account")
	p.refresh = widget.NewButtonWithIcon(T("Refresh"), theme.ViewRefreshIcon(), func() { p.reload(p.account) })
	p.busy = widget.NewProgressBarInfinite()
	p.busy.Hide()
	p.problem = newErrorLabel()
	p.notice = newWrapLabel("")
	p.notice.Importance = widget.SuccessImportance
	p.notice.Hide()
	p.waitTitle = heading(T("Waiting"))
	p.waitBox = container.NewVBox()
	p.served = container.NewVBox()
	return p
}

// content is the panel, for the inbox page to embed.
func (p *sessionsPanel) content() fyne.CanvasObject {
	top := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel(T("Take / transfer to:")), p.refresh, p.kfSelect),
		p.busy, p.problem, p.notice)
	lists := container.NewVBox(p.waitTitle, p.waitBox, widget.NewSeparator(), heading(T("Open sessions")), p.served)
	p.root = container.NewBorder(top, nil, nil, nil, container.NewVScroll(lists))
	return p.root
}

// relayout fits the panel to lines shown or hidden and lists rebuilt.
func (p *sessionsPanel) relayout() {
	if p.root != nil {
		p.root.Refresh()
	}
}

// reload reads the waiting list and every KF account's sessions in the background.
func (p *sessionsPanel) reload(a storage.Account) {
	if a.ID != p.account.ID {
		p.waiting, p.sessions = api.WaitCases{}, nil
		showError(p.notice, "") // showError sets or hides any line
		showError(p.problem, "")
	}
	p.account = a
	p.loads++
	gen := p.loads
	if a.Kind == storage.KindMP {
		showError(p.problem, T("Mini Programs have no session API: customers are assigned in the 客服小助手 mini program or at mpkf.weixin.qq.com."))
		p.show()
		return
	}
	p.refresh.Disable()
	p.busy.Show()
	p.busy.Start()
	var waiting api.WaitCases
	var sessions []workspace.KFSessions
	var notes map[string]string
	var err error
	p.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(p.m.ctx, time.Minute)
		defer cancel()
		if waiting, err = p.m.ws.WaitingCustomers(ctx, a); err == nil {
			sessions, err = p.m.ws.Sessions(ctx, a)
		}
		if err == nil {
			notes, err = p.m.ws.DB.Notes(ctx, a.ID)
		}
	}, func() {
		if gen != p.loads {
			return
		}
		p.refresh.Enable()
		p.busy.Stop()
		p.busy.Hide()
		if err != nil {
			showError(p.problem, errorText(err)) // the old lists stay
			p.relayout()
			return
		}
		p.waiting, p.sessions, p.notes = waiting, sessions, notes
		p.show()
	})
}

// show rebuilds the chooser and both lists from the last answers.
func (p *sessionsPanel) show() {
	chosen := p.chosenKF()
	p.kfs = nil
	var options []string
	for _, ks := range p.sessions {
		if ks.KF.WX == "" {
			continue // no worker: it cannot serve
		}
		p.kfs = append(p.kfs, ks.KF)
		options = append(options, kfChoice(ks.KF))
	}
	p.kfSelect.SetOptions(options)
	p.kfSelect.ClearSelected()
	for i, k := range p.kfs {
		if k.Account == chosen || (chosen == "" && k.Online()) {
			p.kfSelect.SetSelectedIndex(i)
			break
		}
	}

	p.take, p.closeB, p.transfer = map[string]*widget.Button{}, map[string]*widget.Button{}, map[string]*widget.Button{}
	p.waitTitle.SetText(T("Waiting (%d)", p.waiting.Count))
	p.waitBox.RemoveAll()
	now := clock.Now()
	for _, w := range p.waiting.List {
		openid := w.OpenID
		at := time.Unix(w.LatestTime, 0)
		b := widget.NewButtonWithIcon(T("Take"), theme.ContentAddIcon(), func() { p.onTake(openid) })
		p.take[openid] = b
		p.waitBox.Add(p.customerLine(openid, T("%s · waiting %s (last message %s)", p.who(openid), durationText(now.Sub(at)), workspace.FormatTime(at, "01-02 15:04")), b))
	}
	if len(p.waiting.List) == 0 {
		p.waitBox.Add(widget.NewLabel(T("Nobody is waiting.")))
	} else if p.waiting.Count > len(p.waiting.List) {
		p.waitBox.Add(widget.NewLabel(T("WeChat lists only the first %d.", len(p.waiting.List))))
	}

	p.served.RemoveAll()
	for _, ks := range p.sessions {
		if ks.KF.WX == "" {
			continue
		}
		p.served.Add(widget.NewLabelWithStyle(T("%s · serving %d", kfChoice(ks.KF), len(ks.Sessions)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, s := range ks.Sessions {
			kf, openid := ks.KF.Account, s.OpenID
			c := widget.NewButtonWithIcon(T("Close"), theme.CancelIcon(), func() { p.onClose(kf, openid) })
			t := widget.NewButtonWithIcon(T("Transfer"), theme.MailForwardIcon(), func() { p.onTransfer(kf, openid) })
			p.closeB[openid], p.transfer[openid] = c, t
			since := workspace.FormatTime(time.Unix(s.CreateTime, 0), "01-02 15:04")
			p.served.Add(p.customerLine(openid, T("%s · since %s", p.who(openid), since), t, c))
		}
	}
	p.updateButtons()
	p.relayout()
}

// who names a customer as the conversation list does: the operator's note, or the
// openid's end (…fql3Kq); with the note, the end too (notes may repeat).
func (p *sessionsPanel) who(openid string) string {
	if n := p.notes[openid]; n != "" {
		return n + " · " + workspace.ShortOpenID(openid)
	}
	return workspace.ShortOpenID(openid)
}

// customerLine is a customer's line, wrapped to fit the panel (the conversation
// beside it keeps its room), and 查看 / Read, which opens their conversation there.
func (p *sessionsPanel) customerLine(openid, text string, buttons ...fyne.CanvasObject) fyne.CanvasObject {
	line := widget.NewLabel(text)
	line.Wrapping = fyne.TextWrapWord
	read := widget.NewButtonWithIcon(T("Read"), theme.VisibilityIcon(), func() {
		if p.open != nil {
			p.open(openid)
		}
	})
	read.Importance = widget.LowImportance
	actions := container.NewCenter(container.NewHBox(append([]fyne.CanvasObject{read}, buttons...)...)) // not stretched to the line's height
	return container.NewBorder(nil, nil, nil, actions, line)
}

// kfChoice names a KF account with its status: "小美 xiaomei@shop · online".
func kfChoice(k api.KFAccount) string {
	if k.Online() {
		return T("%s %s · online", k.Nick, k.Account)
	}
	return T("%s %s · offline", k.Nick, k.Account)
}

// chosenKF is the KF account chosen at the top ("" when none).
func (p *sessionsPanel) chosenKF() string {
	if i := p.kfSelect.SelectedIndex(); i >= 0 && i < len(p.kfs) {
		return p.kfs[i].Account
	}
	return ""
}

// updateButtons: taking needs a chosen account; a session is not transferred to its
// own; nothing is tapped twice while a call is on its way.
func (p *sessionsPanel) updateButtons() {
	chosen := p.chosenKF()
	for _, b := range p.take {
		enableIf(b, chosen != "" && !p.acting)
	}
	for _, b := range p.closeB {
		enableIf(b, !p.acting)
	}
	for _, ks := range p.sessions {
		for _, s := range ks.Sessions {
			if b := p.transfer[s.OpenID]; b != nil {
				enableIf(b, chosen != "" && chosen != ks.KF.Account && !p.acting)
			}
		}
	}
}

func enableIf(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func (p *sessionsPanel) onTake(openid string) {
	kf := p.chosenKF()
	p.act(openid, T("%s now serves %s.", kf, p.who(openid)), func(ctx context.Context) error {
		return p.m.ws.TakeCustomer(ctx, p.account, kf, openid)
	})
}

func (p *sessionsPanel) onClose(kf, openid string) {
	p.act(openid, T("Closed the session of %s with %s.", kf, p.who(openid)), func(ctx context.Context) error {
		return p.m.ws.CloseSession(ctx, p.account, kf, openid)
	})
}

func (p *sessionsPanel) onTransfer(from, openid string) {
	to := p.chosenKF()
	p.act(openid, T("%s is now served by %s.", p.who(openid), to), func(ctx context.Context) error {
		return p.m.ws.TransferSession(ctx, p.account, from, to, openid)
	})
}

// act runs a session call in the background; success shows done and reloads, a
// failure is explained in the panel (the lists stay as they were).
func (p *sessionsPanel) act(openid, done string, work func(ctx context.Context) error) {
	showError(p.notice, "") // showError sets or hides any line
	showError(p.problem, "")
	p.acting = true
	p.updateButtons()
	p.busy.Show()
	p.busy.Start()
	a := p.account
	var err error
	p.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(p.m.ctx, time.Minute)
		defer cancel()
		err = work(ctx)
	}, func() {
		p.acting = false
		p.busy.Stop()
		p.busy.Hide()
		p.updateButtons()
		if a.ID != p.account.ID {
			return // the operator moved to another account meanwhile
		}
		if err != nil {
			showError(p.problem, T("Customer %s: %s", p.who(openid), errorText(err)))
			p.relayout()
			return
		}
		showError(p.notice, done)
		p.reload(a)
	})
}
