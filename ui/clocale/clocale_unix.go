//go:build !windows && !darwin && !android && !js

package clocale

import "syscall"

func init() {
	if v, _ := syscall.Getenv("LANGUAGE"); v != "" {
		return // go-locale reads LANGUAGE before the C-with-codeset value
	}
	// The variable go-locale reads: the first set of these, as for LC_MESSAGES in C.
	for _, k := range [...]string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v, _ := syscall.Getenv(k)
		if v == "" {
			continue
		}
		if cWithCodeset(v) {
			_ = syscall.Setenv("LANGUAGE", "C") // fails only for names with '=' or NUL
		}
		return
	}
}

// cWithCodeset reports whether v is C or POSIX with a codeset or modifier ("C.UTF-8",
// "POSIX@x"); plain "C" and "POSIX" are fine as they are.
func cWithCodeset(v string) bool {
	for _, base := range [...]string{"C", "POSIX"} {
		if len(v) > len(base) && v[:len(base)] == base && (v[len(base)] == '.' || v[len(base)] == '@') {
			return true
		}
	}
	return false
}
