// Package cli is KF Desk's command line: the same binary as the window, for scripted
// and scheduled work. Output is plain text, or one JSON object per line with --json;
// errors are one line on stderr (errcode and explanation) and a non-zero exit status.
package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Global options, accepted anywhere on the line (up to a "--", after which every word belongs to the command).
type Global struct {
	DataDir string
	Account string
	JSON    bool
	Help    bool // help asked for where the command is expected: `kfdesk help`, `kfdesk --help`
}

// isHelp reports whether a word asks for help when it stands where a command or a flag is expected.
// Anywhere else (a flag's value, a search word) it is just a word.
func isHelp(a string) bool {
	switch a {
	case "help", "-h", "--help", "-help":
		return true
	}
	return false
}

// ParseGlobal takes the global options out of args and returns the rest.
func ParseGlobal(args []string) (Global, []string, error) {
	var g Global
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" { // the rest is the command's, untouched (parse sees the "--" too)
			rest = append(rest, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--json", "-json":
			if hasVal { // --json=FILE belongs to the command (send's old spelling of --body)
				rest = append(rest, a)
			} else {
				g.JSON = true
			}
		case "--data-dir", "-data-dir", "--account", "-account":
			if !hasVal {
				if i+1 >= len(args) {
					return g, nil, fmt.Errorf("%s needs a value", name)
				}
				i++
				val = args[i]
			}
			if strings.HasSuffix(name, "data-dir") {
				g.DataDir = val
			} else {
				g.Account = val
			}
		default:
			// Only in the command's place; later a help word is the command's to judge.
			if len(rest) == 0 && isHelp(a) {
				g.Help = true
			}
			rest = append(rest, a)
		}
	}
	if g.Help {
		rest = nil
	}
	return g, rest, nil
}

// Env is what a command runs with. Tests fill it with buffers.
type Env struct {
	Ctx    context.Context
	WS     *workspace.Workspace
	G      Global
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

type command struct {
	usage string
	run   func(e *Env, args []string) error
}

// commands maps "word" or "word sub" to its handler.
var commands = map[string]command{}

func register(name, usage string, run func(e *Env, args []string) error) {
	commands[name] = command{usage, run}
}

// Usage is the help text.
func Usage() string {
	var b strings.Builder
	b.WriteString("KF Desk 客服工作台 — WeChat customer service\n\n")
	b.WriteString("usage: kfdesk [--data-dir DIR] [--account NAME] [--json] COMMAND [ARGS]\n")
	b.WriteString("       kfdesk            (no command: open the window)\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  kfdesk %s\n", commands[n].usage)
	}
	b.WriteString("\nThe AppSecret is read from $KFDESK_APPSECRET or standard input, never from the command line.\n")
	return b.String()
}

// ErrUsage marks a mistake in the command line itself (exit status 2).
var ErrUsage = errors.New("usage")

// errHelp is what parse returns when -h or --help stands where a flag is expected.
var errHelp = errors.New("help requested")

// Run executes one command line (global options already removed).
func Run(e *Env, args []string) error {
	if len(args) == 0 || e.G.Help || isHelp(args[0]) {
		fmt.Fprint(e.Stdout, Usage())
		return nil
	}
	name := args[0]
	c, ok := commands[name]
	// The longest registered name wins: "serve", "serve init", "serve key add".
	for i, longer := 1, name; i < len(args) && i < 3; i++ {
		longer += " " + args[i]
		if sub, found := commands[longer]; found {
			name, c, ok = longer, sub, true
		}
	}
	if !ok {
		// "kfdesk records --help": the group's commands.
		if group := usageOf(name + " "); group != "" && len(args) >= 2 && isHelp(args[1]) {
			fmt.Fprint(e.Stdout, group)
			return nil
		}
		return fmt.Errorf("%w: unknown command %q; run `kfdesk help`", ErrUsage, strings.Join(args, " "))
	}
	err := c.run(e, args[len(strings.Fields(name)):])
	if errors.Is(err, errHelp) {
		fmt.Fprint(e.Stdout, usageOf(name))
		return nil
	}
	return err
}

// usageOf lists the usage lines of the commands whose name starts with prefix.
func usageOf(prefix string) string {
	var names []string
	for n := range commands {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "usage: kfdesk %s\n", commands[n].usage)
	}
	return b.String()
}

// flags makes a FlagSet that reports mistakes as ErrUsage instead of exiting.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse accepts flags before and after positional arguments. A flag's value is never
// taken for a flag (`--text help`, `--text -h` send those words); -h or --help where a
// flag is expected returns errHelp; after "--" every word is positional (`-发票`).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printJSON writes one JSON object per line.
func (e *Env) printJSON(v any) error {
	enc := json.NewEncoder(e.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// account resolves --account, the current account, or the only one.
func (e *Env) account() (storage.Account, error) {
	return e.WS.CurrentAccount(e.Ctx, e.G.Account)
}

// readSecret takes the AppSecret from $KFDESK_APPSECRET, a terminal prompt without
// echo, or the first line of standard input, so it never shows in `ps` or shell history.
func (e *Env) readSecret(prompt string) (string, error) {
	return e.readSecretFrom("KFDESK_APPSECRET", prompt, bufio.NewReader(e.Stdin))
}

// readSecretFrom is readSecret for any variable; in holds the rest of standard input,
// so that several secrets can be read one line each.
func (e *Env) readSecretFrom(variable, prompt string, in *bufio.Reader) (string, error) {
	if s := e.Getenv(variable); s != "" {
		return s, nil
	}
	if f, ok := e.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.Stderr)
		return strings.TrimSpace(string(b)), err
	}
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 2, 2, ' ', 0) }

// statusLine shows progress on stderr: rewritten in place on a terminal; in a log
// (a scheduled run) one line each time its key changes, so the log stays readable.
type statusLine struct {
	w       io.Writer
	tty     bool
	lastKey string
}

func (e *Env) statusLine() *statusLine {
	f, ok := e.Stderr.(*os.File)
	return &statusLine{w: e.Stderr, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (s *statusLine) show(key, text string) {
	if s.tty {
		fmt.Fprintf(s.w, "\r%s   ", text)
		return
	}
	if key != s.lastKey {
		s.lastKey = key
		fmt.Fprintln(s.w, text)
	}
}

// end finishes the line on a terminal.
func (s *statusLine) end() {
	if s.tty {
		fmt.Fprintln(s.w)
	}
}
