package workspace

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"kfdesk/api"
	"kfdesk/storage"
)

// A connection code is what `kfdesk serve key add` prints for a desktop to paste: the
// push server's address and that desktop's key in one line, so nobody types either.
// It holds the key: treat it as the key. Format: "kfdesk1." + base64url(JSON).
const connectionCodePrefix = "kfdesk1."

// checkConnectionURL checks a code's server address (a variable: tests serve on loopback ports).
var checkConnectionURL = CheckPushURLBase

// Connection is what a connection code carries.
type Connection struct {
	URL string `json:"url"` // the push server's address, e.g. https://kf.example.com
	Key string `json:"key"` // the desktop key (storage.DesktopKeyPrefix…)
}

// ConnectionCode encodes c.
func ConnectionCode(c Connection) string {
	b, _ := json.Marshal(c) // two strings: cannot fail
	return connectionCodePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseConnectionCode reads a pasted connection code (spaces and line breaks around
// it, from a chat app or an e-mail, are dropped).
func ParseConnectionCode(code string) (Connection, error) {
	var c Connection
	bad := &api.InputError{Field: "connection_code",
		Chinese: "连接码不正确：请从服务器上 kfdesk serve key add 的输出完整复制（以 kfdesk1. 开头）。",
		English: "That connection code is not right: copy it whole from the output of kfdesk serve key add on the server (it starts with kfdesk1.)."}
	code = strings.Join(strings.Fields(code), "")
	rest, ok := strings.CutPrefix(code, connectionCodePrefix)
	if !ok {
		return c, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || json.Unmarshal(b, &c) != nil || !strings.HasPrefix(c.Key, storage.DesktopKeyPrefix) {
		return Connection{}, bad
	}
	if _, err := checkConnectionURL(c.URL); err != nil {
		return Connection{}, bad
	}
	return c, nil
}
