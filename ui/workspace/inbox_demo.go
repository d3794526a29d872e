package workspace

import (
	"context"
	"log/slog"

	"kfdesk/api/clock"
	"kfdesk/api/wechattest"
	"kfdesk/storage"
)

// runDemoSim runs the demo's customer simulator until ctx ends (a variable: tests step it themselves).
var runDemoSim = func(ctx context.Context, sim *wechattest.CustomerSim) { sim.Run(ctx) }

// demoCustomers makes the demo fake's customers write in while the demo account's
// inbox is watched (issue 12 §6, api/wechattest/customers.go): one simulator per
// workspace however many watch, stopped when the last watch ends.
func (w *Workspace) demoCustomers(ctx context.Context, a storage.Account) {
	if _, err := w.client(ctx, a); err != nil { // starts the demo server
		slog.Warn("demo: no fake server", "err", err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.demoWatchers++
	if w.demoWatchers == 1 {
		simCtx, cancel := context.WithCancel(context.Background())
		w.demoSimStop = cancel
		sim := w.demo.NewCustomerSim(uint64(clock.Now().UnixNano()))
		go runDemoSim(simCtx, sim)
	}
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.demoWatchers--; w.demoWatchers == 0 && w.demoSimStop != nil {
			w.demoSimStop()
			w.demoSimStop = nil
		}
	})
}
