package workspace

import (
	"testing"
	"time"
)

// FeedHooks makes feed reads call waiting each time they start waiting, and look
// at the database between signals only every fallback, until the test ends.
func FeedHooks(t *testing.T, waiting func(), fallback time.Duration) {
	w, f := feedWaiting, feedFallback
	feedWaiting, feedFallback = waiting, fallback
	t.Cleanup(func() { feedWaiting, feedFallback = w, f })
}
