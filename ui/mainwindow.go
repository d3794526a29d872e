// Package ui is KF Desk's window: one file and one struct per screen, each with a
// buildUI() and onXxx handlers. It is the only package that calls fyne.Do: work that
// talks to WeChat runs in goroutines and hands its results back through fyne.Do.
package ui

import (
	"context"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/assets"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Page names a screen reachable from the navigation bar.
type Page int

const (
	PageInbox Page = iota
	PageComposer
	PageKF
	PageRecords
	PageSettings
	PageReports
)

// MainWindow is KF Desk's one window: the account switcher on top, navigation on the
// left, the chosen page on the right.
type MainWindow struct {
	app  fyne.App
	win  fyne.Window
	ws   *workspace.Workspace
	ctx  context.Context
	stop context.CancelFunc // ends ctx when the window closes: background work stops

	accounts []storage.Account
	account  storage.Account // the current one; zero when there is none
	loaded   bool            // the account list has been read once
	page     Page
	language string // the UI language chosen in Settings ("" = the system's)

	accountSelect *widget.Select
	demoBadge     *widget.Label
	navButtons    []*widget.Button
	content       *fyne.Container
	status        *widget.Label

	settings          *settingsScreen
	welcome           *welcomeScreen
	kf                *kfScreen
	desktop           *desktopMenu
	composer          *composerScreen // the composer last built
	composerRecipient string          // set by OpenComposerFor while the composer is built
	records           *recordsScreen  // the chat-record browser while it is shown
	reports           *reportsScreen  // the Reports page while it is shown
	syncer            *recordSyncer   // the chat-record sync, which outlives page changes
	inbox             *inboxScreen    // the inbox while it is shown
	inboxWatch        *inboxWatch     // feeds the inbox and counts unread messages, on every page

	pending atomic.Int32 // background work started by goBackground, not yet done
	writes  writeQueue   // writes leave the UI thread in order (background.go)
}

// goBackground runs work off the UI thread, then done on it (through fyne.Do).
// Progress updates from inside work use fyne.Do themselves. The pending count lets
// tests wait until every result has reached the widgets.
func (m *MainWindow) goBackground(work func(), done func()) {
	m.pending.Add(1)
	go func() {
		work()
		fyne.Do(func() {
			defer m.pending.Add(-1)
			done()
		})
	}()
}

// NewMainWindow builds the window for an open workspace. It does not show it.
func NewMainWindow(a fyne.App, ws *workspace.Workspace) *MainWindow {
	m := &MainWindow{app: a, ws: ws}
	m.ctx, m.stop = context.WithCancel(context.Background())
	m.syncer = newRecordSyncer(m)
	m.inboxWatch = newInboxWatch(m)
	// Read before the window exists: its first frame is in the right language.
	code, err := ws.Language(m.ctx)
	if err != nil {
		logError("read the UI language", err)
	}
	m.language = code
	SetLanguage(code)
	m.win = a.NewWindow(windowTitle)
	m.win.SetIcon(assets.Icon)
	m.restoreWindowState()
	m.buildUI()
	m.startAutoBackups()
	return m
}

// windowTitle is the window's title (the inbox adds its unread count).
const windowTitle = "KF Desk 客服工作台"

// Window is the Fyne window (for tests and for main to show).
func (m *MainWindow) Window() fyne.Window { return m.win }

// buildUI (re)creates every widget; called again when the language changes.
func (m *MainWindow) buildUI() {
	m.accountSelect = widget.NewSelect(nil, m.onAccountChosen)
	m.accountSelect.PlaceHolder = T("Choose an account")
	m.demoBadge = widget.NewLabel(T("Demo data: nothing is sent to WeChat"))
	m.demoBadge.Importance = widget.WarningImportance
	m.status = widget.NewLabel("")
	m.status.Truncation = fyne.TextTruncateEllipsis

	pages := []struct {
		label string
		icon  fyne.Resource
	}{
		{T("Inbox"), theme.MailReplyAllIcon()},
		{T("Composer"), theme.MailSendIcon()},
		{T("KF accounts"), theme.AccountIcon()},
		{T("Chat records"), theme.HistoryIcon()},
		{T("Settings"), theme.SettingsIcon()},
		{T("Reports"), theme.GridIcon()},
	}
	m.navButtons = nil
	nav := container.NewVBox()
	for i, p := range pages {
		page := Page(i)
		b := widget.NewButtonWithIcon(p.label, p.icon, func() { m.onNavigate(page) })
		b.Alignment = widget.ButtonAlignLeading
		m.navButtons = append(m.navButtons, b)
		nav.Add(b)
	}
	title := heading("KF Desk 客服工作台")
	// Wide enough for a Chinese account name; the Select itself would shrink to its placeholder.
	selectBox := container.NewGridWrap(fyne.NewSize(260, m.accountSelect.MinSize().Height), m.accountSelect)
	m.desktop = newDesktopMenu(m)
	top := container.NewBorder(nil, nil, container.NewHBox(title, widget.NewLabel(T("Account:")), selectBox, m.demoBadge), m.desktop.buildUI())
	m.content = container.NewStack()
	m.settings = newSettingsScreen(m)
	m.welcome = newWelcomeScreen(m)

	body := container.NewBorder(nil, nil, container.NewPadded(nav), nil, m.content)
	bottom := container.NewBorder(nil, nil, nil, container.NewHBox(m.inboxWatch.statusLabel(), m.syncer.statusBar()), m.status)
	m.win.SetContent(container.NewBorder(container.NewVBox(top, widget.NewSeparator()), bottom, nil, nil, body))
	m.inboxWatch.showUnread(m.inboxWatch.unread)
	m.reloadAccounts("")
}

// reloadAccounts re-reads the account list off the UI thread and selects `choose`
// (or the current one).
func (m *MainWindow) reloadAccounts(choose string) {
	if choose == "" && m.account.Name != "" {
		choose = m.account.Name
	}
	var accs []storage.Account
	var cur storage.Account
	var err error
	m.goBackground(func() {
		if accs, err = m.ws.DB.Accounts(m.ctx); err != nil {
			return
		}
		var cerr error
		if cur, cerr = m.ws.CurrentAccount(m.ctx, choose); cerr != nil {
			cur, _ = m.ws.CurrentAccount(m.ctx, "")
		}
	}, func() {
		if err != nil {
			m.setStatus(errorText(err))
		}
		m.loaded = true
		m.accounts = accs
		names := make([]string, len(accs))
		for i, a := range accs {
			names[i] = a.Name
		}
		m.accountSelect.SetOptions(names)
		m.account = cur
		m.inboxWatch.start(cur)
		if cur.Name != "" && m.accountSelect.Selected != cur.Name {
			m.accountSelect.SetSelected(cur.Name) // calls onAccountChosen → showPage
			return
		}
		if cur.Name == "" {
			m.accountSelect.ClearSelected()
		}
		m.showPage(m.page)
	})
}

func (m *MainWindow) onAccountChosen(name string) {
	for _, a := range m.accounts {
		if a.Name == name {
			m.account = a
			m.save(func(ctx context.Context) error { return m.ws.UseAccount(ctx, name) }, nil)
		}
	}
	m.inboxWatch.start(m.account)
	m.showPage(m.page)
	m.autoSyncAccount(m.account)
}

func (m *MainWindow) onNavigate(p Page) {
	m.rememberPage(p)
	m.showPage(p)
}

// showPage puts a page in the content area. With no account yet, every page but
// Settings shows the welcome screen that offers the demo account.
func (m *MainWindow) showPage(p Page) {
	m.page = p
	for i, b := range m.navButtons {
		if Page(i) == p {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
	if m.account.Demo {
		m.demoBadge.Show()
	} else {
		m.demoBadge.Hide()
	}
	var obj fyne.CanvasObject
	switch {
	case !m.loaded:
		obj = container.NewCenter(widget.NewLabel(T("Loading…")))
	case p == PageSettings:
		obj = m.settings.buildUI()
	case m.account.Name == "":
		obj = m.welcome.buildUI()
	case p == PageInbox:
		obj = newInboxScreen(m).buildUI()
	case p == PageComposer:
		obj = newComposerScreen(m).buildUI()
	case p == PageKF:
		m.kf = newKFScreen(m)
		obj = m.kf.buildUI()
	case p == PageRecords:
		m.records = newRecordsScreen(m)
		obj = m.records.buildUI()
	case p == PageReports:
		m.reports = newReportsScreen(m)
		obj = m.reports.buildUI()
	}
	if p != PageRecords {
		m.records = nil
	}
	if p != PageInbox || m.account.Name == "" || !m.loaded {
		m.inbox = nil
	}
	m.content.Objects = []fyne.CanvasObject{obj}
	m.content.Refresh()
}

// setStatus shows a line at the bottom of the window.
func (m *MainWindow) setStatus(s string) { m.status.SetText(s) }

// SelectAccount makes the named account current (from --account).
func (m *MainWindow) SelectAccount(name string) { m.reloadAccounts(name) }

// Version is set at build time from FyneApp.toml (see the Makefile).
var Version = "dev"
