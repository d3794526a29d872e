// Package serve is the HTTP front-end of `kfdesk serve`: the URL WeChat pushes an
// account's messages to (one path per account, /wx/<appid>), with the limits a
// server on the internet needs. What a push means — verify, store, answer — is
// ui/workspace's Receiver; this package only speaks HTTP. Like ui/cli it is a
// front-end on the workspace, with no SQL and no WeChat calls of its own.
package serve

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"kfdesk/api/push"
	"kfdesk/ui/workspace"
)

// Handler routes each account's pushes to its receiver, and /api/ to desktop (the
// desktop API, DesktopAPI; nil: none). Everything else is 404; on a push URL,
// methods other than GET (the console's check) and POST (a push) are 405.
func Handler(receivers []*workspace.Receiver, desktop http.Handler) http.Handler {
	byPath := make(map[string]*workspace.Receiver, len(receivers))
	for _, r := range receivers {
		byPath[workspace.PushPath(r.Account())] = r // the path `serve init` gave the console
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if desktop != nil && strings.HasPrefix(req.URL.Path, "/api/") {
			desktop.ServeHTTP(w, req)
			return
		}
		r, ok := byPath[strings.TrimSuffix(req.URL.Path, "/")]
		if !ok {
			http.NotFound(w, req)
			return
		}
		switch req.Method {
		case http.MethodGet:
			status, answer := r.Verify(req.URL.Query())
			if status != http.StatusOK {
				slog.Warn("push URL check refused: bad signature", "account", r.Account().Name, "remote", req.RemoteAddr)
			}
			reply(w, status, answer)
		case http.MethodPost:
			// Read at most MaxBody (+1 to tell "too large") before anything is parsed.
			body, err := io.ReadAll(io.LimitReader(req.Body, push.MaxBody+1))
			if err != nil {
				reply(w, http.StatusBadRequest, nil)
				return
			}
			status, answer, err := r.Receive(req.Context(), req.URL.Query(), body)
			if err != nil {
				// Why, never what: the error holds no message text and no secret.
				slog.Warn("push refused", "account", r.Account().Name, "status", status, "remote", req.RemoteAddr, "err", err)
			}
			reply(w, status, answer)
		default:
			w.Header().Set("Allow", "GET, POST")
			reply(w, http.StatusMethodNotAllowed, nil)
		}
	})
}

func reply(w http.ResponseWriter, status int, body []byte) {
	if body != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // WeChat hung up: it retries
}

// NewServer is the http.Server for addr with the timeouts an internet-facing server
// needs: a slow client cannot hold a connection, and every answer leaves well within
// WeChat's 5 seconds.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
}
