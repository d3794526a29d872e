package workspace_test

import (
	"context"
	"testing"

	"kfdesk/api/wechattest"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// With the option on, a customer who unfollows is deleted from the server's data —
// their pushes (the unsubscribe too), notes and media files — while other customers
// stay; with it off (the default) everything is kept.
func TestUnfollowersAreForgottenOnlyWhenAsked(t *testing.T) {
	const other = "oOther000000000000000000000001"
	for _, on := range []bool{false, true} {
		e := newPushEnv(t)
		ctx := context.Background()
		if on {
			if err := e.ws.SetForgetUnfollowers(ctx, e.acct, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.ws.SetNote(ctx, e.acct, jobCustomer, "老顾客"); err != nil {
			t.Fatal(err)
		}
		e.push(t, wechattest.Text(jobCustomer, "我要退订"))
		e.push(t, wechattest.Text(other, "我还在"))
		e.push(t, wechattest.Unsubscribe(jobCustomer))
		stop := startWorker(t, e.ws, workspace.JobOptions{})
		waitFor(t, "the background jobs", func() bool {
			for _, p := range e.pushes(t) {
				if jobs, _ := e.ws.DB.Jobs(ctx, p.ID); len(jobs) > 0 && jobs[len(jobs)-1].State == storage.JobQueued {
					return false
				}
			}
			return !on || len(e.pushes(t)) == 1
		})
		stop()
		var theirs, others int
		for _, p := range e.pushes(t) {
			switch p.OpenID {
			case jobCustomer:
				theirs++
			case other:
				others++
			}
		}
		notes, err := e.ws.DB.Notes(ctx, e.acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if on && (theirs != 0 || notes[jobCustomer] != "" || others != 1) {
			t.Errorf("on: %d of their pushes and note %q kept, %d of the other customer's", theirs, notes[jobCustomer], others)
		}
		if !on && (theirs != 2 || notes[jobCustomer] != "老顾客" || others != 1) {
			t.Errorf("off: %d of their pushes, note %q, %d others", theirs, notes[jobCustomer], others)
		}
	}
}
