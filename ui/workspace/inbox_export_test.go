package workspace

import (
	"context"
	"testing"

	"kfdesk/api/wechattest"
)

// AnyServerURL lets connection codes name any http(s) address (the tests' servers
// listen on loopback ports) until the test ends.
func AnyServerURL(t testing.TB) {
	old := checkConnectionURL
	checkConnectionURL = func(s string) (string, error) { return s, nil }
	t.Cleanup(func() { checkConnectionURL = old })
}

// DemoSims hands each demo customer simulator the workspace starts to the test
// (which steps it) instead of running it, until the test ends.
func DemoSims(t *testing.T) <-chan *wechattest.CustomerSim {
	ch := make(chan *wechattest.CustomerSim, 4)
	old := runDemoSim
	runDemoSim = func(ctx context.Context, sim *wechattest.CustomerSim) { ch <- sim }
	t.Cleanup(func() { runDemoSim = old })
	return ch
}
