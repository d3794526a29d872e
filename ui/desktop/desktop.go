// Package desktop opens KF Desk's window. It is the only package main reaches Fyne
// through, so the server build (`make server`, tag server) can leave Fyne, X11 and
// OpenGL out: desktop_server.go stands in for this file there.
package desktop

import "kfdesk/ui/workspace"

// Run opens the window on ws (on account, when given) and returns the exit status
// once it is closed; a server build prints why it cannot and returns 2.
func Run(ws *workspace.Workspace, account string) int { return run(ws, account) }
