package clock

import (
	"os"
	"testing"
	"time"
)

func TestNowFollowsTestNow(t *testing.T) {
	v := os.Getenv(EnvTestNow)
	if v == "" {
		if d := time.Since(Now()); d < -time.Second || d > time.Second || offset != 0 {
			t.Fatalf("without %s the clock is the system's: %v apart", EnvTestNow, d)
		}
		return
	}
	want, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatal(err)
	}
	// The clock started at want when the binary started, and runs on.
	if got := Now(); got.Before(want) || got.Sub(want) > 10*time.Minute {
		t.Fatalf("Now() = %v, want just after %v", got, want)
	}
	a := Now()
	time.Sleep(2 * time.Millisecond)
	if !Now().After(a) {
		t.Fatal("the shifted clock stands still")
	}
}
