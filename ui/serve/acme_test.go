package serve

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The challenge handler is asked with the Host header, which may carry a port
// ("kf.example.com:80" is a legal Host); the TLS server name never does. Both are the
// one domain, in any case; nothing else is.
func TestOneHostAllowsOnlyTheDomain(t *testing.T) {
	allow := OneHost("kf.example.com")
	for _, host := range []string{"kf.example.com", "KF.Example.com", "kf.example.com:80", "kf.example.com.", "kf.example.com:5002"} {
		if err := allow(context.Background(), host); err != nil {
			t.Errorf("%q refused: %v", host, err)
		}
	}
	for _, host := range []string{"", "example.com", "x.kf.example.com", "kf.example.com.evil.test", "127.0.0.1", "kf.example.co"} {
		if err := allow(context.Background(), host); err == nil {
			t.Errorf("%q allowed", host)
		}
	}
}

// A mistyped --domain is refused before anything listens or asks a CA; a Chinese
// domain becomes the xn-- name TLS uses; the cache folder is closed to other users
// even when it existed before.
func TestACMEEndpoints(t *testing.T) {
	ln := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	cache := filepath.Join(t.TempDir(), "acme")
	for _, bad := range []string{"", "localhost", "127.0.0.1", "kf example.com", "https://kf.example.com"} {
		if _, _, err := (&ACME{Domain: bad, CacheDir: cache}).Endpoints(http.NotFoundHandler(), ln(), ln()); err == nil ||
			!strings.Contains(err.Error(), "不是域名") {
			t.Errorf("--domain %q: %v", bad, err)
		}
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	eps, m, err := (&ACME{Domain: "客服.例子.中国", CacheDir: cache}).Endpoints(http.NotFoundHandler(), ln(), ln())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache folder %v %v", fi.Mode(), err)
	}
	if err := m.HostPolicy(context.Background(), "xn--ubtq9x.xn--fsqu00a.xn--fiqs8s"); err != nil {
		t.Fatalf("the punycode name: %v", err)
	}
	if len(eps) != 2 || eps[0].Server.TLSConfig == nil || eps[0].Server.TLSConfig.MinVersion != 0x0303 || eps[1].Server.TLSConfig != nil {
		t.Fatalf("endpoints %+v", eps)
	}
	// Port 80 answers the CA's challenges and sends everything else to https://.
	rec := httptest.NewRecorder()
	eps[1].Server.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://xn--ubtq9x.xn--fsqu00a.xn--fiqs8s/wx/wx1", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://xn--ubtq9x.xn--fsqu00a.xn--fiqs8s/wx/wx1" {
		t.Fatalf("port 80: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}
