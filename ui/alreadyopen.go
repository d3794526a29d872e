package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/assets"
)

// alreadyOpenScreen is what a second copy of the window shows instead of the main
// window: one data folder is open in one window at a time, so two windows never edit
// the same drafts and settings. It speaks both languages because it appears before
// anything is read from the database.
type alreadyOpenScreen struct {
	win fyne.Window
}

// AlreadyOpenText is the message, Chinese first. Its lines are broken by hand: a
// wrapping label would make the window's height depend on a width it does not have yet.
const AlreadyOpenText = "KF Desk 客服工作台已经打开了。\n" +
	"请在任务栏（macOS：程序坞）中找到已打开的窗口。\n" +
	"为了保护数据，同一个数据文件夹一次只能在一个窗口中打开。\n\n" +
	"KF Desk is already open.\n" +
	"Find its window in the taskbar (macOS: the Dock).\n" +
	"To keep your data safe, a data folder opens in one window at a time."

// NewAlreadyOpenWindow builds the window that says KF Desk is already open on dataDir.
func NewAlreadyOpenWindow(a fyne.App, dataDir string) fyne.Window {
	s := &alreadyOpenScreen{win: a.NewWindow("KF Desk 客服工作台")}
	s.win.SetIcon(assets.Icon)
	s.win.SetContent(s.buildUI(dataDir))
	s.win.CenterOnScreen()
	return s.win
}

func (s *alreadyOpenScreen) buildUI(dataDir string) fyne.CanvasObject {
	msg := widget.NewLabel(AlreadyOpenText)
	where := widget.NewLabel("数据文件夹 Data folder: " + dataDir)
	where.Truncation = fyne.TextTruncateEllipsis
	ok := widget.NewButtonWithIcon("关闭 Close", theme.CancelIcon(), s.onClose)
	ok.Importance = widget.HighImportance
	icon := widget.NewIcon(theme.InfoIcon())
	return container.NewPadded(container.NewBorder(nil, container.NewCenter(ok), container.NewVBox(icon), nil,
		container.NewVBox(msg, where)))
}

func (s *alreadyOpenScreen) onClose() { s.win.Close() }
