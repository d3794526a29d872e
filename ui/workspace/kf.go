package workspace

import (
	"context"
	"strings"

	"kfdesk/api"
	"kfdesk/storage"
)

// KFAccounts lists the account's KF accounts with their online status and
// returns the Official Account's WeChat ID, learnt from them when there are
// any (WeChat has no API for it), otherwise as remembered ("" if never known).
func (w *Workspace) KFAccounts(ctx context.Context, a storage.Account) ([]api.KFAccount, string, error) {
	c, err := w.Client(ctx, a)
	if err != nil {
		return nil, "", err
	}
	list, err := c.KFAccountsWithStatus(ctx)
	if err != nil {
		return nil, "", err
	}
	id, err := w.learnOAWeChatID(ctx, a, list)
	return list, id, err
}

// learnOAWeChatID takes the most common "@suffix" of the KF accounts (they share one)
// and remembers it; with no KF accounts it returns the remembered ID.
func (w *Workspace) learnOAWeChatID(ctx context.Context, a storage.Account, list []api.KFAccount) (string, error) {
	count := map[string]int{}
	best := ""
	for _, k := range list {
		s := api.KFSuffix(k.Account)
		if s == "" {
			continue
		}
		count[s]++
		if count[s] > count[best] {
			best = s
		}
	}
	stored, err := w.DB.OAWeChatID(ctx, a.ID)
	if err != nil || best == "" {
		return stored, err
	}
	if best != stored {
		if err := w.DB.SetOAWeChatID(ctx, a.ID, best); err != nil {
			return best, err
		}
	}
	return best, nil
}

// SetOAWeChatID remembers the Official Account's WeChat ID the operator typed.
func (w *Workspace) SetOAWeChatID(ctx context.Context, a storage.Account, id string) error {
	id = strings.TrimSpace(id)
	if err := api.CheckOAWeChatID(id); err != nil {
		return err
	}
	return w.DB.SetOAWeChatID(ctx, a.ID, id)
}

// OAWeChatID is the remembered Official Account WeChat ID ("" if never known).
func (w *Workspace) OAWeChatID(ctx context.Context, a storage.Account) (string, error) {
	return w.DB.OAWeChatID(ctx, a.ID)
}

// FullKFAccount completes a bare prefix ("xiaomei") to "xiaomei@OA-WeChat-ID";
// anything with an "@" is returned as typed.
func FullKFAccount(input, oaWeChatID string) string {
	input = strings.TrimSpace(input)
	if input == "" || strings.Contains(input, "@") || oaWeChatID == "" {
		return input
	}
	return input + "@" + oaWeChatID
}
