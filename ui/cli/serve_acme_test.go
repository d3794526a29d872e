package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kfdesk/api/wechattest"
	"kfdesk/ui/serve"
	"kfdesk/ui/workspace"
)

// acmeDomain is a name only Pebble's DNS (pebble-challtestsrv) knows: it answers
// 127.0.0.1 for every name.
const acmeDomain = "kf.example.test"

// `kfdesk serve --domain` against Pebble, Let's Encrypt's test CA, on loopback: the
// certificate is got by real HTTP-01 validation against the server's port-80 handler
// (TLS-ALPN-01, which autocert tries first, is pointed at a closed port so it fails),
// served on the HTTPS port, and a push from the fake WeChat over that HTTPS is stored.
func TestServeDomainGetsACertificateByACME(t *testing.T) {
	pb := startPebble(t)
	h, srv := shopHarness(t)
	if err := h.run("", "serve", "--listen", "127.0.0.1:0", "--domain", acmeDomain); !errors.Is(err, ErrUsage) {
		t.Fatalf("serve --listen and --domain together: %v", err)
	}
	if err := h.run("", "serve", "--domain", "kf.example.com/wx", "--http-addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0"); !errors.Is(err, ErrUsage) ||
		!strings.Contains(err.Error(), "不是域名") {
		t.Fatalf("serve --domain with a URL: %v", err)
	}
	if err := h.run("", "--json", "serve", "init"); err != nil {
		t.Fatal(err)
	}
	a, err := h.ws.CurrentAccount(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.ws.PushSettings(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	cache := filepath.Join(h.ws.Dir, "acme")
	acme := &serve.ACME{Domain: acmeDomain, Email: "ops@example.test", Directory: pb.directory, CacheDir: cache, HTTPClient: pb.client}
	done := make(chan error, 1)
	h.stderr.Reset()
	go func() {
		done <- serveOn(&Env{Ctx: ctx, WS: h.ws, Stderr: &h.stderr}, acmeSite(acme, pb.httpLn, pb.tlsLn))
	}()

	// The certificate Pebble issued, trusted through Pebble's root only.
	roots := pb.issuingRoot(t)
	_, tlsPort, _ := net.SplitHostPort(pb.tlsLn.Addr().String())
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr) // NAME → 127.0.0.1, as its DNS record would
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	pushURL := "https://" + acmeDomain + ":" + tlsPort + workspace.PushPath(a)
	var resp *http.Response
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+acmeDomain+":"+tlsPort+"/", nil)
		if resp, err = client.Do(req); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no certificate from Pebble: %v\npebble: %s", err, pb.log.String())
		}
		time.Sleep(200 * time.Millisecond) // the handshake fails while issuance is under way
	}
	resp.Body.Close()
	leaf := resp.TLS.PeerCertificates[0]
	if resp.StatusCode != http.StatusNotFound || leaf.VerifyHostname(acmeDomain) != nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("HTTPS: %d, names %v, TLS %x", resp.StatusCode, leaf.DNSNames, resp.TLS.Version)
	}
	if pb.httpAccepts.Load() == 0 {
		t.Fatal("Pebble never fetched the HTTP-01 answer from the port-80 handler")
	}
	// Port 80 sends everything else to https://.
	_, httpPort, _ := net.SplitHostPort(pb.httpLn.Addr().String())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+acmeDomain+":"+httpPort+workspace.PushPath(a), nil)
	r80, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r80.Body.Close()
	if loc := r80.Header.Get("Location"); r80.StatusCode != http.StatusFound || loc != "https://"+acmeDomain+":443"+workspace.PushPath(a) {
		t.Fatalf("port 80: %d %q", r80.StatusCode, loc)
	}

	pusher, err := srv.NewPusher(wechattest.PushConfig{URL: pushURL, Client: client,
		Token: p.Token, EncodingAESKey: p.EncodingAESKey, Mode: wechattest.PushSafe, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pusher.Close()
	if v := pusher.VerifyURL(ctx); !v.OK {
		t.Fatalf("URL check over HTTPS: %+v", v)
	}
	if d, err := pusher.Push(ctx, wechattest.Text(customer, "证书好了吗")); err != nil || d.Verdict != wechattest.PassiveReply {
		t.Fatalf("push over HTTPS: %v %s %s", err, d.Verdict, d.Reason)
	}
	got, err := h.ws.DB.PushesSince(ctx, a.ID, 0, 10)
	if err != nil || len(got) != 1 || got[0].Content != "证书好了吗" {
		t.Fatalf("stored %+v %v", got, err)
	}
	if out := h.stderr.String(); !strings.Contains(out, pushURL) {
		t.Fatalf("serve did not print the https push URL %s: %q", pushURL, out)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop when interrupted")
	}
	// The account key and the certificate stay for the next start, closed to others.
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache folder: %v %v", fi.Mode(), err)
	}
	// A restart serves the kept certificate without asking the CA (here: none there).
	leafAgain := restartServe(t, h, &serve.ACME{Domain: acmeDomain, Directory: "https://127.0.0.1:1/dir", CacheDir: cache}, roots)
	if !leafAgain.Equal(leaf) {
		t.Fatalf("after a restart a new certificate %v, not the kept one %v", leafAgain.SerialNumber, leaf.SerialNumber)
	}
	files, _ := os.ReadDir(cache)
	names := []string{}
	for _, f := range files {
		names = append(names, f.Name())
		if fi, _ := f.Info(); fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is open to others: %v", f.Name(), fi.Mode())
		}
	}
	if !strings.Contains(strings.Join(names, " "), "acme_account+key") || !strings.Contains(strings.Join(names, " "), acmeDomain) {
		t.Fatalf("cache holds %v", names)
	}
}

// restartServe runs serve --domain again on new ports and returns the certificate it
// serves.
func restartServe(t *testing.T, h *harness, a *serve.ACME, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serveOn(&Env{Ctx: ctx, WS: h.ws, Stderr: io.Discard}, acmeSite(a, httpLn, tlsLn)) }()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", tlsLn.Addr().String(),
		&tls.Config{ServerName: acmeDomain, RootCAs: roots})
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the restarted serve ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the restarted serve did not stop")
	}
	return leaf
}

// pebble is a running Pebble with the two listeners of the server under test: Pebble
// validates HTTP-01 on httpLn's port.
type pebble struct {
	directory, management string
	client                *http.Client // trusts Pebble's own HTTPS (not its issuing CA)
	httpLn, tlsLn         net.Listener
	httpAccepts           *atomic.Int64
	log                   *syncBuffer
}

// startPebble runs Debian's pebble and pebble-challtestsrv (its DNS) on loopback, or
// skips when they are not installed (.ci/deps.sh acme installs them).
func startPebble(t *testing.T) *pebble {
	t.Helper()
	bin, err1 := exec.LookPath("pebble")
	dnsBin, err2 := exec.LookPath("pebble-challtestsrv")
	if err1 != nil || err2 != nil {
		t.Skip("pebble is not installed (Debian package pebble; `.ci/deps.sh acme`): the ACME test against a local CA is skipped")
	}
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	acmePort, mgmtPort, dnsPort, dnsMgmtPort, closedPort := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { httpLn.Close(); tlsLn.Close() })
	_, httpPort, _ := net.SplitHostPort(httpLn.Addr().String())
	cfg, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": "127.0.0.1:" + acmePort, "managementListenAddress": "127.0.0.1:" + mgmtPort,
		"certificate": certFile, "privateKey": keyFile,
		"httpPort": json.Number(httpPort), "tlsPort": json.Number(closedPort), // TLS-ALPN-01 fails: HTTP-01 is what is tested
		"ocspResponderURL": "", "externalAccountBindingRequired": false}})
	cfgFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgFile, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // the processes never outlive the test
	log := &syncBuffer{}
	run := func(cmd *exec.Cmd) {
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	t.Cleanup(cancel)
	run(exec.CommandContext(ctx, dnsBin, "-dns01", "127.0.0.1:"+dnsPort, "-http01", "", "-https01", "", "-tlsalpn01", "",
		"-management", "127.0.0.1:"+dnsMgmtPort, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""))
	cmd := exec.CommandContext(ctx, bin, "-config", cfgFile, "-dnsserver", "127.0.0.1:"+dnsPort)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	run(cmd)

	pb := &pebble{directory: "https://127.0.0.1:" + acmePort + "/dir", management: "https://127.0.0.1:" + mgmtPort,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		tlsLn:  tlsLn, httpAccepts: &atomic.Int64{}, log: log}
	pb.httpLn = countingListener{httpLn, pb.httpAccepts}
	t.Cleanup(pb.client.CloseIdleConnections)
	wait, cancelWait := context.WithTimeout(ctx, 30*time.Second)
	defer cancelWait()
	for {
		req, _ := http.NewRequestWithContext(wait, http.MethodGet, pb.directory, nil)
		resp, err := pb.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return pb
			}
		}
		if wait.Err() != nil {
			t.Fatalf("pebble did not start: %v\n%s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// issuingRoot is the root Pebble signs certificates with (new at each start).
func (pb *pebble) issuingRoot(t *testing.T) *x509.CertPool {
	t.Helper()
	resp, err := pb.client.Get(pb.management + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if err != nil || resp.StatusCode != http.StatusOK || !pool.AppendCertsFromPEM(body) {
		t.Fatalf("pebble's root: %d %v %q", resp.StatusCode, err, body)
	}
	return pool
}

// selfSigned writes a certificate for 127.0.0.1 that Pebble serves its ACME API with.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// freePort is a loopback TCP port free a moment ago, for the programs that take a
// port number rather than a listener.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
