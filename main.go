// KF Desk (kfdesk): WeChat Official Account / Mini Program customer service on the desktop.
//
// With no command it opens the window; with one it runs the command line (see `kfdesk help`).
// main wires the packages: api (WeChat) → storage (SQLite, secrets) → ui (window, command line).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/theme"

	"kfdesk/assets"
	_ "kfdesk/internal/clocale" // before Fyne reads the locale: no "Fyne error" line on a C.UTF-8 system
	"kfdesk/storage"
	"kfdesk/ui"
	"kfdesk/ui/cli"
	"kfdesk/ui/workspace"
)

// appID matches FyneApp.toml; Fyne keys its preferences folder on it.
const appID = "com.kfdesk.desk"

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
	ws, err := workspace.Open(g.DataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfdesk:", err)
		return 1
	}
	defer ws.Close()

	if len(rest) == 0 {
		runWindow(ws, g.Account)
		return 0
	}
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

func runWindow(ws *workspace.Workspace, account string) {
	a := app.NewWithID(appID)
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(ui.NewTheme(theme.DefaultTheme()))
	// One window per data folder; command-line runs share the database through SQLite's locks.
	lock, err := storage.LockDataDir(ws.Dir)
	switch {
	case errors.Is(err, storage.ErrAlreadyOpen):
		ui.NewAlreadyOpenWindow(a, ws.Dir).ShowAndRun()
		return
	case err != nil: // e.g. a file system without locks: go on, the database is still safe
		fmt.Fprintln(os.Stderr, "kfdesk: warning:", err)
	default:
		defer lock.Release()
	}
	w := ui.NewMainWindow(a, ws)
	if account != "" {
		w.SelectAccount(account)
	}
	w.Window().ShowAndRun()
}
