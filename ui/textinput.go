package ui

import "strings"

// Text from the keyboard and the clipboard, cleaned where the app reads a field.
//
// Input methods: on macOS and Linux (X11) the Enter or Backspace that a Chinese input
// method uses while composing also reaches the focused entry (GLFW passes the key on
// before the input method's commit; see README, "Chinese input"). So no entry in this
// app submits or sends on Enter: every action has its button. The one exception is
// the inbox's reply box, whose Enter waits for the input method's letters (sendEntry,
// inbox_reply.go).

// pastedCredential is an AppID, AppSecret or token as pasted from a web page, an
// e-mail or a chat: the line break and spaces around it and zero-width characters
// (which copy along invisibly from rich text) are not part of it.
func pastedCredential(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff': // zero-width spaces and joiners, BOM
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// unixNewlines makes text pasted from Windows programs (CRLF) or old Mac ones (CR)
// break lines with "\n" only, as WeChat shows them; a single-line entry turns a pasted
// "\n" into a space but keeps the "\r".
func unixNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
