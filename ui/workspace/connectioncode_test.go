package workspace

import (
	"strings"
	"testing"
)

func TestConnectionCodeRoundTrip(t *testing.T) {
	c := Connection{URL: "https://kf.example.com", Key: "kfd_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"}
	code := ConnectionCode(c)
	if !strings.HasPrefix(code, "kfdesk1.") || strings.ContainsAny(code, "+/= \n") {
		t.Fatalf("code %q", code)
	}
	// Pasted from a chat, wrapped over two lines with spaces around.
	pasted := "  " + code[:20] + "\n" + code[20:] + " \n"
	if got, err := ParseConnectionCode(pasted); err != nil || got != c {
		t.Fatalf("parsed %+v %v", got, err)
	}
	for _, bad := range []string{"", "kfdesk1.", "kfdesk2." + code[8:], code[:len(code)-3], "kfd_plainkey",
		ConnectionCode(Connection{URL: "ftp://x", Key: c.Key}), ConnectionCode(Connection{URL: c.URL, Key: "nokey"})} {
		if _, err := ParseConnectionCode(bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
