//go:build !server

package desktop

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/theme"

	"kfdesk/assets"
	"kfdesk/storage"
	"kfdesk/ui"
	"kfdesk/ui/workspace"
)

// appID matches FyneApp.toml; Fyne keys its preferences folder on it.
const appID = "com.kfdesk.desk"

func run(ws *workspace.Workspace, account string) int {
	// One window per data folder; command-line runs share the database through SQLite's locks.
	lock, lockErr := storage.LockDataDir(ws.Dir)
	if errors.Is(lockErr, storage.ErrAlreadyOpen) {
		ui.NewAlreadyOpenWindow(newApp(), ws.Dir).ShowAndRun()
		return 0
	}
	defer StartTrace(ws.Dir)()
	if lockErr != nil { // e.g. a file system without locks: go on, the database is still safe
		fmt.Fprintln(os.Stderr, "kfdesk: warning:", lockErr)
		slog.Warn("no lock on the data folder; going on", "err", lockErr)
	} else {
		defer lock.Release()
	}
	w := ui.NewMainWindow(newApp(), ws)
	if account != "" {
		w.SelectAccount(account)
	}
	w.Window().ShowAndRun()
	return 0
}

func runFailed(dir, account string, openErr error) int {
	fmt.Fprintln(os.Stderr, "kfdesk:", openErr) // also for whoever started it from a terminal
	dir, err := workspace.ResolveDir(dir)
	if err != nil {
		return 1
	}
	// The window's lock, as Run takes it: no second window sets the same file aside.
	// A folder that cannot be created cannot be locked either; the window says why.
	lock, lockErr := storage.LockDataDir(dir)
	if errors.Is(lockErr, storage.ErrAlreadyOpen) {
		ui.NewAlreadyOpenWindow(newApp(), dir).ShowAndRun()
		return 0
	}
	if lockErr == nil {
		defer lock.Release()
		defer StartTrace(dir)()
		slog.Error("the data folder did not open", "err", openErr)
	}
	ui.SetLanguage(workspace.StartLanguage(dir))
	a := newApp()
	var ws *workspace.Workspace
	var rw fyne.Window
	rw = ui.NewRecoveryWindow(a, dir, openErr, func(opened *workspace.Workspace, did string) {
		ws = opened
		m := ui.NewMainWindow(a, opened)
		if account != "" {
			m.SelectAccount(account)
		}
		m.Window().Show()
		m.ShowRecoveryResult(did)
		rw.Close() // no window is the master: the app ends when the main window closes
	})
	rw.ShowAndRun()
	if ws != nil {
		_ = ws.Close()
	}
	return 0
}

func newApp() fyne.App {
	a := app.NewWithID(appID)
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(ui.NewTheme(theme.DefaultTheme()))
	return a
}

// StartTrace makes the window leave a trace in the data folder, where it has no
// console to write to: its log (slog, and Fyne's errors through the standard log) and
// the Go runtime's report if it crashes. The returned func closes the log.
func StartTrace(dir string) (stop func()) {
	stopLog, err := workspace.StartLog(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfdesk: warning: no log file:", err)
		stopLog = func() {}
	}
	slog.Info("KF Desk started", "version", ui.Version, "os", runtime.GOOS+"/"+runtime.GOARCH, "go", runtime.Version())
	if f, err := workspace.CrashFile(dir); err != nil {
		slog.Warn("no crash report file", "err", err)
	} else {
		// The runtime writes a fatal panic's report there as well as to stderr
		// (https://pkg.go.dev/runtime/debug#SetCrashOutput).
		if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
			slog.Warn("no crash report file", "err", err)
		}
		_ = f.Close() // SetCrashOutput keeps a duplicate of the descriptor
	}
	return func() {
		slog.Info("KF Desk stopped")
		stopLog()
	}
}
