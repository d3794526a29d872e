package workspace

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"kfdesk/api/push"
	"kfdesk/storage"
)

// JobForget deletes an unfollowing customer's data, when the account asks for it.
const JobForget storage.JobKind = "forget"

// WeChat's event documentation asks it of every developer: "开发者收到用户取消关注事件时
// 需要删除该用户的所有信息" — on an unsubscribe event, delete all of that user's information.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
// It is an option (off by default: a shop may have to keep records of what was said),
// per account, kept as a setting.
func forgetSetting(a storage.Account) string { return fmt.Sprintf("push.forget_unfollowers.%d", a.ID) }

// ForgetUnfollowers tells whether the account deletes a customer's data when they unfollow.
func (w *Workspace) ForgetUnfollowers(ctx context.Context, a storage.Account) (bool, error) {
	v, _, err := w.DB.Setting(ctx, forgetSetting(a))
	return v == "1", err
}

// SetForgetUnfollowers turns the deletion on unsubscribe on or off for the account.
func (w *Workspace) SetForgetUnfollowers(ctx context.Context, a storage.Account, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	return w.DB.SetSetting(ctx, forgetSetting(a), v)
}

// forgetJobs is the job an unsubscribe queues when the account forgets unfollowers.
func (w *Workspace) forgetJobs(ctx context.Context, a storage.Account, m *push.Message) []storage.JobKind {
	if m.Event != push.EventUnsubscribe {
		return nil
	}
	on, err := w.ForgetUnfollowers(ctx, a)
	if err != nil {
		slog.Warn("could not read the unsubscribe setting; the customer's data is kept", "account", a.Name, "err", err)
	}
	if !on {
		return nil
	}
	return []storage.JobKind{JobForget}
}

// runForgetJob deletes the customer's pushes (this one too, and with it this job),
// chat records, notes and sends in one transaction, then the media files.
func (w *Workspace) runForgetJob(ctx context.Context, j storage.Job) error {
	p, err := w.DB.Push(ctx, j.PushID)
	if err != nil {
		return err
	}
	d, err := w.DB.DeleteCustomerData(ctx, j.AccountID, p.OpenID)
	if err != nil {
		return err
	}
	for _, f := range d.MediaPaths {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			slog.Warn("could not remove an unfollowed customer's media file", "push", j.PushID, "err", err)
		}
	}
	slog.Info("an unfollowed customer's data was deleted", "account", j.AccountID, "pushes", d.Pushes, "records", d.Records, "files", len(d.MediaPaths))
	return nil
}
