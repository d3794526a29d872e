package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/storage"
)

// The push server a desktop receives from (issue 12 §3): Settings → account →
// 接收服务器 Push server. Its connection code holds the desktop key, a secret, so it
// is kept in the secret store (never the accounts table); with it the desktop needs no
// AppSecret: the server's /api/v1/token is its token URL (ui/serve/desktop.go).

// pushServerKey is the secret-store key of an account's push server connection.
func pushServerKey(a storage.Account) string { return secretKey(a) + ":pushserver" }

// pushServerTimeout bounds a test of the server and every request but the feed's long poll.
const pushServerTimeout = 15 * time.Second

// TestPushServer checks that the server in code answers and takes its key.
func (w *Workspace) TestPushServer(ctx context.Context, code string) error {
	c, err := ParseConnectionCode(code)
	if err != nil {
		return err
	}
	return testPushServer(ctx, c, "")
}

func testPushServer(ctx context.Context, c Connection, appID string) error {
	ctx, cancel := context.WithTimeout(ctx, pushServerTimeout)
	defer cancel()
	q := url.Values{"cursor": {"9223372036854775807"}} // past every push: an empty answer at once
	if appID != "" {
		q.Set("account", appID)
	}
	_, err := getFeed(ctx, c, q)
	return err
}

// SetPushServer tests the server in code for account a and keeps it in the secret store.
func (w *Workspace) SetPushServer(ctx context.Context, a storage.Account, code string) error {
	c, err := ParseConnectionCode(code)
	if err != nil {
		return err
	}
	if err := testPushServer(ctx, c, a.AppID); err != nil {
		return err
	}
	b, _ := json.Marshal(c) // two strings: cannot fail
	if err := w.Secrets.Set(pushServerKey(a), string(b)); err != nil {
		return secretError(err, "无法把接收服务器的连接码保存到%s。", "Could not save the push server's connection code in %s.", w.Secrets.Where())
	}
	if stripped, ok := withoutPassword(a.TokenURL); ok && a.TokenMode == storage.TokenURL && sameServer(a.TokenURL, c.URL) {
		// The key was in the accounts table: now only in the secret store.
		if err := w.DB.ScrubTokenURL(ctx, a.ID, stripped); err != nil {
			return err
		}
	}
	w.forgetClient(a)
	return nil
}

// PushServer is the address of the account's push server (ok false when none is set).
func (w *Workspace) PushServer(_ context.Context, a storage.Account) (string, bool, error) {
	c, ok, err := w.pushServer(a)
	return c.URL, ok, err
}

func (w *Workspace) pushServer(a storage.Account) (Connection, bool, error) {
	var c Connection
	s, err := w.Secrets.Get(pushServerKey(a))
	if errors.Is(err, storage.ErrSecretNotFound) {
		return c, false, nil
	}
	if err != nil {
		return c, false, secretError(err, "无法从%s读取接收服务器的连接码。", "Could not read the push server's connection code from %s.", w.Secrets.Where())
	}
	if json.Unmarshal([]byte(s), &c) != nil || c.URL == "" || c.Key == "" {
		return Connection{}, false, secretError(errors.New("damaged"), "%s中接收服务器的连接码已损坏：请重新粘贴连接码。",
			"The push server's connection code in %s is damaged: paste the connection code again.", w.Secrets.Where())
	}
	return c, true, nil
}

// RemovePushServer forgets the account's push server (the inbox then polls).
func (w *Workspace) RemovePushServer(_ context.Context, a storage.Account) error {
	if err := w.Secrets.Delete(pushServerKey(a)); err != nil && !errors.Is(err, storage.ErrSecretNotFound) {
		return secretError(err, "无法从%s删除接收服务器的连接码。", "Could not remove the push server's connection code from %s.", w.Secrets.Where())
	}
	w.forgetClient(a)
	return nil
}

func (w *Workspace) forgetClient(a storage.Account) {
	w.mu.Lock()
	delete(w.clients, a.ID)
	w.mu.Unlock()
}

// serverTokenURL is the server's token URL for the account, with the key as Basic
// auth's password (built in memory only; Go's errors print it as ***).
func serverTokenURL(c Connection, a storage.Account) string {
	u, err := url.Parse(strings.TrimRight(c.URL, "/") + "/api/v1/token")
	if err != nil {
		return ""
	}
	u.User = url.UserPassword("desktop", c.Key)
	u.RawQuery = url.Values{"account": {a.AppID}}.Encode()
	return u.String()
}

// ErrPushServerKey: the server refused the key (revoked, or a code of another server).
var ErrPushServerKey error = api.Describe(nil, "接收服务器拒绝了这个连接码（密钥已被吊销，或不是这台服务器的）：请在服务器上运行 kfdesk serve key add 取得新的连接码。",
	"The push server refused this connection code (the key was revoked, or is another server's): get a new one with kfdesk serve key add on the server.")

// feedAnswer is GET /api/v1/feed's answer (ui/serve/desktop.go).
type feedAnswer struct {
	Items  []PushItem `json:"items"`
	Cursor int64      `json:"cursor"`
}

// getFeed reads the feed once.
func getFeed(ctx context.Context, c Connection, q url.Values) (feedAnswer, error) {
	var ans feedAnswer
	body, err := serverGet(ctx, c, "/api/v1/feed?"+q.Encode(), 8<<20)
	if err != nil {
		return ans, err
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return ans, api.Describe(err, "接收服务器的回答无法读取（它是 KF Desk 的接收服务器吗？）。",
			"The push server's answer could not be read (is it a KF Desk push server?).")
	}
	return ans, nil
}

// serverGet GETs path of the server with the key, reading at most limit bytes.
func serverGet(ctx context.Context, c Connection, path string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.URL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// url.Error names the URL, which holds no key (it is in the header).
		return nil, api.Describe(err, fmt.Sprintf("连不上接收服务器 %s：请检查网络和服务器是否在运行。", c.URL),
			fmt.Sprintf("Cannot reach the push server %s: check the network and that the server runs.", c.URL))
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return nil, ErrPushServerKey
	case res.StatusCode == http.StatusNotFound && strings.HasPrefix(path, "/api/v1/feed"):
		return nil, api.Describe(fmt.Errorf("HTTP %d", res.StatusCode), "接收服务器不接收这个账号的消息：请在服务器上为它运行 kfdesk serve init。",
			"The push server does not receive this account's messages: run kfdesk serve init for it on the server.")
	case res.StatusCode != http.StatusOK:
		return nil, api.Describe(fmt.Errorf("HTTP %d", res.StatusCode), fmt.Sprintf("接收服务器回答了 HTTP %d，请稍后再试。", res.StatusCode),
			fmt.Sprintf("The push server answered HTTP %d; try again later.", res.StatusCode))
	}
	return io.ReadAll(io.LimitReader(res.Body, limit))
}

// serverTokens tells whether the account's tokens come from its push server: one is
// set, and either no AppSecret is stored or the account's token URL is that server's.
func (w *Workspace) serverTokens(a storage.Account) (Connection, bool) {
	c, ok, err := w.pushServer(a)
	if err != nil || !ok {
		return c, false
	}
	if a.TokenMode == storage.TokenURL {
		return c, sameServer(a.TokenURL, c.URL)
	}
	if a.TokenMode == storage.TokenStatic {
		return c, false
	}
	_, err = w.Secrets.Get(secretKey(a))
	return c, errors.Is(err, storage.ErrSecretNotFound)
}

// sameServer: tokenURL is on the push server at base.
func sameServer(tokenURL, base string) bool {
	t, err1 := url.Parse(tokenURL)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && t.Scheme == b.Scheme && t.Host == b.Host
}

// withoutPassword is tokenURL without the key a desktop once kept in it
// (https://desktop:<key>@host/api/v1/token…): the key now lives in the secret store.
func withoutPassword(tokenURL string) (string, bool) {
	u, err := url.Parse(tokenURL)
	if err != nil || u.User == nil {
		return tokenURL, false
	}
	if _, has := u.User.Password(); !has {
		return tokenURL, false
	}
	u.User = nil
	return u.String(), true
}
