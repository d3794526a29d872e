//go:build !windows

package cli

// AttachConsole is needed on Windows only (see console_windows.go).
func AttachConsole() {}
