package workspace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	e, sendErr, err := w.post(ctx, a, m)
	if err != nil {
		return e, err
	}
	// The log write uses its own context: a cancelled send must still be recorded.
	id, logErr := w.DB.LogSend(context.WithoutCancel(ctx), a.ID, e)
	e.ID = id
	if sendErr != nil {
		return e, sendErr
	}
	if logErr != nil {
		return e, api.Describe(logErr, "消息已发送，但发送记录写入失败。", "The message was sent, but the send log could not be written.")
	}
	return e, nil
}

// post validates and sends m, and returns the send log entry to write (not
// written: Send logs it, an auto-reply writes it with its effect) and WeChat's
// answer as sendErr. err is set when nothing was sent (invalid, no client).
func (w *Workspace) post(ctx context.Context, a storage.Account, m *api.Message) (e storage.SendLogEntry, sendErr, err error) {
	if err := m.Validate(MiniProgram(a)); err != nil {
		return e, nil, err
	}
	body, err := m.JSON()
	if err != nil {
		return e, nil, err
	}
	c, err := w.client(ctx, a)
	if err != nil {
		return e, nil, err
	}
	sendErr = c.Send(ctx, m)
	e = storage.SendLogEntry{Time: clock.Now(), ToUser: m.ToUser, KFAccount: m.KFAccount(), MsgType: m.MsgType, Body: string(body)}
	e.Status, e.ErrCode, e.Error = outcome(sendErr)
	return e, sendErr, nil
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
	c, err := w.client(ctx, a)
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
	c, err := w.client(ctx, a)
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
	c, err := w.client(ctx, a)
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
	c, err := w.client(ctx, a)
	if err != nil {
		return 0, err
	}
	ids, err := c.AllFollowers(ctx, progress)
	if err != nil {
		return 0, err
	}
	return len(ids), w.DB.ReplaceFollowers(ctx, a.ID, ids, len(ids), clock.Now())
}

// ComposerState is what the composer shows when it opens, read in one go (off the
// window's UI thread) so that typing and choosing need no database read.
type ComposerState struct {
	Draft      string            // the saved draft ("" if none)
	Notes      map[string]string // openid → the operator's note
	Recipients []Recipient
	Followers  storage.SyncedFollowers
	HasRecords bool // chat records were downloaded, so a customer missing from them has not written
	Templates  []storage.Template
}

// ComposerState reads the composer's state of the account.
func (w *Workspace) ComposerState(ctx context.Context, a storage.Account) (ComposerState, error) {
	var st ComposerState
	var err error
	if st.Draft, err = w.DB.Draft(ctx, a.ID); err != nil {
		return st, err
	}
	if st.Notes, err = w.DB.Notes(ctx, a.ID); err != nil {
		return st, err
	}
	if st.Followers, err = w.DB.Followers(ctx, a.ID); err != nil {
		return st, err
	}
	if st.Recipients, err = w.recipients(ctx, a, st.Notes, st.Followers); err != nil {
		return st, err
	}
	if st.HasRecords, err = w.DB.HasRecords(ctx, a.ID); err != nil {
		return st, err
	}
	st.Templates, err = w.DB.Templates(ctx, a.ID)
	return st, err
}

// SaveDraft keeps the composer's draft of the account (the whole form, as JSON).
func (w *Workspace) SaveDraft(ctx context.Context, a storage.Account, body string) error {
	return w.DB.SaveDraft(ctx, a.ID, body)
}

// ClearDraft forgets the draft after a successful send.
func (w *Workspace) ClearDraft(ctx context.Context, a storage.Account) error {
	return w.DB.ClearDraft(ctx, a.ID)
}

// SetNote keeps the operator's note on a customer ("" removes it).
func (w *Workspace) SetNote(ctx context.Context, a storage.Account, openid, note string) error {
	return w.DB.SetNote(ctx, a.ID, openid, note)
}

// SaveTemplate keeps a message (as JSON, without recipient) under a name for reuse.
func (w *Workspace) SaveTemplate(ctx context.Context, a storage.Account, name, body string) error {
	return w.DB.SaveTemplate(ctx, a.ID, name, body)
}

// DeleteTemplate forgets a template.
func (w *Workspace) DeleteTemplate(ctx context.Context, a storage.Account, name string) error {
	return w.DB.DeleteTemplate(ctx, a.ID, name)
}

// ComposerDraft is how the composer's draft and templates are kept: the whole form
// (every type's fields, so switching type loses nothing) and the local files behind
// media ids, for the preview.
type ComposerDraft struct {
	Message *api.Message      `json:"message"`
	Files   map[string]string `json:"files,omitempty"` // media field → local file
}

// ParseComposerDraft reads a kept draft or template; ok is false when it cannot be read.
func ParseComposerDraft(body string) (d ComposerDraft, ok bool) {
	if body == "" || json.Unmarshal([]byte(body), &d) != nil || d.Message == nil {
		return ComposerDraft{}, false
	}
	d.Message.Fill()
	return d, true
}

// TemplateMessage is the message kept as the named template.
func (w *Workspace) TemplateMessage(ctx context.Context, a storage.Account, name string) (*api.Message, error) {
	ts, err := w.DB.Templates(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range ts {
		if t.Name == name {
			d, ok := ParseComposerDraft(t.Body)
			if !ok {
				return nil, &api.InputError{Field: "template", Chinese: fmt.Sprintf("模板「%s」无法读取。", name),
					English: fmt.Sprintf("The template %q cannot be read.", name)}
			}
			return d.Message, nil
		}
		names = append(names, t.Name)
	}
	known := "（还没有模板）/ (none yet)"
	if len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	return nil, &api.InputError{Field: "template", Chinese: fmt.Sprintf("没有名为「%s」的模板。已有：%s", name, known),
		English: fmt.Sprintf("There is no template named %q. Templates: %s", name, known)}
}
