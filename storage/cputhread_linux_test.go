package storage

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPU is the CPU time of the calling OS thread (clock_gettime with
// CLOCK_THREAD_CPUTIME_ID, exact to the nanosecond; getrusage counts in 4 ms
// ticks here): with the goroutine locked to its thread, what a query itself
// costs, whatever else runs on the machine.
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3 // linux/time.h
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
