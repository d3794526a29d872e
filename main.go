// KF Desk (kfdesk): WeChat Official Account / Mini Program customer service on the desktop.
//
// With no command it opens the window; with one it runs the command line (see `kfdesk help`).
// main wires the packages: api (WeChat) → storage (SQLite, secrets) → ui (window, command line).
// The window is ui/desktop's: built with the tag server (`make server`) the binary has none,
// and needs no X11 or OpenGL libraries.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"

	"kfdesk/ui/cli"
	_ "kfdesk/ui/clocale" // before Fyne reads the locale: no "Fyne error" line on a C.UTF-8 system
	"kfdesk/ui/desktop"
	"kfdesk/ui/workspace"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) > 0 {
		cli.AttachConsole() // before any output, help and errors included
	}
	g, rest, err := cli.ParseGlobal(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfdesk:", err)
		return 2
	}
	if g.Help {
		fmt.Print(cli.Usage())
		return 0
	}
	if len(rest) > 0 {
		// The command line writes no log file: its warnings are lines of its own on
		// stderr, which a cron job mails and a script captures. The window owns the data
		// folder's log (one writer, so rotating it is safe; Windows cannot rename a file
		// another process holds open), and a command-line run may go on beside it.
		slog.SetDefault(slog.New(warningHandler{w: os.Stderr}))
	}
	if cli.WithoutWorkspace(rest) {
		return runCLI(nil, g, rest)
	}
	ws, err := workspace.Open(g.DataDir)
	if err != nil {
		if len(rest) == 0 { // a window has no console: it says why in a window of its own
			return desktop.RunFailed(g.DataDir, g.Account, err)
		}
		fmt.Fprintln(os.Stderr, "kfdesk:", err)
		return 1
	}
	defer ws.Close()

	if len(rest) == 0 {
		return desktop.Run(ws, g.Account)
	}
	return runCLI(ws, g, rest)
}

// runCLI runs one command line; ws is nil for the commands that run without it (cli.WithoutWorkspace).
func runCLI(ws *workspace.Workspace, g cli.Global, rest []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := &cli.Env{Ctx: ctx, WS: ws, G: g, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := cli.Run(env, rest); err != nil {
		fmt.Fprintln(os.Stderr, "kfdesk:", err)
		if errors.Is(err, cli.ErrUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// warningHandler prints the command line's warnings (slog.Warn and above, e.g. a
// cleanup that failed after the command did its work) as its own lines:
// "kfdesk: warning: could not clear the current account: database is locked".
type warningHandler struct {
	w     io.Writer
	attrs []slog.Attr
}

func (h warningHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h warningHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("kfdesk: warning: " + r.Message)
	add := func(a slog.Attr) bool {
		if a.Key == "err" {
			b.WriteString(": " + a.Value.String())
		} else {
			b.WriteString(" " + a.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteString("\n")
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h warningHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(slices.Clip(h.attrs), as...)
	return h
}

func (h warningHandler) WithGroup(string) slog.Handler { return h }
