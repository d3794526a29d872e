package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
	"golang.org/x/net/idna"
)

// ACME is `kfdesk serve --domain`: HTTPS on port 443 with a certificate got and
// renewed from an ACME CA (Let's Encrypt unless Directory says otherwise), proving
// the domain by HTTP-01 on port 80 (or TLS-ALPN-01 on 443, which autocert tries
// first). RFC 8555; https://pkg.go.dev/golang.org/x/crypto/acme/autocert.
type ACME struct {
	Domain    string
	Email     string // optional: the CA writes here before a certificate expires unrenewed
	Directory string // "" = Let's Encrypt production (autocert.DefaultACMEDirectory)
	// CacheDir keeps the ACME account key and the certificates (secrets: 0700, files
	// 0600) so a restart does not ask the CA again — Let's Encrypt limits how often.
	CacheDir string
	// HTTPClient talks to the CA; nil is the default. Tests pass one trusting their CA.
	HTTPClient *http.Client
}

// Endpoint is one server of `kfdesk serve` and the listener it serves.
type Endpoint struct {
	Server   *http.Server
	Listener net.Listener
}

// Serve serves until Shutdown, over TLS when the server has a TLS config.
func (p Endpoint) Serve() error {
	if p.Server.TLSConfig != nil {
		return p.Server.ServeTLS(p.Listener, "", "") // certificates from TLSConfig.GetCertificate
	}
	return p.Server.Serve(p.Listener)
}

// Endpoints returns h over HTTPS on tlsLn and, on httpLn, the HTTP-01 answers with
// every other request redirected to https://. It does not contact the CA: the
// certificate comes at the first TLS handshake, or from Prefetch.
func (a *ACME) Endpoints(h http.Handler, httpLn, tlsLn net.Listener) ([]Endpoint, *autocert.Manager, error) {
	domain, err := a.Name()
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(a.CacheDir, 0o700); err != nil {
		return nil, nil, err
	}
	if err := os.Chmod(a.CacheDir, 0o700); err != nil { // made earlier by someone else: close it
		return nil, nil, err
	}
	dir := a.Directory
	if dir == "" {
		dir = autocert.DefaultACMEDirectory
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS, // the operator chose the CA by choosing --domain (README)
		HostPolicy: OneHost(domain),
		Cache:      autocert.DirCache(a.CacheDir), // writes 0600 files in a 0700 folder
		Email:      a.Email,
		Client:     &acme.Client{DirectoryURL: dir, HTTPClient: a.HTTPClient},
	}
	tlsCfg := m.TLSConfig()
	tlsCfg.MinVersion = tls.VersionTLS12
	https := NewServer(tlsLn.Addr().String(), h)
	https.TLSConfig = tlsCfg
	// Failed handshakes (scanners with no or a wrong server name) only at debug level, or
	// they fill the log; certificate trouble is logged once at start (Prefetch's caller).
	https.ErrorLog = slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug)
	plain := NewServer(httpLn.Addr().String(), m.HTTPHandler(nil)) // nil: redirect to https
	return []Endpoint{{https, tlsLn}, {plain, httpLn}}, m, nil
}

// Name is Domain as TLS and ACME write it: lower case, a Unicode name in its xn-- form.
func (a *ACME) Name() (string, error) {
	domain, err := idna.Lookup.ToASCII(strings.TrimSuffix(strings.TrimSpace(a.Domain), "."))
	if err != nil || domain == "" || !strings.Contains(domain, ".") || net.ParseIP(domain) != nil {
		return "", fmt.Errorf("--domain %q is not a domain name like kf.example.com / 不是域名", a.Domain)
	}
	return domain, nil
}

// OneHost allows only domain, in a TLS server name or an HTTP Host header with or
// without a port (autocert.HostWhitelist refuses "kf.example.com:80").
func OneHost(domain string) autocert.HostPolicy {
	return func(_ context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !strings.EqualFold(strings.TrimSuffix(host, "."), domain) {
			return errors.New("acme/autocert: host not configured") // the name is the client's: not logged
		}
		return nil
	}
}

// Prefetch gets the certificate now rather than at the first visitor's handshake, so
// WeChat's first push (5 s to answer) does not wait for the CA, and a setup mistake
// (DNS, port 80 closed) shows in the log at start. It returns when it has the
// certificate, ctx ends, or the CA refused.
func (a *ACME) Prefetch(ctx context.Context, m *autocert.Manager) error {
	domain, err := a.Name()
	if err != nil {
		return err
	}
	// An ECDSA-capable hello, as browsers and WeChat send: autocert keeps one
	// certificate per key type and would otherwise get an RSA one first.
	hello := &tls.ClientHelloInfo{ServerName: domain,
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:  []tls.CurveID{tls.CurveP256},
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
	done := make(chan error, 1)
	go func() { // GetCertificate has its own 5-minute bound and no ctx
		_, err := m.GetCertificate(hello)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
