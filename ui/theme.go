package ui

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/assets"
	"kfdesk/storage"
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

// errorText gives an error's explanation in the UI language.
func errorText(err error) string {
	var ae *api.Error
	var ve *storage.ValidationError
	var ie *api.InputError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae):
		return Bilingual(ae.ZH(), ae.EN())
	case errors.As(err, &ve):
		return Bilingual(ve.ZH, ve.EN)
	case errors.As(err, &ie):
		return Bilingual(ie.ZH, ie.EN)
	}
	return err.Error()
}
