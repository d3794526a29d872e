package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/assets"
)

// cjkTheme draws all text with the bundled Chinese font, so Chinese looks the same on
// Windows, macOS and Linux, also where no CJK font is installed (Fyne would draw "�").
// Latin glyphs missing from that font fall through to Fyne's own font. Light and dark
// follow the system because the base theme does.
type cjkTheme struct{ fyne.Theme }

// NewTheme wraps base (theme.DefaultTheme() in the app, test.Theme() in tests).
func NewTheme(base fyne.Theme) fyne.Theme { return cjkTheme{base} }

func (t cjkTheme) Font(s fyne.TextStyle) fyne.Resource {
	if s.Monospace || s.Symbol {
		return t.Theme.Font(s)
	}
	return assets.CJKFont
}

// heading is a page or section title. Bold does nothing for Chinese glyphs (the font
// has no bold face), so titles are set larger instead.
func heading(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.SizeName = theme.SizeNameSubHeadingText
	l.TextStyle.Bold = true
	return l
}

// askFirst shows a confirmation for a destructive action: the confirm button says what
// it does (Delete, Remove), Cancel does nothing.
func askFirst(win fyne.Window, title, msg, confirm string, onYes func()) {
	ask(win, title, msg, confirm, T("Cancel"), func(yes bool) {
		if yes {
			onYes()
		}
	})
}

// Dialogs with a message: Fyne's own (dialog.ShowInformation, NewConfirm) wrap it only at
// spaces, so these show it in a wrapLabel instead.

// tell shows msg with an OK button.
func tell(win fyne.Window, title, msg string) {
	dialog.NewCustom(title, lang.L("OK"), dialogText(win, msg), win).Show()
}

// ask shows msg with a confirm and a dismiss button; answer gets which was tapped.
func ask(win fyne.Window, title, msg, confirm, dismiss string, answer func(bool)) {
	d := dialog.NewCustomConfirm(title, confirm, dismiss, dialogText(win, msg), answer, win)
	d.Show()
}

// dialogText is a dialog's message, as wide as Fyne makes its text dialogs: the text's
// width unwrapped, at most 600 px and 90 % of the window (fyne.io/fyne/v2/dialog/text.go).
func dialogText(win fyne.Window, msg string) fyne.CanvasObject {
	l := newWrapLabel(msg)
	l.Alignment = fyne.TextAlignCenter
	width := fyne.Min(fyne.Min(widget.NewLabel(msg).MinSize().Width, 600), win.Canvas().Size().Width*0.9)
	return container.New(wrapAt(width), l)
}

// wrapAt lays out a wrapping object at one width, as tall as its lines are there.
type wrapAt float32

func (w wrapAt) MinSize(objects []fyne.CanvasObject) fyne.Size {
	o := objects[0]
	if o.Size().Width != float32(w) { // wrap at the width first, or the height is one line's
		o.Resize(fyne.NewSize(float32(w), o.MinSize().Height))
	}
	return fyne.NewSize(float32(w), o.MinSize().Height)
}

func (w wrapAt) Layout(objects []fyne.CanvasObject, size fyne.Size) { objects[0].Resize(size) }

// newErrorLabel is a field's or a form's error line: red, wrapping, hidden when empty.
func newErrorLabel() *wrapLabel {
	l := newWrapLabel("")
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

// showError sets or clears an error label.
func showError(l *wrapLabel, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// errorText gives an error's explanation in the UI language only: every error KF
// Desk explains is an api.Bilingual (WeChat's answers, refused input, media and
// message checks). Anything else (a bare system error) is shown as it is.
func errorText(err error) string {
	var b api.Bilingual
	switch {
	case err == nil:
		return ""
	case errors.As(err, &b):
		return Bilingual(b.ZH(), b.EN())
	}
	return err.Error()
}

// fieldError is err's field and explanation when it concerns one input field.
func fieldError(err error) (field, text string, ok bool) {
	var fp api.FieldProblem
	if !errors.As(err, &fp) {
		return "", "", false
	}
	return fp.InputField(), Bilingual(fp.ZH(), fp.EN()), true
}
