package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
)

// welcomeScreen is what a first run shows: try the demo account, or add your own.
type welcomeScreen struct {
	m       *MainWindow
	demo    *widget.Button
	add     *widget.Button
	errLine *wrapLabel
}

func newWelcomeScreen(m *MainWindow) *welcomeScreen { return &welcomeScreen{m: m} }

func (s *welcomeScreen) buildUI() fyne.CanvasObject {
	title := heading(T("Welcome to KF Desk"))
	intro := newWrapLabel(T("KF Desk lets you answer your customers on your WeChat Official Account or Mini Program: send customer-service messages, manage KF accounts, and keep every chat record searchable on this computer.") +
		"\n\n" + T("No account is set up yet. Try the demo account first (sample data; nothing is sent to WeChat), or add your own account with its AppID and AppSecret."))
	s.demo = widget.NewButtonWithIcon(T("Use the demo account"), theme.MediaPlayIcon(), s.onDemo)
	s.demo.Importance = widget.HighImportance
	s.add = widget.NewButtonWithIcon(T("Add my account"), theme.ContentAddIcon(), s.onAdd)
	s.errLine = newErrorLabel()
	return container.NewVBox(title, intro, container.NewHBox(s.demo, s.add), s.errLine)
}

func (s *welcomeScreen) onDemo() {
	s.demo.Disable()
	var a storage.Account
	s.m.save(func(ctx context.Context) error {
		var err error
		if a, err = s.m.ws.EnsureDemo(ctx); err != nil {
			return err
		}
		return s.m.ws.UseAccount(ctx, a.Name)
	}, func(err error) {
		s.demo.Enable()
		if err != nil {
			showError(s.errLine, errorText(err))
			return
		}
		s.m.page = PageComposer
		s.m.reloadAccounts(a.Name)
	})
}

func (s *welcomeScreen) onAdd() {
	s.m.showPage(PageSettings)
	s.m.settings.onAdd()
}
