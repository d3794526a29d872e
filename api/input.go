package api

// InputError is input the client refuses before sending it, because WeChat would
// refuse it too. It names the field and explains the rule in both languages, so a
// form can show it at the field and the command line on one line.
type InputError struct {
	Field  string // e.g. "kf_account", "nickname", "invite_wx", "image"
	ZH, EN string
}

func (e *InputError) Error() string { return e.ZH + " / " + e.EN }
