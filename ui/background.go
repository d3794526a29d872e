package ui

import (
	"context"
	"log/slog"
	"sync"

	"fyne.io/fyne/v2"
)

// writeQueue runs the window's small writes (settings, window state, notes,
// templates) one after another on a goroutine of its own, in the order they were
// made: the UI thread never waits for the database's one writer, which a sync's
// index build may hold for seconds, and a later value is never overwritten by an
// earlier one.
type writeQueue struct {
	mu      sync.Mutex
	jobs    []func()
	running bool
}

func (q *writeQueue) push(job func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, job)
	if !q.running {
		q.running = true
		go q.drain()
	}
}

func (q *writeQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		job := q.jobs[0]
		q.jobs = q.jobs[1:]
		q.mu.Unlock()
		job()
	}
}

// save queues a write; done (optional) then runs on the UI thread with its error.
// A failed write with no done is shown in the status line.
func (m *MainWindow) save(write func(ctx context.Context) error, done func(error)) {
	m.pending.Add(1)
	m.writes.push(func() {
		err := write(context.WithoutCancel(m.ctx)) // a closing window still saves
		fyne.Do(func() {
			defer m.pending.Add(-1)
			switch {
			case done != nil:
				done(err)
			case err != nil:
				m.setStatus(errorText(err))
			}
		})
	})
}

// saveSetting remembers a setting in the background; a failure is shown and logged.
func (m *MainWindow) saveSetting(key, value string) {
	m.save(func(ctx context.Context) error { return m.ws.SaveSetting(ctx, key, value) }, func(err error) {
		if err != nil {
			slog.Warn("could not save a setting", "key", key, "err", err)
			m.setStatus(errorText(err))
		}
	})
}

// logError records a failure nobody is waiting for (a background save, a cleanup)
// in the log; what the operator is waiting for is shown in the window instead.
func logError(what string, err error) {
	slog.Warn("could not "+what, "err", err)
}
