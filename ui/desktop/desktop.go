// Package desktop opens KF Desk's window. It is the only package main reaches Fyne
// through, so the server build (`make server`, tag server) can leave Fyne, X11 and
// OpenGL out: desktop_server.go stands in for this file there.
package desktop

import "kfdesk/ui/workspace"

// Run opens the window on ws (on account, when given) and returns the exit status
// once it is closed; a server build prints why it cannot and returns 2.
func Run(ws *workspace.Workspace, account string) int { return run(ws, account) }

// RunFailed is Run for a data folder that did not open (openErr from workspace.Open):
// a window says why and offers what can be done (restore a backup, start empty…),
// then opens the main window once the folder opens. A server build prints openErr.
func RunFailed(dir, account string, openErr error) int { return runFailed(dir, account, openErr) }
