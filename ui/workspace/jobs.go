package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
)

// The background worker of kfdesk serve (issue 11 §3): it runs the jobs a stored push
// queued (receive.go), off the push's answer and off any window. Jobs live in the
// database (storage/push_jobs.go), so a restart picks them up; a job is leased while it
// runs, and one whose worker died is claimed again once its lease runs out.

// JobHandler does one job. An error is retried later with backoff, unless it is
// marked with GiveUp (it can never succeed).
type JobHandler func(ctx context.Context, job storage.Job) error

// JobOptions configure RunJobs; zero values take the defaults.
type JobOptions struct {
	// Handlers adds or replaces handlers by kind (tests); the workspace's own are the
	// media download, the auto-reply send (RunAutoReplyJob) and notify. A kind with no
	// handler is retried (logged) until it has one or is given up.
	Handlers map[storage.JobKind]JobHandler
	Lease    time.Duration // how long a claim lasts before another worker may take the job (default 1 min)
	Batch    int           // jobs claimed and run at once (default 4)
	Idle     time.Duration // wait before looking again when nothing is due (default 1 s)
	// RetryBase is the wait before the first retry, doubled each attempt up to RetryMax
	// (defaults 10 s and 30 min).
	RetryBase, RetryMax time.Duration
}

func (o *JobOptions) defaults() {
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 4
	}
	if o.Idle <= 0 {
		o.Idle = time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 10 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Minute
	}
}

// backoff is the wait before retrying after the attempt-th attempt failed.
func (o *JobOptions) backoff(attempt int) time.Duration {
	d := o.RetryBase
	for i := 1; i < attempt && d < o.RetryMax; i++ {
		d *= 2
	}
	return min(d, o.RetryMax)
}

// errGiveUp marks an error no retry can fix.
type errGiveUp struct{ err error }

func (e errGiveUp) Error() string { return e.err.Error() }
func (e errGiveUp) Unwrap() error { return e.err }

// GiveUp marks err as permanent: the job is failed at once, not retried, with the reason kept and logged.
func GiveUp(err error) error { return errGiveUp{err} }

// RunJobs runs due jobs until ctx ends, and returns nil then. Several workers (in
// this process or another on the same data folder) may run at once: a claim is
// exclusive while its lease lasts. A worker stopped mid-job leaves it leased; it is
// run again after the lease, so handlers must be idempotent (storage/push_jobs.go).
func (w *Workspace) RunJobs(ctx context.Context, opt JobOptions) error {
	opt.defaults()
	handlers := map[storage.JobKind]JobHandler{
		JobMedia:     w.runMediaJob,
		JobAutoReply: w.RunAutoReplyJob,
		JobForget:    w.runForgetJob,
		// Desktops read the feed by cursor, woken when Receive stores a push
		// (desktopapi.go): nothing is left to do here.
		JobNotify: func(context.Context, storage.Job) error { return nil },
	}
	for k, h := range opt.Handlers {
		handlers[k] = h
	}
	for {
		jobs, err := w.DB.ClaimJobs(ctx, clock.Now(), opt.Lease, opt.Batch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			slog.Warn("could not claim background jobs", "err", err)
		}
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.runJob(ctx, j, handlers[j.Kind], &opt)
			}()
		}
		wg.Wait()
		if len(jobs) > 0 {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opt.Idle):
		}
	}
}

// runJob runs one claimed job, extending its lease while it works, and settles it.
func (w *Workspace) runJob(ctx context.Context, j storage.Job, h JobHandler, opt *JobOptions) {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	stop := make(chan struct{})
	var extender sync.WaitGroup
	extender.Add(1)
	go func() { // keep the lease while the work lasts (a long download)
		defer extender.Done()
		held := j
		for {
			select {
			case <-stop:
				return
			case <-time.After(opt.Lease / 3):
			}
			var err error
			if held, err = w.DB.ExtendLease(jctx, held, clock.Now().Add(opt.Lease)); err != nil {
				if errors.Is(err, storage.ErrLeaseLost) {
					close(lost)
					cancel() // another worker has it now: drop the work
					return
				}
				if jctx.Err() != nil {
					return
				}
				slog.Warn("could not extend a job's lease", "job", j.ID, "err", err)
			}
		}
	}()
	var err error
	if h == nil {
		err = fmt.Errorf("no handler for job kind %q", j.Kind)
	} else {
		err = h(jctx, j)
	}
	close(stop)
	extender.Wait()
	select {
	case <-lost:
		slog.Warn("job dropped: its lease was lost", "job", j.ID, "kind", j.Kind)
		return
	default:
	}
	if ctx.Err() != nil {
		return // stopped: the job stays leased and is claimed again after the lease
	}
	var gu errGiveUp
	switch {
	case err == nil && j.Kind == JobForget:
		// The deletion took the push, and this job with it: nothing is left to finish.
		if err = w.DB.FinishJob(ctx, j); errors.Is(err, storage.ErrLeaseLost) {
			err = nil
		}
	case err == nil:
		err = w.DB.FinishJob(ctx, j)
	case errors.As(err, &gu):
		slog.Warn("job given up", "job", j.ID, "push", j.PushID, "kind", j.Kind, "reason", err)
		err = w.DB.FailJob(ctx, j, err.Error()) // the reason stays with the job (FailedJobs)
	default:
		delay := opt.backoff(j.Attempt)
		slog.Warn("job failed, will retry", "job", j.ID, "push", j.PushID, "kind", j.Kind, "attempt", j.Attempt, "in", delay, "err", err)
		err = w.DB.RetryJob(ctx, j, clock.Now().Add(delay), err.Error())
	}
	if err != nil {
		slog.Warn("could not settle a job", "job", j.ID, "err", err)
	}
}

// MediaDir is where pushed media are saved: media/<account id>/ in the data folder.
func (w *Workspace) MediaDir(accountID int64) string {
	return filepath.Join(w.Dir, "media", strconv.FormatInt(accountID, 10))
}

// runMediaJob downloads a push's media (media/get) while it lives and saves it as
// MediaDir/<push id>.<ext>, then records it with the push. The file is written whole
// to a temporary name and renamed, so a file under its final name is complete; a
// second run of the job writes the same file again.
func (w *Workspace) runMediaJob(ctx context.Context, j storage.Job) error {
	p, err := w.DB.Push(ctx, j.PushID)
	if errors.Is(err, storage.ErrNotFound) {
		return GiveUp(err) // the customer's data was deleted
	}
	if err != nil {
		return err
	}
	if p.MediaID == "" || p.MediaPath != "" {
		return nil
	}
	if clock.Now().Sub(p.CreateTime) >= api.MediaTTL {
		return GiveUp(fmt.Errorf("media expired: WeChat keeps it %v after the message", api.MediaTTL))
	}
	a, err := w.jobAccount(ctx, p.AccountID)
	if err != nil {
		return err
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	m, err := c.GetMedia(ctx, p.MediaID)
	var ae *api.Error
	if errors.As(err, &ae) && !ae.Retryable() && ae.Kind != api.KindToken {
		return GiveUp(err) // 40007 expired or unknown, too large, not media: no retry helps
	}
	if err != nil {
		return err
	}
	dir := w.MediaDir(p.AccountID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, strconv.FormatInt(p.ID, 10)+mediaExt(p.MsgType, m))
	if err := writeFileAtomic(path, m.Data); err != nil {
		return err
	}
	err = w.DB.SetPushMedia(ctx, p.ID, path, int64(len(m.Data)))
	if errors.Is(err, storage.ErrNotFound) { // the customer's data was deleted meanwhile: so is the file
		_ = os.Remove(path)
		return GiveUp(err)
	}
	return err
}

// jobAccount is the job's account; one removed since is a job that can never run.
func (w *Workspace) jobAccount(ctx context.Context, id int64) (storage.Account, error) {
	accs, err := w.DB.Accounts(ctx)
	if err != nil {
		return storage.Account{}, err
	}
	for _, a := range accs {
		if a.ID == id {
			return a, nil
		}
	}
	return storage.Account{}, GiveUp(fmt.Errorf("account %d: %w", id, storage.ErrNotFound))
}

// mediaExts are the extensions a saved media file may get (never one from WeChat's
// answer unchecked: it names a file on this server).
var mediaExts = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"audio/amr": ".amr", "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/speex": ".speex", "video/mp4": ".mp4"}

// mediaExt picks the file's extension: from its Content-Type, else its file name's
// when that is a known one, else by the message type.
func mediaExt(msgType string, m api.Media) string {
	if ct, _, err := mime.ParseMediaType(m.ContentType); err == nil {
		if ext, ok := mediaExts[strings.ToLower(ct)]; ok {
			return ext
		}
	}
	ext := strings.ToLower(filepath.Ext(m.Filename))
	for _, known := range mediaExts {
		if ext == known {
			return ext
		}
	}
	switch msgType {
	case "image":
		return ".jpg"
	case "voice":
		return ".amr"
	case "video", "shortvideo":
		return ".mp4"
	}
	return ".bin"
}

// writeFileAtomic writes data to path through a temporary file in the same folder,
// synced and renamed, readable by the owner only (customers' media).
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".download-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
