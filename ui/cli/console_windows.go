package cli

import (
	"os"
	"syscall"
)

// AttachConsole gives a command typed in cmd.exe or PowerShell its output. The release
// kfdesk.exe is a GUI program, so no console window flashes up when it is double-clicked
// or started by Task Scheduler; but Windows gives such a program no console, and
// without this `kfdesk.exe records sync` would print nothing. Streams redirected to a
// file or a pipe are left alone.
func AttachConsole() {
	const attachParentProcess = ^uintptr(0) // (DWORD)-1
	missing := func(h syscall.Handle) bool { return h == 0 || h == syscall.InvalidHandle }
	if !missing(syscall.Stdin) && !missing(syscall.Stdout) && !missing(syscall.Stderr) {
		return
	}
	attach := syscall.NewLazyDLL("kernel32.dll").NewProc("AttachConsole")
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return // started without a console (Explorer, Task Scheduler): nothing to attach to
	}
	if missing(syscall.Stdout) {
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			os.Stdout = f
		}
	}
	if missing(syscall.Stderr) {
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			os.Stderr = f
		}
	}
	if missing(syscall.Stdin) {
		if f, err := os.OpenFile("CONIN$", os.O_RDWR, 0); err == nil {
			os.Stdin = f
		}
	}
}
