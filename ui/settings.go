package ui

import (
	"context"
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
)

// settingsScreen: the accounts (add, edit, remove, test connection), the language,
// and where data and secrets are kept.
type settingsScreen struct {
	m *MainWindow

	list     *widget.List
	selected int // index into m.accounts, -1 for none

	add, edit, remove, test *widget.Button
	testResult              *wrapLabel
	formBox                 *fyne.Container // holds the account form while adding/editing
	form                    *accountForm
	language                *widget.Select
	push                    *pushSection // the selected account's push server (settings_push.go)
}

func newSettingsScreen(m *MainWindow) *settingsScreen {
	return &settingsScreen{m: m, selected: -1}
}

var languageCodes = []string{"", "zh", "en"}

func (s *settingsScreen) buildUI() fyne.CanvasObject {
	s.list = widget.NewList(
		func() int { return len(s.m.accounts) },
		func() fyne.CanvasObject { return widget.NewLabel("template account name") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.describe(s.m.accounts[i])) },
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = i; s.updateButtons() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = -1; s.updateButtons() }

	s.add = widget.NewButtonWithIcon(T("Add account"), theme.ContentAddIcon(), s.onAdd)
	s.edit = widget.NewButtonWithIcon(T("Edit"), theme.DocumentCreateIcon(), s.onEdit)
	s.remove = widget.NewButtonWithIcon(T("Remove"), theme.DeleteIcon(), s.onRemove)
	s.test = widget.NewButtonWithIcon(T("Test connection"), theme.ConfirmIcon(), s.onTest)
	s.testResult = newWrapLabel("")
	s.formBox = container.NewVBox()
	s.push = newPushSection(s.m)
	pushBox := s.push.buildUI()
	s.selected = -1
	s.updateButtons()
	for i, a := range s.m.accounts {
		if a.Name == s.m.account.Name {
			s.list.Select(i)
		}
	}

	s.language = widget.NewSelect([]string{T("Follow the system"), "中文", "English"}, nil)
	for i, c := range languageCodes {
		if c == s.m.language {
			s.language.SetSelectedIndex(i)
		}
	}
	s.language.OnChanged = func(string) { s.onLanguage(languageCodes[s.language.SelectedIndex()]) }

	where := newWrapLabel(T("Data folder: %s", s.m.ws.Dir) + "\n" + T("Secrets are kept in: %s", s.m.ws.Secrets.Where()))
	if s.m.ws.SecretsNote != "" {
		where.SetText(where.Text + "\n" + s.m.ws.SecretsNote)
	}

	accounts := container.NewBorder(
		heading(T("Accounts")),
		container.NewVBox(container.NewHBox(s.add, s.edit, s.remove, s.test), s.testResult),
		nil, nil, s.list)
	left := container.NewVSplit(accounts, container.NewVBox(
		heading(T("Language")),
		s.language, notifySetting(s.m), widget.NewSeparator(), where, widget.NewSeparator(), s.backupSection()))
	left.Offset = 0.6
	split := container.NewHSplit(left, container.NewVScroll(container.NewVBox(s.formBox, pushBox)))
	split.Offset = 0.45
	return split
}

func (s *settingsScreen) describe(a storage.Account) string {
	kind := T("Official Account")
	if a.Kind == storage.KindMP {
		kind = T("Mini Program")
	}
	return a.Name + " · " + kind + " · " + a.AppID
}

func (s *settingsScreen) selectedAccount() (storage.Account, bool) {
	if s.selected < 0 || s.selected >= len(s.m.accounts) {
		return storage.Account{}, false
	}
	return s.m.accounts[s.selected], true
}

func (s *settingsScreen) updateButtons() {
	a, ok := s.selectedAccount()
	s.push.show(a, ok)
	if ok {
		s.edit.Enable()
		s.remove.Enable()
		s.test.Enable()
	} else {
		s.edit.Disable()
		s.remove.Disable()
		s.test.Disable()
	}
}

func (s *settingsScreen) openForm(editing *storage.Account) {
	s.form = newAccountForm(s.m, editing)
	s.form.onDone = func(saved *storage.Account) {
		s.formBox.RemoveAll()
		if saved != nil {
			s.m.reloadAccounts(saved.Name) // rebuilds this screen with the saved account selected
		}
	}
	s.formBox.Objects = []fyne.CanvasObject{s.form.buildUI()}
	s.formBox.Refresh()
}

func (s *settingsScreen) onAdd() { s.openForm(nil) }

func (s *settingsScreen) onEdit() {
	if a, ok := s.selectedAccount(); ok {
		s.openForm(&a)
	}
}

func (s *settingsScreen) onRemove() {
	a, ok := s.selectedAccount()
	if !ok {
		return
	}
	msg := T("Remove the account %q from KF Desk? Its AppSecret is deleted from this computer. Nothing changes on WeChat.", a.Name)
	askFirst(s.m.win, T("Remove account"), msg, T("Remove"), func() { s.removeConfirmed(a.Name) })
}

func (s *settingsScreen) removeConfirmed(name string) {
	s.m.save(func(ctx context.Context) error { return s.m.ws.RemoveAccount(ctx, name) }, func(err error) {
		if err != nil {
			s.testResult.SetText(errorText(err))
			return
		}
		s.m.account = storage.Account{}
		s.m.reloadAccounts("")
	})
}

// onTest gets a token and makes one call, off the UI thread; the answer comes back via fyne.Do.
func (s *settingsScreen) onTest() {
	a, ok := s.selectedAccount()
	if !ok {
		return
	}
	s.test.Disable()
	s.testResult.SetText(T("Testing the connection to WeChat…"))
	result, button := s.testResult, s.test
	var err error
	s.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(s.m.ctx, 40*time.Second)
		defer cancel()
		err = s.m.ws.TestConnection(ctx, a)
	}, func() {
		button.Enable()
		if err != nil {
			result.SetText("× " + errorText(err))
			return
		}
		result.SetText(T("Connected: the AppID and AppSecret work and WeChat answered."))
	})
}

func (s *settingsScreen) onLanguage(code string) {
	s.m.save(func(ctx context.Context) error { return s.m.ws.SetLanguage(ctx, code) }, func(err error) {
		if err != nil {
			s.testResult.SetText(errorText(err))
			return
		}
		s.m.language = code
		SetLanguage(code)
		s.m.buildUI() // every label is rebuilt in the new language
		s.m.showPage(PageSettings)
	})
}

// accountForm adds or edits one account. Each field shows its own error.
type accountForm struct {
	m       *MainWindow
	editing *storage.Account

	name, appID, secret, tokenURL, apiBase *widget.Entry
	kind, tokenMode                        *widget.Select
	errs                                   map[string]*wrapLabel
	formErr                                *wrapLabel
	save, cancel                           *widget.Button
	onDone                                 func(saved *storage.Account)
}

var (
	kindValues = []string{storage.KindOA, storage.KindMP}
	modeValues = []string{storage.TokenStable, storage.TokenClassic, storage.TokenURL, storage.TokenStatic}
)

func newAccountForm(m *MainWindow, editing *storage.Account) *accountForm {
	return &accountForm{m: m, editing: editing, errs: map[string]*wrapLabel{}}
}

func (f *accountForm) buildUI() fyne.CanvasObject {
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder(T("e.g. 茶叶小铺"))
	f.appID = widget.NewEntry()
	f.appID.SetPlaceHolder("wx0123456789abcdef")
	f.secret = widget.NewPasswordEntry()
	f.tokenURL = widget.NewEntry()
	f.tokenURL.SetPlaceHolder("https://token.example.com/wechat")
	f.apiBase = widget.NewEntry()
	f.apiBase.SetPlaceHolder("https://api.weixin.qq.com")
	f.kind = widget.NewSelect([]string{T("Official Account"), T("Mini Program")}, nil)
	f.kind.SetSelectedIndex(0)
	f.tokenMode = widget.NewSelect([]string{
		T("Stable token (recommended; safe to share with other programs)"),
		T("Classic token (refreshing logs other programs out)"),
		T("My company's token server (URL)"),
		T("Paste an access token"),
	}, func(string) { f.onModeChanged() })
	f.tokenMode.SetSelectedIndex(0)

	title := T("Add account")
	if a := f.editing; a != nil {
		title = T("Edit account")
		f.name.SetText(a.Name)
		f.appID.SetText(a.AppID)
		f.tokenURL.SetText(a.TokenURL)
		f.apiBase.SetText(a.APIBase)
		f.kind.SetSelectedIndex(indexOf(kindValues, a.Kind))
		f.tokenMode.SetSelectedIndex(indexOf(modeValues, a.TokenMode))
		f.secret.SetPlaceHolder(T("Unchanged (type to replace)"))
	}
	field := func(key string, w fyne.CanvasObject) fyne.CanvasObject {
		f.errs[key] = newErrorLabel()
		return container.NewVBox(w, f.errs[key])
	}
	form := widget.NewForm(
		widget.NewFormItem(T("Name"), field("name", f.name)),
		widget.NewFormItem(T("Type"), field("kind", f.kind)),
		widget.NewFormItem("AppID", field("appid", f.appID)),
		widget.NewFormItem(T("Token mode"), field("token_mode", f.tokenMode)),
		widget.NewFormItem(T("AppSecret / token"), field("secret", f.secret)),
		widget.NewFormItem(T("Token URL"), field("token_url", f.tokenURL)),
		widget.NewFormItem(T("API address"), field("api_base", f.apiBase)),
	)
	help := newWrapLabel(T("The AppID and AppSecret are at mp.weixin.qq.com > Settings and Development > Basic Configuration. The AppSecret is stored in the system's secret store and never shown again. Leave the API address empty unless you use an API relay."))
	f.formErr = newErrorLabel()
	f.save = widget.NewButtonWithIcon(T("Save"), theme.DocumentSaveIcon(), f.onSave)
	f.save.Importance = widget.HighImportance
	f.cancel = widget.NewButton(T("Cancel"), func() { f.onDone(nil) })
	f.onModeChanged()
	return container.NewVBox(heading(title),
		form, help, f.formErr, container.NewHBox(f.save, f.cancel))
}

func indexOf(values []string, v string) int {
	for i, x := range values {
		if x == v {
			return i
		}
	}
	return 0
}

// onModeChanged enables only the fields the chosen token mode uses.
func (f *accountForm) onModeChanged() {
	if f.tokenURL == nil {
		return
	}
	if f.mode() == storage.TokenURL {
		f.tokenURL.Enable()
		f.secret.Disable()
	} else {
		f.tokenURL.Disable()
		f.secret.Enable()
	}
}

func (f *accountForm) mode() string { return modeValues[max(f.tokenMode.SelectedIndex(), 0)] }

func (f *accountForm) onSave() {
	for _, l := range f.errs {
		showError(l, "")
	}
	showError(f.formErr, "")
	a := storage.Account{}
	if f.editing != nil {
		a = *f.editing
	}
	a.Name = f.name.Text
	a.Kind = kindValues[max(f.kind.SelectedIndex(), 0)]
	a.AppID = pastedCredential(f.appID.Text)
	a.TokenMode = f.mode()
	a.TokenURL = pastedCredential(f.tokenURL.Text)
	a.APIBase = pastedCredential(f.apiBase.Text)
	if a.TokenMode != storage.TokenURL {
		a.TokenURL = ""
	}

	// The secret goes to the system's secret store, which may take a while (or ask
	// the operator): never on the UI thread.
	secret, adding := pastedCredential(f.secret.Text), f.editing == nil
	f.save.Disable()
	var err error
	f.m.goBackground(func() {
		ctx := context.WithoutCancel(f.m.ctx)
		if adding {
			a, err = f.m.ws.AddAccount(ctx, a, secret)
		} else {
			err = f.m.ws.UpdateAccount(ctx, a, secret)
		}
	}, func() {
		f.save.Enable()
		f.saved(a, err)
	})
}

// saved shows the outcome of onSave: errors at their fields (the form keeps what
// was typed), or the saved account.
func (f *accountForm) saved(a storage.Account, err error) {
	if err != nil {
		if field, text, ok := fieldError(err); ok {
			if l, ok := f.errs[field]; ok {
				showError(l, text)
				return
			}
		}
		if errors.Is(err, storage.ErrDuplicate) {
			showError(f.errs["name"], T("An account with this name already exists."))
			return
		}
		showError(f.formErr, errorText(err)) // the form keeps everything typed
		return
	}
	f.secret.SetText("")
	f.onDone(&a)
}
