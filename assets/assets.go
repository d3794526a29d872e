// Package assets embeds the files the binary ships with: the application icon and
// the bundled Chinese font (so Chinese renders the same on every machine, also on
// one with no CJK font installed, and under Wine).
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed Icon.png
var iconPNG []byte

//go:embed fonts/DroidSansFallback-GBK.ttf
var cjkTTF []byte

// Icon is the application icon (window, .exe, .app).
var Icon = fyne.NewStaticResource("Icon.png", iconPNG)

// CJKFont is Droid Sans Fallback cut down to the GBK character set (all 21,886 hanzi of GBK,
// ASCII and CJK punctuation): simplified Chinese glyph forms, 2.8 MB instead of 4 MB.
// It is a .ttf on purpose: a .ttc as theme font makes Fyne panic.
var CJKFont = fyne.NewStaticResource("DroidSansFallback-GBK.ttf", cjkTTF)
