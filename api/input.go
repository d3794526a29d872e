package api

import "errors"

// Bilingual is the one shape of every error KF Desk explains to a person: it can say
// itself in Chinese and in English. The window shows the UI's language (ui.errorText);
// the command line prints Error(), both on one line ("中文 / English").
type Bilingual interface {
	error
	ZH() string
	EN() string
}

// FieldProblem is a Bilingual error about one input field, which a form shows at
// that field (InputError, FieldError).
type FieldProblem interface {
	Bilingual
	InputField() string
}

// InputError is input refused before it is sent or stored, because WeChat (or the
// archive) would refuse it too. It names the field and explains the rule in both
// languages. storage.ValidationError is the same type.
type InputError struct {
	Field            string // e.g. "kf_account", "nickname", "invite_wx", "image", "appid"
	Chinese, English string
}

func (e *InputError) Error() string      { return e.Chinese + " / " + e.English }
func (e *InputError) ZH() string         { return e.Chinese }
func (e *InputError) EN() string         { return e.English }
func (e *InputError) InputField() string { return e.Field }

// Explained is an error given a bilingual explanation of what it means for the
// operator (e.g. "the message was sent, but the send log could not be written"); the
// cause stays available to errors.Is / errors.As and in the technical line.
type Explained struct {
	Chinese, English string
	Err              error // the cause; may be nil
}

// Describe wraps err (nil for none) with an explanation in both languages.
func Describe(err error, zh, en string) *Explained { return &Explained{zh, en, err} }

// Error is the explanation on one line; a cause that is not itself explained
// follows it, for support.
func (e *Explained) Error() string {
	var b Bilingual
	if e.Err == nil || errors.As(e.Err, &b) {
		return e.Chinese + " / " + e.English
	}
	return e.Chinese + " / " + e.English + ": " + e.Err.Error()
}
func (e *Explained) ZH() string    { return e.Chinese }
func (e *Explained) EN() string    { return e.English }
func (e *Explained) Unwrap() error { return e.Err }
