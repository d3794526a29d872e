package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/api/push"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/serve"
	"kfdesk/ui/workspace"
)

const (
	jobAppID    = "wx0123456789abcdef"
	jobToken    = "kfdeskToken42"
	jobAESKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	jobCustomer = "oCustomer0000000000000000001"
)

// pushEnv is a data folder with one account whose push URL (ui/serve) listens on
// 127.0.0.1, and the fake WeChat pushing to it in safe mode and serving media/get.
type pushEnv struct {
	ws     *workspace.Workspace
	acct   storage.Account
	wechat *wechattest.Server
	clock  *wechattest.FakeClock
	pusher *wechattest.Pusher
	// With the desktop API (newFeedEnv): its address, and a switch that makes it unreachable.
	serverURL   string
	desktopDown *atomic.Bool
	server      *httptest.Server
}

func newPushEnv(t *testing.T) *pushEnv { return newPushEnvWith(t, false) }

// newFeedEnv is a pushEnv whose server also serves the desktop API (/api/v1).
func newFeedEnv(t testing.TB) *pushEnv { return newPushEnvWith(t, true) }

func newPushEnvWith(t testing.TB, desktop bool) *pushEnv {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	ws, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	fc := wechattest.NewFakeClock(clock.Now())
	wechat := wechattest.NewServer(wechattest.Config{AppID: jobAppID, Secret: "s", Clock: fc})
	t.Cleanup(wechat.Close)
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "茶叶小铺", Kind: storage.KindOA, AppID: jobAppID, APIBase: wechat.URL}, "s")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ws.NewReceiver(a, push.Config{Token: jobToken, EncodingAESKey: jobAESKey})
	if err != nil {
		t.Fatal(err)
	}
	var api http.Handler
	down := new(atomic.Bool)
	if desktop {
		stop, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		h := serve.DesktopAPI(stop, ws, r)
		api = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if down.Load() { // as unreachable as a server can be: the connection just closes
				if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = c.Close()
				}
				return
			}
			h.ServeHTTP(w, req)
		})
	}
	srv := httptest.NewServer(serve.Handler([]*workspace.Receiver{r}, api))
	t.Cleanup(srv.Close)
	p, err := wechat.NewPusher(wechattest.PushConfig{URL: srv.URL + workspace.PushPath(a), Token: jobToken, EncodingAESKey: jobAESKey,
		Mode: wechattest.PushSafe, Timeout: time.Second, Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &pushEnv{ws: ws, acct: a, wechat: wechat, clock: fc, pusher: p, serverURL: srv.URL, desktopDown: down, server: srv}
}

func (e *pushEnv) push(t testing.TB, m wechattest.Message) {
	t.Helper()
	d, err := e.pusher.Push(context.Background(), m)
	// Stored and answered: "success", or the transfer to the KF system (forwarding is on by default).
	if err != nil || d.Verdict != wechattest.Accepted && d.Verdict != wechattest.PassiveReply {
		t.Fatalf("push %s: %v %s (%s)", m.MsgType, err, d.Verdict, d.Reason)
	}
}

func (e *pushEnv) pushes(t *testing.T) []storage.Push {
	t.Helper()
	ps, err := e.ws.DB.PushesSince(context.Background(), e.acct.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// startWorker runs RunJobs until the test ends (or stop is called) and reports its error.
func startWorker(t testing.TB, ws *workspace.Workspace, opt workspace.JobOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ws.RunJobs(ctx, opt) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("RunJobs: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds (a bound on waiting, not an assertion on time).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

func jobOf(t *testing.T, ws *workspace.Workspace, pushID int64, kind storage.JobKind) storage.Job {
	t.Helper()
	jobs, err := ws.DB.Jobs(context.Background(), pushID)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == kind {
			return j
		}
	}
	t.Fatalf("push %d has no %s job: %+v", pushID, kind, jobs)
	return storage.Job{}
}

// noAutoReply keeps the queue free of a kind these tests do not run.
var noAutoReply = map[storage.JobKind]workspace.JobHandler{
	workspace.JobAutoReply: func(context.Context, storage.Job) error { return nil },
}

// captureLog sends slog's default logger to a buffer for the test.
func captureLog(t *testing.T) *syncBuffer {
	t.Helper()
	var b syncBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&b, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &b
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
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A customer's picture, voice message and video, pushed by the fake WeChat over
// loopback, are downloaded by the worker (media/get; the video through its
// video_url) into files of exactly the bytes sent, owner-only, recorded with the push.
func TestMediaJobSavesPushedMediaAsFiles(t *testing.T) {
	e := newPushEnv(t)
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte("图"), 3000)...)
	amr := append([]byte("#!AMR\n"), bytes.Repeat([]byte{0x3c, 0x48}, 2000)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), bytes.Repeat([]byte{7}, 50000)...)
	e.push(t, wechattest.Image(jobCustomer, jpeg))
	e.push(t, wechattest.Voice(jobCustomer, amr, "你好"))
	e.push(t, wechattest.Video(jobCustomer, mp4, nil))
	e.push(t, wechattest.Text(jobCustomer, "没有媒体"))
	startWorker(t, e.ws, workspace.JobOptions{Handlers: noAutoReply})
	waitFor(t, "the media files", func() bool {
		n := 0
		for _, p := range e.pushes(t) {
			if p.MediaPath != "" {
				n++
			}
		}
		return n == 3
	})
	want := map[string][]byte{"image": jpeg, "voice": amr, "video": mp4}
	exts := map[string]string{"image": ".jpg", "voice": ".amr", "video": ".mp4"}
	for _, p := range e.pushes(t) {
		if p.MsgType == "text" {
			continue
		}
		got, err := os.ReadFile(p.MediaPath)
		if err != nil || !bytes.Equal(got, want[p.MsgType]) || p.MediaSize != int64(len(got)) {
			t.Errorf("%s saved as %s: %d bytes (%v), size %d; want %d bytes", p.MsgType, p.MediaPath, len(got), err, p.MediaSize, len(want[p.MsgType]))
		}
		if wantPath := fmt.Sprintf("%s/%d%s", e.ws.MediaDir(e.acct.ID), p.ID, exts[p.MsgType]); p.MediaPath != wantPath {
			t.Errorf("%s saved at %s, want %s", p.MsgType, p.MediaPath, wantPath)
		}
		if fi, err := os.Stat(p.MediaPath); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v, want 0600", p.MsgType, fi.Mode(), err)
		}
		waitFor(t, "the media job done", func() bool { return jobOf(t, e.ws, p.ID, workspace.JobMedia).State == storage.JobDone })
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(e.ws.MediaDir(e.acct.ID))
	if len(entries) != 3 {
		t.Errorf("media folder holds %d files, want 3", len(entries))
	}
}

// WeChat keeps a pushed media_id 3 days: a media job that runs later gets 40007 and is
// given up at once with the reason logged, not retried until MaxJobAttempts.
func TestExpiredMediaIsGivenUpWithTheReason(t *testing.T) {
	e := newPushEnv(t)
	logs := captureLog(t)
	e.push(t, wechattest.Image(jobCustomer, nil))
	p := e.pushes(t)[0]
	e.clock.Advance(api.MediaTTL + time.Minute) // the worker was down for 3 days
	startWorker(t, e.ws, workspace.JobOptions{Handlers: noAutoReply, RetryBase: time.Millisecond})
	waitFor(t, "the media job settled", func() bool {
		s := jobOf(t, e.ws, p.ID, workspace.JobMedia).State
		return s == storage.JobDone || s == storage.JobFailed
	})
	j := jobOf(t, e.ws, p.ID, workspace.JobMedia)
	if j.Attempt != 1 {
		t.Errorf("the expired media was tried %d times, want once", j.Attempt)
	}
	// Given up, with the reason kept for the operator.
	if j.State != storage.JobFailed || !strings.Contains(j.LastError, "40007") {
		t.Errorf("the expired media's job: state %s, reason %q", j.State, j.LastError)
	}
	if got, _ := e.ws.DB.Push(context.Background(), p.ID); got.MediaPath != "" {
		t.Errorf("an expired media saved at %s", got.MediaPath)
	}
	log := logs.String()
	if !strings.Contains(log, "job given up") || !strings.Contains(log, "40007") || !strings.Contains(log, fmt.Sprintf("push=%d", p.ID)) {
		t.Errorf("the log does not say why: %s", log)
	}
}

// storeJobs stores n pushes that each queue one job of kind.
func storeJobs(t *testing.T, ws *workspace.Workspace, n int, kind storage.JobKind) []int64 {
	t.Helper()
	ctx := context.Background()
	a, err := ws.AddAccount(ctx, storage.Account{Name: "店", Kind: storage.KindOA, AppID: jobAppID}, "s")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		id, _, err := ws.DB.StorePush(ctx, a.ID, storage.Push{CreateTime: clock.Now().Add(time.Duration(i) * time.Second), OpenID: jobCustomer,
			MsgType: "text", MsgID: fmt.Sprint(1000 + i), Content: "x", Raw: []byte("<xml/>"), BodyFormat: storage.FormatXML}, kind)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// A worker stopped in the middle of a job (its context cancelled, as when the
// process dies) leaves the job leased; once the lease runs out another worker runs
// it, and it is completed exactly once.
func TestAStoppedWorkersJobIsRunAgainAfterItsLeaseOnce(t *testing.T) {
	ws := openWS(t)
	const kind = "slow"
	pushID := storeJobs(t, ws, 1, kind)[0]
	started := make(chan struct{})
	var completed atomic.Int32
	first := startWorker(t, ws, workspace.JobOptions{Lease: 300 * time.Millisecond, Handlers: map[storage.JobKind]workspace.JobHandler{
		kind: func(ctx context.Context, j storage.Job) error {
			close(started)
			<-ctx.Done() // killed mid-job
			return ctx.Err()
		}}})
	<-started
	first()
	if j := jobOf(t, ws, pushID, kind); j.State != storage.JobRunning {
		t.Fatalf("the stopped worker's job is %s, want still leased (running)", j.State)
	}
	startWorker(t, ws, workspace.JobOptions{Lease: 300 * time.Millisecond, Handlers: map[storage.JobKind]workspace.JobHandler{
		kind: func(ctx context.Context, j storage.Job) error { completed.Add(1); return nil }}})
	waitFor(t, "the job done", func() bool { return jobOf(t, ws, pushID, kind).State == storage.JobDone })
	if n := completed.Load(); n != 1 {
		t.Errorf("completed %d times, want 1", n)
	}
	if j := jobOf(t, ws, pushID, kind); j.Attempt != 2 {
		t.Errorf("claimed %d times, want 2", j.Attempt)
	}
}

// Two workers on one queue never run the same job at the same time, and each job
// is done once.
func TestTwoWorkersNeverRunAJobTwiceAtOnce(t *testing.T) {
	ws := openWS(t)
	const kind = "work"
	ids := storeJobs(t, ws, 40, kind)
	var mu sync.Mutex
	running, runs := map[int64]bool{}, map[int64]int{}
	var overlaps atomic.Int32
	h := func(ctx context.Context, j storage.Job) error {
		mu.Lock()
		if running[j.ID] {
			overlaps.Add(1)
		}
		running[j.ID] = true
		runs[j.ID]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // let the other worker try to claim it meanwhile
		mu.Lock()
		running[j.ID] = false
		mu.Unlock()
		return nil
	}
	for range 2 {
		startWorker(t, ws, workspace.JobOptions{Batch: 3, Idle: time.Millisecond, Handlers: map[storage.JobKind]workspace.JobHandler{kind: h}})
	}
	waitFor(t, "every job done", func() bool {
		for _, id := range ids {
			if jobOf(t, ws, id, kind).State != storage.JobDone {
				return false
			}
		}
		return true
	})
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d times a job ran in two workers at once", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if j := jobOf(t, ws, id, kind); runs[j.ID] != 1 {
			t.Errorf("job %d ran %d times", j.ID, runs[j.ID])
		}
	}
}

// A failing job is retried with a growing wait, keeping its error; one marked GiveUp is not.
func TestFailingJobIsRetriedAndGiveUpIsNot(t *testing.T) {
	ws := openWS(t)
	ids := storeJobs(t, ws, 2, "flaky")
	var calls sync.Map
	startWorker(t, ws, workspace.JobOptions{RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond, Idle: time.Millisecond,
		Handlers: map[storage.JobKind]workspace.JobHandler{"flaky": func(ctx context.Context, j storage.Job) error {
			n, _ := calls.LoadOrStore(j.PushID, new(atomic.Int32))
			if c := n.(*atomic.Int32).Add(1); j.PushID == ids[1] {
				return workspace.GiveUp(errors.New("cannot ever work"))
			} else if c < 3 {
				return errors.New("WeChat unreachable")
			}
			return nil
		}}})
	waitFor(t, "both settled", func() bool {
		return jobOf(t, ws, ids[0], "flaky").State == storage.JobDone && jobOf(t, ws, ids[1], "flaky").State == storage.JobFailed
	})
	if j := jobOf(t, ws, ids[0], "flaky"); j.Attempt != 3 {
		t.Errorf("the flaky job ran %d times, want 3", j.Attempt)
	}
	if j := jobOf(t, ws, ids[1], "flaky"); j.Attempt != 1 || j.LastError != "cannot ever work" {
		t.Errorf("the job given up ran %d times (reason %q), want once with its reason", j.Attempt, j.LastError)
	}
}

func openWS(t testing.TB) *workspace.Workspace {
	t.Helper()
	t.Setenv("KFDESK_SECRETS", "file")
	ws, err := workspace.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// A job that takes longer than its lease (a large download) keeps it by extending
// it, so a second worker does not start it again meanwhile.
func TestALongJobKeepsItsLease(t *testing.T) {
	ws := openWS(t)
	pushID := storeJobs(t, ws, 1, "long")[0]
	// The lease is renewed every lease/3; it is long enough that a loaded machine
	// (a CI runner, parallel test binaries) does not stall a renewal past it.
	const lease = 300 * time.Millisecond
	var runs atomic.Int32
	h := func(ctx context.Context, j storage.Job) error {
		runs.Add(1)
		select {
		case <-time.After(4 * lease):
		case <-ctx.Done():
		}
		return nil
	}
	for range 2 {
		startWorker(t, ws, workspace.JobOptions{Lease: lease, Idle: time.Millisecond, Handlers: map[storage.JobKind]workspace.JobHandler{"long": h}})
	}
	waitFor(t, "the job done", func() bool { return jobOf(t, ws, pushID, "long").State == storage.JobDone })
	if n := runs.Load(); n != 1 {
		t.Errorf("the long job started %d times, want once", n)
	}
}

// A media job that comes up more than 3 days after the message (the server was off)
// is given up without asking WeChat: the media_id is gone.
func TestMediaJobPastTheThreeDaysAsksNothing(t *testing.T) {
	e := newPushEnv(t)
	logs := captureLog(t)
	id, _, err := e.ws.DB.StorePush(context.Background(), e.acct.ID, storage.Push{CreateTime: clock.Now().Add(-api.MediaTTL - time.Hour),
		OpenID: jobCustomer, MsgType: "image", MsgID: "1", MediaID: "gone", Raw: []byte("<xml/>"), BodyFormat: storage.FormatXML}, workspace.JobMedia)
	if err != nil {
		t.Fatal(err)
	}
	startWorker(t, e.ws, workspace.JobOptions{RetryBase: time.Millisecond})
	waitFor(t, "the media job settled", func() bool {
		// One read: two could see queued, then running, and take that for settled.
		st := jobOf(t, e.ws, id, workspace.JobMedia).State
		return st != storage.JobRunning && st != storage.JobQueued
	})
	if j := jobOf(t, e.ws, id, workspace.JobMedia); j.State != storage.JobFailed || j.Attempt != 1 {
		t.Errorf("job %s after %d attempts", j.State, j.Attempt)
	}
	if n := len(e.wechat.Requests("/cgi-bin/media/get")); n != 0 {
		t.Errorf("asked WeChat %d times for media gone for days", n)
	}
	if !strings.Contains(logs.String(), "media expired") {
		t.Errorf("the log does not say why: %s", logs.String())
	}
}

// A job whose claim is lost while it works (here: the customer's data deleted, the
// job with it) has its work cancelled instead of finishing for nobody.
func TestAJobWhoseLeaseIsLostIsCancelled(t *testing.T) {
	ws := openWS(t)
	pushID := storeJobs(t, ws, 1, "long")[0]
	p, err := ws.DB.Push(context.Background(), pushID)
	if err != nil {
		t.Fatal(err)
	}
	started, cancelled := make(chan struct{}), make(chan struct{})
	startWorker(t, ws, workspace.JobOptions{Lease: 60 * time.Millisecond, Handlers: map[storage.JobKind]workspace.JobHandler{
		"long": func(ctx context.Context, j storage.Job) error {
			close(started)
			<-ctx.Done()
			close(cancelled)
			return ctx.Err()
		}}})
	<-started
	if _, err := ws.DB.DeleteCustomerData(context.Background(), p.AccountID, p.OpenID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cancelled:
	case <-time.After(20 * time.Second):
		t.Fatal("the work went on after its job was gone")
	}
}
