package workspace

import "testing"

// AnyServerURL lets connection codes name any http(s) address (the tests' servers
// listen on loopback ports) until the test ends.
func AnyServerURL(t *testing.T) {
	old := checkConnectionURL
	checkConnectionURL = func(s string) (string, error) { return s, nil }
	t.Cleanup(func() { checkConnectionURL = old })
}
