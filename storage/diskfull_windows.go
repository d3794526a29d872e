package storage

import "syscall"

// Windows says a disk is full with its own codes, which Go does not map to ENOSPC:
// ERROR_HANDLE_DISK_FULL (39) and ERROR_DISK_FULL (112),
// https://learn.microsoft.com/windows/win32/debug/system-error-codes--0-499-
var diskFullErrnos = []syscall.Errno{syscall.ENOSPC, 39, 112}
