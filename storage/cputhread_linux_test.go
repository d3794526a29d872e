package storage

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time (user + system) of the calling OS thread: with the
// goroutine locked to its thread, what a query itself costs, whatever else runs
// on the machine (a query descheduled for 20 ms still costs its 1 ms here).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
