package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
)

// The background work of kfdesk serve: each push queues its jobs in the
// transaction that stores it (StorePush), and workers claim them with a lease.
// The queue is a table, so it survives a restart; a worker that dies leaves its
// jobs leased, and once the lease runs out they are claimed again.
//
// A job can run more than once (its worker died after doing the work and before
// FinishJob), so a job's effects must be idempotent; those that cannot be (a
// message sent to a customer) go through BeginEffect/FinishEffect.

// Job states, as stored.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed" // given up: kept for the operator
)

// maxJobError bounds the error text kept with a job.
const maxJobError = 1000

// MaxJobAttempts is how many times a job is claimed before it is given up.
const MaxJobAttempts = 8

// Job is a claimed job.
type Job struct {
	ID         int64
	PushID     int64
	AccountID  int64
	Kind       JobKind
	State      string
	Attempt    int       // 1 on the first claim; also this claim's token (see FinishJob)
	LeaseUntil time.Time // the claim is void from then on: stop working on it by then
	LastError  string    // from the previous attempt
	CreatedAt  time.Time
}

// ErrLeaseLost: the job is no longer this claim's (the lease ran out and the job
// was claimed again, or the push was deleted). Drop the work without finishing it.
var ErrLeaseLost error = api.Describe(nil, "任务已不归本次处理（租约已过期）。", "The job is no longer held by this claim (its lease ran out).")

func queueJobs(ctx context.Context, tx *sql.Tx, pushID, nowMS int64, jobs []JobKind) error {
	var rows []string
	var args []any
	seen := map[JobKind]bool{}
	for _, k := range jobs {
		if !seen[k] {
			seen[k] = true
			rows, args = append(rows, "(?, ?, ?, ?)"), append(args, pushID, string(k), nowMS, nowMS)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	// One statement for all: each statement costs a round through cgo and the parser.
	_, err := tx.ExecContext(ctx, `INSERT INTO push_jobs(push_id, kind, not_before, created_at) VALUES `+strings.Join(rows, ", "), args...)
	return err
}

const jobCols = `j.id, j.push_id, p.account_id, j.kind, j.state, j.attempts, j.not_before, j.last_error, j.created_at`

func scanJob(row interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var notBefore, created int64
	err := row.Scan(&j.ID, &j.PushID, &j.AccountID, &j.Kind, &j.State, &j.Attempt, &notBefore, &j.LastError, &created)
	j.CreatedAt = time.UnixMilli(created)
	if j.State == JobRunning {
		j.LeaseUntil = time.UnixMilli(notBefore)
	}
	return j, err
}

// ClaimJobs claims up to limit jobs due at now, oldest due first, leasing each
// until now+lease: queued jobs whose time has come, and running jobs whose lease
// ran out (their worker died). A job whose lease ran out MaxJobAttempts times is
// given up instead. Claiming runs under the write lock, so two claimers, in this
// process or another, never get the same job while its lease lasts.
func (db *DB) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Job, error) {
	if lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("ClaimJobs: lease %v and limit %d must be positive", lease, limit)
	}
	nowMS, until := now.UnixMilli(), now.Add(lease).UnixMilli()
	var out []Job
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		out = nil
		if _, err := tx.ExecContext(ctx, `UPDATE push_jobs SET state = 'failed', finished_at = ?,
			last_error = 'gave up: its worker stopped ' || attempts || ' times before finishing / 处理程序多次中断，已放弃'
			WHERE state = 'running' AND not_before <= ? AND attempts >= ?`, nowMS, nowMS, MaxJobAttempts); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `UPDATE push_jobs SET state = 'running', attempts = attempts + 1, not_before = ?
			WHERE id IN (SELECT id FROM push_jobs WHERE state IN ('queued', 'running') AND not_before <= ?
				ORDER BY not_before, id LIMIT ?)
			RETURNING id`, until, nowMS, limit)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil || len(ids) == 0 {
			return err
		}
		idList, _ := json.Marshal(ids)
		out, err = queryAll(ctx, tx, scanJob, `SELECT `+jobCols+` FROM push_jobs j JOIN pushes p ON p.id = j.push_id
			WHERE j.id IN (SELECT value FROM json_each(?)) ORDER BY j.id`, string(idList))
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FinishJob marks a claimed job done. It returns ErrLeaseLost, changing nothing,
// when j is no longer the job's current claim.
func (db *DB) FinishJob(ctx context.Context, j Job) error {
	return db.settleJob(ctx, `UPDATE push_jobs SET state = 'done', finished_at = ?, last_error = ''
		WHERE id = ? AND state = 'running' AND attempts = ?`, clock.Now().UnixMilli(), j.ID, j.Attempt)
}

// FailJob gives a claimed job up at once (it can never succeed: media WeChat no
// longer keeps), keeping reason for the operator (FailedJobs). ErrLeaseLost as FinishJob.
func (db *DB) FailJob(ctx context.Context, j Job, reason string) error {
	if len(reason) > maxJobError {
		reason = strings.ToValidUTF8(reason[:maxJobError], "") + "…"
	}
	return db.settleJob(ctx, `UPDATE push_jobs SET state = 'failed', finished_at = ?, last_error = ?
		WHERE id = ? AND state = 'running' AND attempts = ?`, clock.Now().UnixMilli(), reason, j.ID, j.Attempt)
}

// ExtendLease keeps a claimed job for longer (a long media download), until
// until, and returns the job with its new lease. ErrLeaseLost as FinishJob.
func (db *DB) ExtendLease(ctx context.Context, j Job, until time.Time) (Job, error) {
	if err := db.settleJob(ctx, `UPDATE push_jobs SET not_before = ? WHERE id = ? AND state = 'running' AND attempts = ?`,
		until.UnixMilli(), j.ID, j.Attempt); err != nil {
		return j, err
	}
	j.LeaseUntil = time.UnixMilli(until.UnixMilli())
	return j, nil
}

// RetryJob puts a claimed job back to be claimed from notBefore on, keeping
// errText (no customer text in it: the operator sees it); after MaxJobAttempts
// attempts it is given up (JobFailed) instead. ErrLeaseLost as FinishJob.
func (db *DB) RetryJob(ctx context.Context, j Job, notBefore time.Time, errText string) error {
	if len(errText) > maxJobError {
		errText = strings.ToValidUTF8(errText[:maxJobError], "") + "…"
	}
	return db.settleJob(ctx, `UPDATE push_jobs SET
		state = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END,
		finished_at = CASE WHEN attempts >= ? THEN ? END,
		not_before = ?, last_error = ?
		WHERE id = ? AND state = 'running' AND attempts = ?`,
		MaxJobAttempts, MaxJobAttempts, clock.Now().UnixMilli(), notBefore.UnixMilli(), errText, j.ID, j.Attempt)
}

func (db *DB) settleJob(ctx context.Context, q string, args ...any) error {
	res, err := db.w.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// DeleteFinishedJobs removes the jobs done before t (failed ones stay for the
// operator) and says how many: done jobs are no longer needed once done.
func (db *DB) DeleteFinishedJobs(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM push_jobs WHERE state = 'done' AND finished_at < ?`, t.UnixMilli())
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Jobs lists a push's jobs (any state), by id.
func (db *DB) Jobs(ctx context.Context, pushID int64) ([]Job, error) {
	return db.jobs(ctx, `j.push_id = ?`, pushID)
}

// FailedJobs lists the jobs given up, newest first, for the operator.
func (db *DB) FailedJobs(ctx context.Context, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	return db.jobs(ctx, `j.state = 'failed' ORDER BY j.finished_at DESC, j.id DESC LIMIT ?`, limit)
}

func (db *DB) jobs(ctx context.Context, where string, args ...any) ([]Job, error) {
	if !strings.Contains(where, "ORDER BY") {
		where += " ORDER BY j.id"
	}
	return queryAll(ctx, db.r, scanJob, `SELECT `+jobCols+` FROM push_jobs j JOIN pushes p ON p.id = j.push_id WHERE `+where, args...)
}

// EffectAutoReply is the auto-reply sent for a push.
const EffectAutoReply = "autoreply"

// EffectState is where an effect of a push stands when a job begins it.
type EffectState int

const (
	// EffectNew: no attempt began it: do it now.
	EffectNew EffectState = iota
	// EffectInDoubt: an earlier attempt began it and never recorded the outcome:
	// it died during or right after the WeChat call, so the message may have been
	// sent. Do not send again (that could double it); close it with FinishEffect
	// and a SendUnknown entry, so the operator sees it and the reply window counts it.
	EffectInDoubt
	// EffectDone: it happened; nothing to do.
	EffectDone
)

// BeginEffect records that a job is about to have an effect that must not happen
// twice (e.g. EffectAutoReply), and says what earlier attempts left. Only
// EffectNew means go ahead. The order that keeps a customer from getting a reply
// twice: BeginEffect → send → FinishEffect (with the send log entry) → FinishJob.
// The one window left is a crash between WeChat accepting the send and
// FinishEffect's commit (a few milliseconds): the retry then sees EffectInDoubt
// and must not send. So a reply is sent at most once, and exactly once unless
// the process dies inside that window (custom/send has no idempotency key; the
// archive sync of getmsglist can confirm later whether it arrived).
func (db *DB) BeginEffect(ctx context.Context, pushID int64, effect string) (EffectState, error) {
	state := EffectNew
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		var s string
		err := tx.QueryRowContext(ctx, `SELECT state FROM push_effects WHERE push_id = ? AND effect = ?`, pushID, effect).Scan(&s)
		switch {
		case err == nil && s == "done":
			state = EffectDone
			return nil
		case err == nil:
			state = EffectInDoubt
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO push_effects(push_id, effect, state, begun_at) VALUES (?, ?, 'begun', ?)`,
			pushID, effect, clock.Now().UnixMilli())
		if isForeignKey(err) {
			return ErrLeaseLost // the push is gone (its customer's data was deleted)
		}
		return err
	})
	return state, err
}

// FinishEffect records that a begun effect happened. With sent, its send log
// entry is written in the same transaction, so the send log (which counts the
// reply window) and the effect never disagree; it returns that entry's id.
func (db *DB) FinishEffect(ctx context.Context, pushID int64, effect string, sent *SendLogEntry) (sendLogID int64, err error) {
	err = db.WriteTx(ctx, func(tx *sql.Tx) error {
		var accountID int64
		if err := tx.QueryRowContext(ctx, `SELECT account_id FROM pushes WHERE id = ?`, pushID).Scan(&accountID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		var logID any
		if sent != nil {
			id, err := insertSendLog(ctx, tx, accountID, *sent)
			if err != nil {
				return err
			}
			sendLogID, logID = id, id
		}
		res, err := tx.ExecContext(ctx, `UPDATE push_effects SET state = 'done', done_at = ?, send_log_id = ?
			WHERE push_id = ? AND effect = ? AND state = 'begun'`, clock.Now().UnixMilli(), logID, pushID, effect)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("effect %s of push %d was not begun, or is already done", effect, pushID)
		}
		return nil
	})
	return sendLogID, err
}
