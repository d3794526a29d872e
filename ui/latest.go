package ui

import "context"

// latestRun is a screen's background reads that supersede each other (a new search,
// another period): starting one cancels the one before, and a result is shown only
// while no newer run has started (its gen is still the newest).
type latestRun struct {
	cancel context.CancelFunc
	gen    int // rises with every run
}

// start cancels the previous run and returns the new one's context and gen.
func (l *latestRun) start(parent context.Context) (context.Context, int) {
	if l.cancel != nil {
		l.cancel()
	}
	ctx, cancel := context.WithCancel(parent)
	l.cancel = cancel
	l.gen++
	return ctx, l.gen
}

// newest says whether run gen is the one started last.
func (l *latestRun) newest(gen int) bool { return gen == l.gen }

// end releases the newest run's context once its result is shown.
func (l *latestRun) end() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}
