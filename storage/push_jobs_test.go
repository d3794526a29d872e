package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kfdesk/api/clock"
)

func claim(t *testing.T, db *DB, now time.Time, lease time.Duration, limit int) []Job {
	t.Helper()
	jobs, err := db.ClaimJobs(context.Background(), now, lease, limit)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func TestJobsClaimFinishRetry(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	pid := mustStore(t, db, acct, textPush(custA, pushT0, "1", "x"), "media", "autoreply", "media")
	now := clock.Now()
	jobs := claim(t, db, now, time.Minute, 10)
	if len(jobs) != 2 || jobs[0].Kind != "media" || jobs[1].Kind != "autoreply" {
		t.Fatalf("claimed %+v", jobs)
	}
	for _, j := range jobs {
		if j.PushID != pid || j.AccountID != acct || j.Attempt != 1 || j.State != JobRunning ||
			j.LeaseUntil.UnixMilli() != now.Add(time.Minute).UnixMilli() {
			t.Fatalf("job %+v", j)
		}
	}
	if again := claim(t, db, now.Add(59*time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("leased jobs claimed again: %+v", again)
	}
	if err := db.FinishJob(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishJob(ctx, jobs[0]); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("finished twice: %v", err)
	}
	if err := db.RetryJob(ctx, jobs[1], now.Add(5*time.Minute), "media/get: 45009"); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, db, now.Add(4*time.Minute), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claimed before it is due: %+v", got)
	}
	got := claim(t, db, now.Add(5*time.Minute), time.Minute, 10)
	if len(got) != 1 || got[0].ID != jobs[1].ID || got[0].Attempt != 2 || got[0].LastError != "media/get: 45009" {
		t.Fatalf("retry claimed %+v", got)
	}
	// The first claim's holder is no longer the job's: it cannot settle it.
	if err := db.RetryJob(ctx, jobs[1], now, "late"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale retry: %v", err)
	}
	if err := db.FinishJob(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	all, err := db.Jobs(ctx, pid)
	if err != nil || len(all) != 2 || all[0].State != JobDone || all[1].State != JobDone {
		t.Fatalf("jobs %+v %v", all, err)
	}
	// Done jobs are cleared away later; a job still to do is not.
	mustStore(t, db, acct, textPush(custA, pushT0, "2", "y"), "media")
	if n, err := db.DeleteFinishedJobs(ctx, clock.Now().Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("deleted %d %v", n, err)
	}
	if left := claim(t, db, now.Add(time.Hour), time.Minute, 10); len(left) != 1 || left[0].PushID == pid {
		t.Fatalf("left %+v", left)
	}
}

func TestJobGivenUpAfterMaxAttempts(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	mustStore(t, db, acct, textPush(custA, pushT0, "1", "x"), "autoreply")
	now := clock.Now()
	for i := 1; i <= MaxJobAttempts; i++ {
		jobs := claim(t, db, now, time.Minute, 1)
		if len(jobs) != 1 || jobs[0].Attempt != i {
			t.Fatalf("attempt %d: %+v", i, jobs)
		}
		if err := db.RetryJob(ctx, jobs[0], now, fmt.Sprintf("45015 attempt %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if jobs := claim(t, db, now.Add(time.Hour), time.Minute, 1); len(jobs) != 0 {
		t.Fatalf("a job given up was claimed: %+v", jobs)
	}
	failed, err := db.FailedJobs(ctx, 10)
	if err != nil || len(failed) != 1 || failed[0].State != JobFailed || failed[0].LastError != fmt.Sprintf("45015 attempt %d", MaxJobAttempts) {
		t.Fatalf("failed %+v %v", failed, err)
	}
}

func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	mustStore(t, db, acct, textPush(custA, pushT0, "1", "x"), "autoreply")
	now := clock.Now()
	lease := 30 * time.Second
	first := claim(t, db, now, lease, 1)
	// Its worker died: after the lease, another claims it.
	second := claim(t, db, now.Add(lease), lease, 1)
	if len(first) != 1 || len(second) != 1 || second[0].ID != first[0].ID || second[0].Attempt != 2 {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if err := db.FinishJob(ctx, first[0]); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the dead worker's claim finished the job: %v", err)
	}
	if _, err := db.ExtendLease(ctx, first[0], now.Add(time.Hour)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the dead worker's claim extended the lease: %v", err)
	}
	// The live holder of a long job keeps it past its first lease.
	long, err := db.ExtendLease(ctx, second[0], now.Add(10*lease))
	if err != nil || !long.LeaseUntil.Equal(time.UnixMilli(now.Add(10*lease).UnixMilli())) {
		t.Fatalf("extend: %+v %v", long, err)
	}
	if j := claim(t, db, now.Add(9*lease), lease, 1); len(j) != 0 {
		t.Fatalf("claimed while its lease was extended: %+v", j)
	}
	now = now.Add(8 * lease) // below, the first claim comes when the extended lease ends (now+10 leases)
	// A job whose worker dies every time is given up, not claimed for ever.
	at := now.Add(lease)
	for i := 3; i <= MaxJobAttempts; i++ {
		at = at.Add(lease)
		if j := claim(t, db, at, lease, 1); len(j) != 1 || j[0].Attempt != i {
			t.Fatalf("claim %d: %+v", i, j)
		}
	}
	if j := claim(t, db, at.Add(lease), lease, 1); len(j) != 0 {
		t.Fatalf("claimed after %d attempts: %+v", MaxJobAttempts, j)
	}
	if failed, err := db.FailedJobs(ctx, 10); err != nil || len(failed) != 1 {
		t.Fatalf("failed %+v %v", failed, err)
	}
}

func TestJobsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	mustStore(t, db, a.ID, textPush(custA, pushT0, "1", "x"), "media", "autoreply")
	now := clock.Now()
	if j := claim(t, db, now, time.Minute, 1); len(j) != 1 { // then the process dies
		t.Fatalf("claimed %+v", j)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if j := claim(t, db, now, time.Minute, 10); len(j) != 1 || j[0].Kind != "autoreply" {
		t.Fatalf("after the restart, claimed %+v; want the job never claimed", j)
	}
	if j := claim(t, db, now.Add(time.Minute), time.Minute, 10); len(j) != 2 || j[0].Kind != "media" || j[0].Attempt != 2 {
		t.Fatalf("after the lease, claimed %+v; want the dead worker's job again, and the other", j)
	}
	// The dedup keys survive too: WeChat's retry after the restart stores nothing.
	if _, dup, err := db.StorePush(ctx, a.ID, textPush(custA, pushT0, "1", "x"), "media"); err != nil || !dup {
		t.Fatalf("retry after restart: duplicate %v %v", dup, err)
	}
}

func TestConcurrentClaimersNeverShareAJob(t *testing.T) {
	path := filepath.Join(t.TempDir(), DBFileName)
	ctx := context.Background()
	dbs := make([]*DB, 2) // two processes' worth: the write lock is the file's, not Go's
	for i := range dbs {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	a, err := dbs[0].AddAccount(ctx, Account{Name: "茶叶小铺", Kind: KindOA, AppID: "wx0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 150
	for i := range n {
		mustStore(t, dbs[0], a.ID, textPush(custA, pushT0, fmt.Sprint(i), "x"), "autoreply", "notify")
	}
	var mu sync.Mutex
	claims := map[int64]int{}
	var wg sync.WaitGroup
	now := clock.Now()
	for w := range 6 {
		wg.Add(1)
		go func(db *DB) {
			defer wg.Done()
			for {
				jobs, err := db.ClaimJobs(ctx, now, time.Hour, 4)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					claims[j.ID]++
				}
				mu.Unlock()
				for _, j := range jobs {
					if err := db.FinishJob(ctx, j); err != nil {
						t.Errorf("finish %d: %v", j.ID, err)
					}
				}
			}
		}(dbs[w%2])
	}
	wg.Wait()
	if len(claims) != 2*n {
		t.Fatalf("%d jobs claimed, want %d", len(claims), 2*n)
	}
	for id, c := range claims {
		if c != 1 {
			t.Fatalf("job %d claimed %d times", id, c)
		}
	}
}

func TestEffectsHappenAtMostOnce(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	pid := mustStore(t, db, acct, textPush(custA, pushT0, "1", "x"), "autoreply")
	if st, err := db.BeginEffect(ctx, pid, EffectAutoReply); err != nil || st != EffectNew {
		t.Fatalf("first begin: %v %v", st, err)
	}
	// The worker died during the send: the next attempt must not send again.
	if st, err := db.BeginEffect(ctx, pid, EffectAutoReply); err != nil || st != EffectInDoubt {
		t.Fatalf("begin after a crash: %v %v", st, err)
	}
	id, err := db.FinishEffect(ctx, pid, EffectAutoReply, &SendLogEntry{Time: clock.Now(), ToUser: custA, MsgType: "text",
		Body: `{"touser":"` + custA + `","msgtype":"text","text":{"content":"您好"}}`, Status: SendOK})
	if err != nil || id == 0 {
		t.Fatalf("finish: %d %v", id, err)
	}
	if st, err := db.BeginEffect(ctx, pid, EffectAutoReply); err != nil || st != EffectDone {
		t.Fatalf("begin after done: %v %v", st, err)
	}
	if log, err := db.SendLog(ctx, acct, 0, 10); err != nil || len(log) != 1 || log[0].ID != id {
		t.Fatalf("send log %+v %v", log, err)
	}
	if _, err := db.FinishEffect(ctx, pid, EffectAutoReply, nil); err == nil {
		t.Fatal("finished twice")
	}
	// A send log entry whose effect cannot be finished is not written either.
	if _, err := db.FinishEffect(ctx, pid, "other", &SendLogEntry{Time: clock.Now(), ToUser: custA, MsgType: "text", Status: SendOK}); err == nil {
		t.Fatal("finished an effect never begun")
	}
	if log, _ := db.SendLog(ctx, acct, 0, 10); len(log) != 1 {
		t.Fatalf("send log has %d entries", len(log))
	}
	// The customer's data was deleted while the job ran.
	if _, err := db.DeleteCustomerData(ctx, acct, custA); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeginEffect(ctx, pid, EffectAutoReply); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("begin on a deleted push: %v", err)
	}
}

// A job that can never succeed is failed at once, its reason kept; a lost claim changes nothing.
func TestFailJobKeepsTheReason(t *testing.T) {
	db, acct := pushEnv(t)
	ctx := context.Background()
	mustStore(t, db, acct, textPush(custA, pushT0, "1", "x"), "media")
	now := clock.Now()
	j := claim(t, db, now, time.Minute, 1)[0]
	stale := j
	stale.Attempt--
	if err := db.FailJob(ctx, stale, "not mine"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a lost claim failed the job: %v", err)
	}
	if err := db.FailJob(ctx, j, "40007 invalid media_id"); err != nil {
		t.Fatal(err)
	}
	if again := claim(t, db, now.Add(time.Hour), time.Minute, 1); len(again) != 0 {
		t.Fatalf("a failed job was claimed again: %+v", again)
	}
	failed, err := db.FailedJobs(ctx, 10)
	if err != nil || len(failed) != 1 || failed[0].LastError != "40007 invalid media_id" || failed[0].Attempt != 1 {
		t.Fatalf("failed %+v %v", failed, err)
	}
}
