package ui

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fynestorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/assets"
	"kfdesk/ui/workspace"
)

// desktopMenu is the "More" button at the right of the top bar: About, open the data
// folder, back up the database. A button rather than a main menu, so the window's
// layout (and every page's position) stays the same on Windows, macOS and Linux.
type desktopMenu struct {
	m *MainWindow
	// openURL opens a file:// or web address with the system (replaced in tests).
	openURL func(*url.URL) error
}

func newDesktopMenu(m *MainWindow) *desktopMenu {
	return &desktopMenu{m: m, openURL: m.app.OpenURL}
}

func (d *desktopMenu) buildUI() fyne.CanvasObject {
	var b *widget.Button
	b = widget.NewButtonWithIcon(T("More"), theme.MoreVerticalIcon(), func() {
		menu := fyne.NewMenu("",
			fyne.NewMenuItem(T("About KF Desk"), d.onAbout),
			fyne.NewMenuItem(T("Open data folder"), d.onOpenDataFolder),
			fyne.NewMenuItem(T("Back up database…"), d.onBackup),
		)
		c := d.m.win.Canvas()
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b).Add(fyne.NewPos(0, b.Size().Height))
		widget.ShowPopUpMenuAtPosition(menu, c, pos)
	})
	return b
}

// version is the release version: set by the build from FyneApp.toml, else what the
// fyne tool put in the app's metadata, else "dev".
func version() string {
	if Version != "dev" {
		return Version
	}
	if a := fyne.CurrentApp(); a != nil && a.Metadata().Version != "" {
		return a.Metadata().Version
	}
	return Version
}

func (d *desktopMenu) onAbout() {
	ws := d.m.ws
	icon := canvas.NewImageFromResource(assets.Icon)
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(64, 64))

	info := widget.NewLabel("")
	info.Wrapping = fyne.TextWrapBreak
	show := func(size string) {
		info.SetText(strings.Join([]string{
			T("Version %s", version()),
			T("Data folder: %s", ws.Dir),
			T("Database: %s (%s)", ws.DB.Path(), size),
			T("Log (for support; no secrets, no message text): %s", workspace.LogPath(ws.Dir)),
			T("Secrets are kept in: %s", ws.Secrets.Where()),
		}, "\n"))
	}
	show("…")
	var size string
	d.m.goBackground(func() { size = fileSize(ws.DB.Path()) }, func() { show(size) }) // a file's size is I/O
	title := heading("KF Desk 客服工作台")

	var dlg dialog.Dialog
	open := widget.NewButtonWithIcon(T("Open data folder"), theme.FolderOpenIcon(), d.onOpenDataFolder)
	backup := widget.NewButtonWithIcon(T("Back up database…"), theme.DocumentSaveIcon(), func() {
		dlg.Hide()
		d.onBackup()
	})
	content := container.NewBorder(nil, container.NewHBox(open, backup), nil, nil,
		container.NewVBox(container.NewHBox(icon, title), info))
	dlg = dialog.NewCustom(T("About KF Desk"), T("Close"), content, d.m.win)
	dlg.Resize(fyne.NewSize(620, 0))
	dlg.Show()
}

// onOpenDataFolder shows the data folder in Explorer / Finder / the file manager.
func (d *desktopMenu) onOpenDataFolder() {
	u, err := url.Parse(fynestorage.NewFileURI(d.m.ws.Dir).String())
	if err == nil {
		err = d.openURL(u)
	}
	if err != nil {
		dialog.ShowError(fmt.Errorf("%s\n%s: %w", T("Could not open the data folder."), d.m.ws.Dir, err), d.m.win)
	}
}

func (d *desktopMenu) onBackup() { newBackupTask(d.m).chooseFile() }

// fileSize is a file's size for people ("3.2 MB"), or "?" when it cannot be read.
func fileSize(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return humanBytes(fi.Size())
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
