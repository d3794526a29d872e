package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"kfdesk/ui/serve"
	"kfdesk/ui/workspace"
)

func init() {
	register("serve", "serve --listen ADDR   (receive WeChat's message pushes for every account set up with `serve init`,\n"+
		"        as plain HTTP behind your own HTTPS reverse proxy, e.g. --listen 127.0.0.1:8080; Ctrl+C stops it)\n"+
		"  kfdesk serve --domain NAME [--acme-email ADDR]   (the same on https://NAME, port 443, with a certificate from\n"+
		"        Let's Encrypt got and renewed by itself; needs ports 80 and 443 open and NAME's DNS pointing here)", serveRun)
}

func serveRun(e *Env, args []string) error {
	fs := flags("serve")
	listen := fs.String("listen", "", "")
	domain := fs.String("domain", "", "")
	email := fs.String("acme-email", "", "")
	directory := fs.String("acme-directory", "", "") // "" = Let's Encrypt; staging or a test CA
	// Not in the usage: for tests, and hosts that forward 80/443 to other ports.
	httpAddr := fs.String("http-addr", ":80", "")
	httpsAddr := fs.String("https-addr", ":443", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || (*listen == "") == (*domain == "") {
		return fmt.Errorf("%w: serve --listen ADDR (e.g. 127.0.0.1:8080) or serve --domain NAME (e.g. kf.example.com), "+
			"one of the two; or serve init --account NAME first / --listen 与 --domain 二选一", ErrUsage)
	}
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		return serveOn(e, plainSite(ln))
	}
	a := &serve.ACME{Domain: *domain, Email: *email, Directory: *directory, CacheDir: filepath.Join(e.WS.Dir, "acme")}
	if _, err := a.Name(); err != nil { // a typo is told before port 80 is asked for
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	httpLn, err := listenPort(*httpAddr)
	if err != nil {
		return err
	}
	tlsLn, err := listenPort(*httpsAddr)
	if err != nil {
		httpLn.Close()
		return err
	}
	return serveOn(e, acmeSite(a, httpLn, tlsLn))
}

// listenPort listens on addr, saying what to do when a port under 1024 is refused.
func listenPort(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EACCES) {
		return nil, fmt.Errorf("%w: ports 80 and 443 need root or CAP_NET_BIND_SERVICE (docs/kfdesk-serve.service: AmbientCapabilities) / "+
			"监听 80、443 端口需要 root 或 CAP_NET_BIND_SERVICE 权限", err)
	}
	return ln, err
}

// site is where serveOn serves the push handler: plain HTTP (--listen) or HTTPS with
// its own certificate (--domain).
type site struct {
	base      string // the push URLs' start, printed with each account's path
	endpoints func(h http.Handler) ([]serve.Endpoint, error)
	started   func(ctx context.Context) // once serving; nil for nothing
	close     func()                    // the listeners, when serving never starts
}

func plainSite(ln net.Listener) site {
	return site{base: "http://" + ln.Addr().String(), close: func() { ln.Close() },
		endpoints: func(h http.Handler) ([]serve.Endpoint, error) {
			return []serve.Endpoint{{Server: serve.NewServer(ln.Addr().String(), h), Listener: ln}}, nil
		}}
}

func acmeSite(a *serve.ACME, httpLn, tlsLn net.Listener) site {
	base := "https://" + a.Domain
	if _, port, _ := net.SplitHostPort(tlsLn.Addr().String()); port != "443" {
		base += ":" + port
	}
	var m *autocert.Manager
	return site{base: base, close: func() { httpLn.Close(); tlsLn.Close() },
		endpoints: func(h http.Handler) (eps []serve.Endpoint, err error) {
			eps, m, err = a.Endpoints(h, httpLn, tlsLn)
			return eps, err
		},
		started: func(ctx context.Context) {
			// The certificate now, not at WeChat's first push; and a wrong DNS record or a
			// closed port 80 shows in the log at start.
			switch err := a.Prefetch(ctx, m); {
			case err == nil:
				slog.Info("certificate ready", "domain", a.Domain)
			case ctx.Err() == nil:
				slog.Error("no certificate for the domain yet: check that its DNS A record points here and ports 80 and 443 are open; "+
					"tried again at the next visit", "domain", a.Domain, "err", err)
			}
		}}
}

// serveOn serves the push URLs of every set-up account on s until e.Ctx ends.
func serveOn(e *Env, s site) error {
	receivers, err := e.WS.Receivers(e.Ctx)
	if err != nil {
		s.close()
		return err
	}
	if len(receivers) == 0 {
		s.close()
		return fmt.Errorf("%w: no account has push settings yet: run `kfdesk serve init --account NAME` / 还没有账号设置消息推送，请先运行 kfdesk serve init", ErrUsage)
	}
	eps, err := s.endpoints(serve.Handler(receivers, serve.DesktopAPI(e.Ctx, e.WS, receivers...)))
	if err != nil {
		s.close()
		return err
	}
	for _, r := range receivers {
		fmt.Fprintf(e.Stderr, "receiving the pushes of %s at %s%s / 接收消息推送\n", r.Account().Name, s.base, workspace.PushPath(r.Account()))
	}
	// The background work of stored pushes (media downloads, auto-replies sent through
	// custom/send), in the same process;
	// what it has not done when the server stops waits in the database for the next start.
	jobsDone := make(chan struct{})
	go func() {
		defer close(jobsDone)
		if err := e.WS.RunJobs(e.Ctx, workspace.JobOptions{}); err != nil && e.Ctx.Err() == nil {
			slog.Error("the background jobs stopped", "err", err)
		}
	}()
	stopped := make(chan struct{})
	go func() {
		<-e.Ctx.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // answers under way finish
		defer cancel()
		for _, ep := range eps {
			_ = ep.Server.Shutdown(ctx)
		}
		close(stopped)
	}()
	// One server failing (its listener broke) stops them all: a half-served site is worse.
	errs := make(chan error, len(eps))
	for _, ep := range eps {
		go func() { errs <- ep.Serve() }()
	}
	if s.started != nil {
		go s.started(e.Ctx)
	}
	var first error
	for range eps {
		if err := <-errs; err != nil && !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
			for _, ep := range eps {
				ep.Server.Close()
			}
		}
	}
	if first != nil {
		return first
	}
	<-stopped
	<-jobsDone
	return nil
}
