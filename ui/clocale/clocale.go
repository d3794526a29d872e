// Package clocale keeps Fyne quiet about the "C.UTF-8" locale (Debian's and Ubuntu's
// default for cron, systemd and containers). Fyne's lang package reads the locale in its
// init through github.com/jeandeaual/go-locale, which knows "C" and "POSIX" but hands
// "C.UTF-8" on as the language "C"; parsing that fails and Fyne writes "Fyne error:
// Error parsing user locale C" to stderr, before main runs, in every command-line run.
//
// On Linux and the BSDs (Windows and macOS ask the system, not the environment), this
// package's init sets LANGUAGE=C when the messages locale is C or POSIX with a codeset and
// LANGUAGE is empty. For messages that changes nothing: the C locale has no translations
// (https://www.gnu.org/software/gettext/manual/html_node/The-LANGUAGE-variable.html), and
// LC_CTYPE (UTF-8 input and output) is left as it is.
//
// It runs before Fyne's lang because Go initialises packages in import-path order
// whenever their imports allow (https://go.dev/ref/spec#Package_initialization): this
// package imports only syscall, so it is ready before "log" and sorts before it, and
// fyne.io/fyne/v2 (imported by lang) imports log. main imports it; main_test.go checks
// the real command line's stderr.
package clocale
