//go:build !windows

package storage

import "syscall"

// diskFullErrnos say "no space left on the device" (diskfull_windows.go has Windows' own).
var diskFullErrnos = []syscall.Errno{syscall.ENOSPC}
