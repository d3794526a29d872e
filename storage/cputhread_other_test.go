//go:build !linux

package storage

import "time"

// threadCPU is not measured here (the benchmark prints 0).
func threadCPU() time.Duration { return 0 }
