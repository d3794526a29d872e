package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
)

// pushSection is Settings → account → 接收服务器 Push server: paste the connection
// code that `kfdesk serve key add` printed, test it, connect; the inbox then gets
// messages from the server within a second instead of polling WeChat. The code holds
// the desktop key: it is typed into a password field and kept in the secret store.
type pushSection struct {
	m *MainWindow
	a storage.Account

	box                   *fyne.Container
	state                 *wrapLabel
	code                  *widget.Entry
	test, connect, remove *widget.Button
	result                *wrapLabel
	server                string // the connected server's address ("" = none)
}

func newPushSection(m *MainWindow) *pushSection {
	return &pushSection{m: m}
}

func (p *pushSection) buildUI() fyne.CanvasObject {
	p.state = newWrapLabel("")
	p.code = widget.NewPasswordEntry()
	p.code.SetPlaceHolder(T("Paste the connection code (kfdesk1.…)"))
	p.test = widget.NewButtonWithIcon(T("Test"), theme.ConfirmIcon(), p.onTest)
	p.connect = widget.NewButtonWithIcon(T("Connect"), theme.LoginIcon(), p.onConnect)
	p.connect.Importance = widget.HighImportance
	p.remove = widget.NewButtonWithIcon(T("Disconnect"), theme.LogoutIcon(), p.onRemove)
	p.result = newWrapLabel("")
	help := newWrapLabel(T("With a push server (kfdesk serve), new messages reach the inbox within a second, with their pictures and voice. On the server, run kfdesk serve key add and paste the code it prints here. Without one, the inbox asks WeChat every minute while the window is open."))
	help.Importance = widget.LowImportance
	p.box = container.NewVBox(widget.NewSeparator(), heading(T("Push server")), p.state, p.code,
		container.NewHBox(p.test, p.connect, p.remove), p.result, help)
	p.box.Hide()
	return p.box
}

// show shows the section for an account (the one selected in the list), reading its server off the UI thread.
func (p *pushSection) show(a storage.Account, ok bool) {
	p.a = a
	p.result.SetText("")
	p.code.SetText("")
	if !ok || a.Demo {
		p.box.Hide()
		return
	}
	p.box.Show()
	p.state.SetText(T("Reading…"))
	var server string
	var has bool
	var err error
	p.m.goBackground(func() {
		server, has, err = p.m.ws.PushServer(p.m.ctx, a)
	}, func() {
		if p.a.ID != a.ID {
			return
		}
		if err != nil {
			p.state.SetText(errorText(err))
			return
		}
		if !has {
			server = ""
		}
		p.showState(server)
	})
}

func (p *pushSection) showState(server string) {
	p.server = server
	if server == "" {
		p.state.SetText(T("No push server: the inbox polls WeChat while the window is open."))
		p.remove.Disable()
		return
	}
	p.state.SetText(T("Connected to the push server %s.", server))
	p.remove.Enable()
}

func (p *pushSection) onTest() {
	code := pastedCredential(p.code.Text)
	if code == "" {
		p.result.SetText("× " + T("Paste the connection code first."))
		return
	}
	p.test.Disable()
	p.result.SetText(T("Testing the push server…"))
	var err error
	p.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(p.m.ctx, 30*time.Second)
		defer cancel()
		err = p.m.ws.TestPushServer(ctx, code)
	}, func() {
		p.test.Enable()
		if err != nil {
			p.result.SetText("× " + errorText(err))
			return
		}
		p.result.SetText(T("The push server answered and accepts this code."))
	})
}

func (p *pushSection) onConnect() {
	code := pastedCredential(p.code.Text)
	if code == "" {
		p.result.SetText("× " + T("Paste the connection code first."))
		return
	}
	a := p.a
	p.connect.Disable()
	p.result.SetText(T("Testing the push server…"))
	var server string
	var err error
	p.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(p.m.ctx, 30*time.Second)
		defer cancel()
		if err = p.m.ws.SetPushServer(ctx, a, code); err == nil {
			server, _, err = p.m.ws.PushServer(ctx, a)
		}
	}, func() {
		p.connect.Enable()
		if err != nil {
			p.result.SetText("× " + errorText(err)) // the code stays in the field
			return
		}
		p.code.SetText("")
		p.result.SetText(T("Connected. New messages now come from the push server."))
		p.showState(server)
		p.m.inboxWatch.restart()
	})
}

func (p *pushSection) onRemove() {
	a := p.a
	askFirst(p.m.win, T("Disconnect"), T("Stop receiving from the push server %s? The inbox then polls WeChat while the window is open.", p.server), T("Disconnect"), func() {
		p.m.save(func(ctx context.Context) error { return p.m.ws.RemovePushServer(ctx, a) }, func(err error) {
			if err != nil {
				p.result.SetText("× " + errorText(err))
				return
			}
			p.result.SetText("")
			p.showState("")
			p.m.inboxWatch.restart()
		})
	})
}

// notifySetting is the check that turns the new-message notifications on and off.
func notifySetting(m *MainWindow) fyne.CanvasObject {
	c := widget.NewCheck(T("New-message notifications"), nil)
	c.SetChecked(!m.inboxWatch.notifyOff)
	c.OnChanged = func(on bool) {
		m.inboxWatch.notifyOff = !on
		value := ""
		if !on {
			value = "off"
		}
		m.saveSetting(settingNotify, value)
	}
	return c
}
