// Package clock is the one clock of KF Desk's own code: time.Now, except in a test
// binary started with KFDESK_TEST_NOW set to an RFC 3339 time. Then the clock starts
// at that time and runs on from there, so the whole suite can be run "at 17:30 UTC",
// when the Beijing day is already the next one (make test-tz, .ci/run). A program
// that is not a test ignores the variable.
package clock

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// EnvTestNow names the variable a test run sets to move the clock.
const EnvTestNow = "KFDESK_TEST_NOW"

// offset is added to the system clock; zero outside a shifted test run.
var offset time.Duration

func init() {
	v := os.Getenv(EnvTestNow)
	if v == "" || !testing.Testing() {
		return
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: want an RFC 3339 time such as 2026-12-01T17:30:00Z", EnvTestNow, v))
	}
	offset = time.Until(t)
}

// Now is the current time (shifted in a KFDESK_TEST_NOW test run).
func Now() time.Time { return time.Now().Add(offset) }
