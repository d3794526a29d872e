package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"kfdesk/ui/serve"
	"kfdesk/ui/workspace"
)

func init() {
	register("serve", "serve --listen ADDR   (receive WeChat's message pushes for every account set up with `serve init`,\n"+
		"        as plain HTTP behind your own HTTPS reverse proxy, e.g. --listen 127.0.0.1:8080; Ctrl+C stops it)", serveRun)
}

func serveRun(e *Env, args []string) error {
	fs := flags("serve")
	listen := fs.String("listen", "", "")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *listen == "" {
		return fmt.Errorf("%w: serve --listen ADDR (e.g. 127.0.0.1:8080), or serve init --account NAME first", ErrUsage)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	return serveOn(e, ln)
}

// serveOn serves the push URLs of every set-up account on ln until e.Ctx ends.
func serveOn(e *Env, ln net.Listener) error {
	receivers, err := e.WS.Receivers(e.Ctx)
	if err != nil {
		ln.Close()
		return err
	}
	if len(receivers) == 0 {
		ln.Close()
		return fmt.Errorf("%w: no account has push settings yet: run `kfdesk serve init --account NAME` / 还没有账号设置消息推送，请先运行 kfdesk serve init", ErrUsage)
	}
	for _, r := range receivers {
		fmt.Fprintf(e.Stderr, "receiving the pushes of %s at http://%s%s / 接收消息推送\n", r.Account().Name, ln.Addr(), workspace.PushPath(r.Account()))
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
	srv := serve.NewServer(ln.Addr().String(), serve.Handler(receivers, serve.DesktopAPI(e.Ctx, e.WS, receivers...)))
	stopped := make(chan struct{})
	go func() {
		<-e.Ctx.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // answers under way finish
		defer cancel()
		_ = srv.Shutdown(ctx)
		close(stopped)
	}()
	err = srv.Serve(ln)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-stopped
	<-jobsDone
	return nil
}
