package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/storage"
)

// MiniProgram reports whether the account is a Mini Program (fewer message types, image media only).
func MiniProgram(a storage.Account) bool { return a.Kind == storage.KindMP }

// Send validates m for the account, posts it and records the attempt in the send
// log, whatever the outcome. An invalid message is neither sent nor logged: the
// returned api.ValidationErrors say what to fix at which field. Send reads m until it
// returns: a caller whose form goes on editing m hands over m.Clone().
func (w *Workspace) Send(ctx context.Context, a storage.Account, m *api.Message) (storage.SendLogEntry, error) {
	if err := m.Validate(MiniProgram(a)); err != nil {
		return storage.SendLogEntry{}, err
	}
	body, err := m.JSON()
	if err != nil {
		return storage.SendLogEntry{}, err
	}
	c, err := w.Client(ctx, a)
	if err != nil {
		return storage.SendLogEntry{}, err
	}
	sendErr := c.Send(ctx, m)
	e := storage.SendLogEntry{Time: clock.Now(), ToUser: m.ToUser, KFAccount: m.KFAccount(), MsgType: m.MsgType, Body: string(body)}
	e.Status, e.ErrCode, e.Error = outcome(sendErr)
	// The log write uses its own context: a cancelled send must still be recorded.
	id, logErr := w.DB.LogSend(context.WithoutCancel(ctx), a.ID, e)
	e.ID = id
	if sendErr != nil {
		return e, sendErr
	}
	if logErr != nil {
		return e, fmt.Errorf("the message was sent, but the send log could not be written / 消息已发送，但发送记录写入失败：%w", logErr)
	}
	return e, nil
}

// outcome classifies a send error for the log: WeChat's refusal (and a token that
// could not be had) means it was not sent; anything without a clear answer may have arrived.
func outcome(err error) (status string, code *int, detail string) {
	if err == nil {
		zero := 0
		return storage.SendOK, &zero, ""
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		return storage.SendFailed, nil, err.Error()
	}
	switch ae.Kind {
	case api.KindAPI:
		c := ae.Code
		return storage.SendFailed, &c, ae.Msg
	case api.KindToken:
		return storage.SendFailed, nil, ae.EN()
	}
	return storage.SendUnknown, nil, ae.EN()
}

// Typing shows or hides the typing indicator for openid.
func (w *Workspace) Typing(ctx context.Context, a storage.Account, openid string, on bool) error {
	c, err := w.Client(ctx, a)
	if err != nil {
		return err
	}
	return c.Typing(ctx, openid, on)
}

// SendAsAccounts lists the KF accounts a message may be sent as (none for a Mini
// Program), with their nicknames (what the customer sees above the message).
func (w *Workspace) SendAsAccounts(ctx context.Context, a storage.Account) (names []string, nicks map[string]string, err error) {
	if MiniProgram(a) {
		return nil, nil, nil
	}
	c, err := w.Client(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	list, err := c.KFList(ctx)
	if err != nil {
		return nil, nil, err
	}
	names = make([]string, 0, len(list))
	nicks = make(map[string]string, len(list))
	for _, k := range list {
		names = append(names, k.Account)
		nicks[k.Account] = k.Nick
	}
	return names, nicks, nil
}

// mediaMargin: a cached media_id is not reused in its last hour, so it cannot
// expire between choosing the file and sending the message.
const mediaMargin = time.Hour

// maxReadBytes bounds what is read of a chosen file (the largest media is 10 MB).
const maxReadBytes = 64 << 20

// Media is a file uploaded (or found in the cache) as temporary media.
type Media struct {
	MediaID string
	Cached  bool // the same content was uploaded less than 3 days ago
}

// ReadMediaFile reads a chosen file and checks it against typ's limits. A
// *api.MediaProblem with TooLarge set can be fixed with ShrinkImage for image/thumb.
func ReadMediaFile(path, typ string, miniProgram bool) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxReadBytes {
		return nil, api.MediaTooLarge(typ, int(st.Size()))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if p := api.CheckMedia(typ, path, data, miniProgram); p != nil {
		return data, p
	}
	return data, nil
}

// UploadMedia uploads data as temporary media of typ, or returns the media_id of
// the same content uploaded less than 3 days ago. data must have passed CheckMedia.
func (w *Workspace) UploadMedia(ctx context.Context, a storage.Account, typ, filename string, data []byte, progress api.Progress) (Media, error) {
	if p := api.CheckMedia(typ, filename, data, MiniProgram(a)); p != nil {
		return Media{}, p
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	now := clock.Now()
	if id, ok, err := w.DB.CachedMediaID(ctx, a.ID, typ, hash, now.Add(-api.MediaTTL+mediaMargin)); err != nil {
		return Media{}, err
	} else if ok {
		return Media{MediaID: id, Cached: true}, nil
	}
	c, err := w.Client(ctx, a)
	if err != nil {
		return Media{}, err
	}
	up, err := c.UploadMedia(ctx, typ, filename, data, progress)
	if err != nil {
		return Media{}, err
	}
	created := now
	if up.CreatedAt > 0 && time.Unix(up.CreatedAt, 0).Before(now) {
		created = time.Unix(up.CreatedAt, 0)
	}
	err = w.DB.SaveMedia(ctx, a.ID, storage.CachedMedia{Type: typ, SHA256: hash, MediaID: up.ID(),
		Filename: filepath.Base(filename), CreatedAt: created})
	return Media{MediaID: up.ID()}, err
}

// SyncFollowers downloads the whole follower list (user/get, paged) into the cache.
// progress gets the running count and the total. A Mini Program has no followers.
func (w *Workspace) SyncFollowers(ctx context.Context, a storage.Account, progress func(got, total int)) (int, error) {
	if MiniProgram(a) {
		return 0, nil
	}
	c, err := w.Client(ctx, a)
	if err != nil {
		return 0, err
	}
	ids, err := c.AllFollowers(ctx, progress)
	if err != nil {
		return 0, err
	}
	return len(ids), w.DB.ReplaceFollowers(ctx, a.ID, ids, len(ids), clock.Now())
}
