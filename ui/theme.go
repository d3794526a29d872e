package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
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
	d := dialog.NewConfirm(title, msg, func(yes bool) {
		if yes {
			onYes()
		}
	}, win)
	d.SetConfirmText(confirm)
	d.SetDismissText(T("Cancel"))
	d.Show()
}

// newErrorLabel is a field's or a form's error line: red, wrapping, hidden when empty.
func newErrorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// showError sets or clears an error label.
func showError(l *widget.Label, text string) {
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
