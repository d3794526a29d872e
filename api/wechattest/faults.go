package wechattest

import (
	"net/http"
	"strings"
	"time"

	"kfdesk/api/clock"
)

type faultKind int

const (
	faultErrcode faultKind = iota + 1
	faultHTML502
	faultMalformed
	faultDrop
	faultSlow
	faultEcho
)

// Fault is an injected failure (see FailNth/FailAlways). Except Slow, a faulted
// call never reaches the endpoint: it has no effect on the server's state.
type Fault struct {
	kind   faultKind
	code   int
	msg    string
	delay  time.Duration
	status int
}

// Errcode answers {"errcode":code,"errmsg":msg+" rid: ..."}; an empty msg uses
// WeChat's text for the code, and a msg that already carries "rid: " is sent as is.
func Errcode(code int, msg string) Fault { return Fault{kind: faultErrcode, code: code, msg: msg} }

// HTML502 answers HTTP 502 with nginx's HTML page, as a broken gateway does.
func HTML502() Fault { return Fault{kind: faultHTML502} }

// EchoRequest answers status with a long text page that quotes the request it refused
// (method, URL with its access_token or secret, body), as some gateways, firewalls and
// API relays do; 200 makes it a non-JSON answer.
func EchoRequest(status int) Fault { return Fault{kind: faultEcho, status: status} }

// Malformed answers HTTP 200 with a truncated JSON body.
func Malformed() Fault { return Fault{kind: faultMalformed} }

// Drop hijacks the connection and closes it without a complete answer. It first
// writes half a status line: a connection closed before any byte would be
// replayed silently by Go's transport (idempotent request on a reused
// connection), and the client would never see the drop.
func Drop() Fault { return Fault{kind: faultDrop} }

// Slow waits d (or until the client gives up), then answers normally.
func Slow(d time.Duration) Fault { return Fault{kind: faultSlow, delay: d} }

type faultRule struct {
	path   string // "" = every path
	left   int    // calls until it fires; 0 = always
	always bool
	f      Fault
}

// FailNth makes the nth call (1-based, counted from now) to path fail with f.
// Several FailNth rules may be pending for the same path.
func (s *Server) FailNth(path string, n int, f Fault) {
	if n < 1 {
		n = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultRule{path: path, left: n, f: f})
	s.mu.Unlock()
}

// FailAlways makes every call to path fail with f until ClearFaults; "" = every path.
func (s *Server) FailAlways(path string, f Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, &faultRule{path: path, always: true, f: f})
	s.mu.Unlock()
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault counts this call against the pending rules and returns the fault
// to apply, if any. s.mu is held.
func (s *Server) takeFault(path string) *Fault {
	var hit *Fault
	kept := s.faults[:0]
	for _, r := range s.faults {
		if r.path != "" && r.path != path {
			kept = append(kept, r)
			continue
		}
		if r.always {
			if hit == nil {
				f := r.f
				hit = &f
			}
			kept = append(kept, r)
			continue
		}
		r.left--
		if r.left > 0 {
			kept = append(kept, r)
			continue
		}
		if hit == nil {
			f := r.f
			hit = &f
		}
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return hit
}

// apply performs the fault; it reports whether the call should go on normally (Slow).
func (f *Fault) apply(w http.ResponseWriter, r *http.Request, body []byte) bool {
	switch f.kind {
	case faultErrcode:
		msg := f.msg
		if msg == "" {
			msg = errmsgs[f.code]
		}
		writeJSON(w, (&apiError{code: f.code, msg: msg}).body(clock.Now()))
	case faultHTML502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
			"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"))
	case faultEcho:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte("request refused: " + r.Method + " " + r.URL.RequestURI() + " " + string(body) + "\n" +
			strings.Repeat("Contact your network administrator.\n", 200)))
	case faultMalformed:
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","da`))
	case faultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, buf, err := hj.Hijack(); err == nil {
				_, _ = buf.WriteString("HTTP/1.1 200")
				_ = buf.Flush()
				_ = conn.Close()
				return false
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2 or a recorder: abort without an answer
	case faultSlow:
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		}
	default:
		return true
	}
	return false
}
