package workspace

import (
	"context"
	"image"
	"strings"

	"kfdesk/api"
	"kfdesk/api/kfavatar"
	"kfdesk/storage"
)

// KFAccounts lists the account's KF accounts with their online status and
// returns the Official Account's WeChat ID, learnt from them when there are
// any (WeChat has no API for it), otherwise as remembered ("" if never known).
func (w *Workspace) KFAccounts(ctx context.Context, a storage.Account) ([]api.KFAccount, string, error) {
	c, err := w.client(ctx, a)
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

// AddKF adds the KF account (prefix@OA-WeChat-ID) with its nickname. WeChat accepts
// only the Official Account's own WeChat ID as the suffix, so once it has accepted one
// that suffix is remembered as the ID (no API returns it).
func (w *Workspace) AddKF(ctx context.Context, a storage.Account, account, nick string) error {
	account = strings.TrimSpace(account)
	for _, err := range []error{api.CheckKFAccount(account, ""), api.CheckKFNick(nick)} {
		if err != nil {
			return err
		}
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	if err := c.AddKF(ctx, account, nick); err != nil {
		return err
	}
	known, err := w.DB.OAWeChatID(ctx, a.ID)
	if err != nil || known == api.KFSuffix(account) {
		return err
	}
	return w.DB.SetOAWeChatID(ctx, a.ID, api.KFSuffix(account))
}

// UpdateKF changes a KF account's nickname.
func (w *Workspace) UpdateKF(ctx context.Context, a storage.Account, account, nick string) error {
	if err := api.CheckKFNick(nick); err != nil {
		return err
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	return c.UpdateKF(ctx, account, nick)
}

// DeleteKF deletes a KF account on WeChat (at once; it cannot be undone).
func (w *Workspace) DeleteKF(ctx context.Context, a storage.Account, account string) error {
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	return c.DeleteKF(ctx, account)
}

// InviteKF invites the worker with WeChat ID wx to bind the KF account.
func (w *Workspace) InviteKF(ctx context.Context, a storage.Account, account, wx string) error {
	c, err := w.client(ctx, a)
	if err != nil {
		return err
	}
	return c.InviteKFWorker(ctx, account, strings.TrimSpace(wx))
}

// SetKFAvatar makes any picture (JPG, PNG, GIF, BMP, WebP) the KF account's avatar:
// cropped square, scaled to 640×640 and sent as the JPG WeChat requires. It returns
// the size of the JPG sent.
func (w *Workspace) SetKFAvatar(ctx context.Context, a storage.Account, account string, picture []byte) (int, error) {
	jpg, err := kfavatar.Prepare(picture)
	if err != nil {
		return 0, err
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return 0, err
	}
	return len(jpg), c.UploadKFAvatar(ctx, account, jpg)
}

// KFAvatarThumbnail downloads a KF account's avatar (headimgurl) as a square of side pixels.
func (w *Workspace) KFAvatarThumbnail(ctx context.Context, a storage.Account, url string, side int) (image.Image, error) {
	c, err := w.client(ctx, a)
	if err != nil {
		return nil, err
	}
	data, err := c.FetchImage(ctx, url)
	if err != nil {
		return nil, err
	}
	return kfavatar.Thumbnail(data, side)
}

// ResolveKF completes what the operator typed to a full KF account: a bare prefix
// gets the Official Account's WeChat ID (remembered, or learnt from the KF list). It
// also returns that ID ("" while unknown). A prefix with no known ID is an input error.
func (w *Workspace) ResolveKF(ctx context.Context, a storage.Account, input string) (account, oaID string, err error) {
	if oaID, err = w.OAWeChatID(ctx, a); err != nil {
		return "", "", err
	}
	if oaID == "" && !strings.Contains(input, "@") {
		if _, oaID, err = w.KFAccounts(ctx, a); err != nil {
			return "", "", err
		}
	}
	account = FullKFAccount(input, oaID)
	if !strings.Contains(account, "@") {
		return "", "", &api.InputError{Field: "kf_account",
			Chinese: "还不知道公众号的微信号：请写完整的客服账号，格式为 前缀@公众号微信号。",
			English: "The Official Account's WeChat ID is not known yet: give the full account, prefix@OA-WeChat-ID."}
	}
	return account, oaID, nil
}
