package workspace

import (
	"context"
	"errors"
	"fmt"

	"kfdesk/api"
	"kfdesk/storage"
)

// Queue and sessions (api/kfsession.go): who waits for a KF account, who is served
// by which, and taking, closing and transferring a customer.

// WaitingCustomers is getwaitcase: how many customers wait for a KF account, and the
// first api.MaxWaitCases of them in the order they came.
func (w *Workspace) WaitingCustomers(ctx context.Context, a storage.Account) (api.WaitCases, error) {
	c, err := w.client(ctx, a)
	if err != nil {
		return api.WaitCases{}, err
	}
	return c.WaitCases(ctx)
}

// KFSessions is one KF account and the customers it serves now.
type KFSessions struct {
	KF       api.KFAccount
	Sessions []api.Session
}

// Sessions lists every KF account with its open sessions (and, like KFAccounts, learns
// the OA WeChat ID, so a bare prefix names a KF account afterwards). Only accounts bound
// to a worker can serve (getsessionlist answers 65402 for the others): only they are asked.
func (w *Workspace) Sessions(ctx context.Context, a storage.Account) ([]KFSessions, error) {
	kfs, _, err := w.KFAccounts(ctx, a)
	if err != nil {
		return nil, err
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return nil, err
	}
	out := make([]KFSessions, 0, len(kfs))
	for _, k := range kfs {
		ks := KFSessions{KF: k}
		if k.WX != "" {
			if ks.Sessions, err = c.SessionList(ctx, k.Account); err != nil {
				return nil, err
			}
		}
		out = append(out, ks)
	}
	return out, nil
}

// TakeCustomer makes KF account kf serve the customer openid (usually one waiting).
func (w *Workspace) TakeCustomer(ctx context.Context, a storage.Account, kf, openid string) error {
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	return c.CreateSession(ctx, kf, openid)
}

// CloseSession ends kf's session with openid.
func (w *Workspace) CloseSession(ctx context.Context, a storage.Account, kf, openid string) error {
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	return c.CloseSession(ctx, kf, openid)
}

// TransferSession hands openid from KF account from ("" = whoever serves them now)
// to KF account to. WeChat has no transfer call for Official Account sessions, so:
// create for to first (an offline or unknown to fails here, 65415/65401, and nothing
// changed); when WeChat answers that from serves them (65414), close from's session
// and create again for to; if that fails, the customer is given back to from.
func (w *Workspace) TransferSession(ctx context.Context, a storage.Account, from, to, openid string) error {
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	if from == "" {
		s, err := c.GetSession(ctx, openid)
		if err != nil {
			return err
		}
		from = s.KFAccount
	}
	if from == to {
		return nil
	}
	err = c.CreateSession(ctx, to, openid)
	if from == "" || !api.IsCode(err, 65414) {
		return err
	}
	if err := c.CloseSession(ctx, from, openid); err != nil {
		return err
	}
	err = c.CreateSession(ctx, to, openid)
	if err == nil {
		return nil
	}
	zh, en := explain(err)
	if back := c.CreateSession(ctx, from, openid); back != nil {
		return api.Describe(err,
			fmt.Sprintf("转接到 %s 失败：%s 原来的会话已关闭，也没能交还给 %s，客户下次发消息时会重新排队。", to, zh, from),
			fmt.Sprintf("The transfer to %s failed: %s The session with %s was closed and could not be given back; the customer waits again when they next write.", to, en, from))
	}
	return api.Describe(err, fmt.Sprintf("转接到 %s 失败：%s 客户仍由 %s 接待。", to, zh, from),
		fmt.Sprintf("The transfer to %s failed: %s %s still serves the customer.", to, en, from))
}

// explain is err's explanation in both languages.
func explain(err error) (zh, en string) {
	var b api.Bilingual
	if errors.As(err, &b) {
		return b.ZH(), b.EN()
	}
	return err.Error(), err.Error()
}
