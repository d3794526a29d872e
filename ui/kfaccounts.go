package ui

import (
	"context"
	"fmt"
	"image"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	fstorage "fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/kfavatar"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// kfScreen manages the account's KF (customer-service) accounts: the list with
// avatar, binding, invitation and online status; add, edit the nickname, delete,
// invite a worker and set the avatar. Every WeChat call runs off the UI thread
// and reports back through fyne.Do; errors show where the operator is looking.
type kfScreen struct {
	m       *MainWindow
	account storage.Account

	items    []api.KFAccount
	oaID     string // the Official Account's WeChat ID, "" until known
	derived  bool   // oaID was read off existing KF accounts, so it is certain
	selected string // kf_account of the selected row
	loads    int    // refresh generation: only the latest answer is shown

	list                                    *widget.List
	refresh, add, edit, del, invite, avatar *widget.Button
	oaLabel                                 *widget.Label
	notice, listErr                         *wrapLabel
	busy                                    *widget.ProgressBarInfinite
	formBox                                 *fyne.Container
	form                                    *kfForm // the open form, nil when none
}

func newKFScreen(m *MainWindow) *kfScreen { return &kfScreen{m: m, account: m.account} }

func (s *kfScreen) buildUI() fyne.CanvasObject {
	if s.account.Kind == storage.KindMP {
		l := newWrapLabel(T("Mini Programs have no KF account API: bind customer-service staff (up to 100) at mp.weixin.qq.com > Features > Customer Service. Messages and chat records work here as usual."))
		return container.NewVBox(heading(T("KF accounts")), l)
	}
	s.list = widget.NewList(func() int { return len(s.items) },
		func() fyne.CanvasObject { return newKFRow() },
		func(i widget.ListItemID, o fyne.CanvasObject) { s.showRow(s.items[i], o.(*kfRow)) })
	s.list.OnSelected = func(i widget.ListItemID) { s.selected = s.items[i].Account; s.updateButtons() }
	s.list.OnUnselected = func(widget.ListItemID) { s.selected = ""; s.updateButtons() }

	s.refresh = widget.NewButtonWithIcon(T("Refresh"), theme.ViewRefreshIcon(), s.onRefresh)
	s.add = widget.NewButtonWithIcon(T("Add KF account"), theme.ContentAddIcon(), s.onAdd)
	s.edit = widget.NewButtonWithIcon(T("Edit nickname"), theme.DocumentCreateIcon(), s.onEdit)
	s.del = widget.NewButtonWithIcon(T("Delete"), theme.DeleteIcon(), s.onDelete)
	s.invite = widget.NewButtonWithIcon(T("Invite worker"), theme.MailComposeIcon(), s.onInvite)
	s.avatar = widget.NewButtonWithIcon(T("Set avatar"), theme.FileImageIcon(), s.onAvatar)
	s.add.Importance = widget.HighImportance
	s.oaLabel = widget.NewLabel("")
	s.notice = newWrapLabel("")
	s.notice.Importance = widget.SuccessImportance
	s.notice.Hide()
	s.listErr = newErrorLabel()
	s.busy = widget.NewProgressBarInfinite()
	s.busy.Hide()
	s.formBox = container.NewVBox(s.helpText())
	s.updateButtons()

	top := container.NewVBox(
		container.NewHBox(heading(T("KF accounts")), s.oaLabel),
		container.NewHBox(s.refresh, s.add, s.edit, s.del, s.invite, s.avatar),
		s.busy, s.listErr, s.notice)
	split := container.NewHSplit(s.list, container.NewVScroll(s.formBox))
	split.Offset = 0.6
	s.onRefresh()
	return container.NewBorder(top, nil, nil, nil, split)
}

// helpText fills the side panel when no form is open.
func (s *kfScreen) helpText() fyne.CanvasObject {
	l := newWrapLabel(T("Each KF account is one customer-service seat. Add it, then invite a worker by WeChat ID: once they accept in WeChat they answer customers at mpkf.weixin.qq.com or in the 客服小助手 mini program.") +
		"\n\n" + T("Select an account to edit its nickname, delete it, invite a worker or set its avatar."))
	return l
}

func (s *kfScreen) selectedItem() (api.KFAccount, bool) {
	for _, k := range s.items {
		if k.Account == s.selected && s.selected != "" {
			return k, true
		}
	}
	return api.KFAccount{}, false
}

func (s *kfScreen) updateButtons() {
	k, ok := s.selectedItem()
	for _, b := range []*widget.Button{s.edit, s.del, s.avatar} {
		if ok {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	// A bound account cannot take another worker, and a waiting invitation must run out first.
	if ok && k.WX == "" && k.InviteStatus != api.InviteWaiting {
		s.invite.Enable()
	} else {
		s.invite.Disable()
	}
}

func (s *kfScreen) showOAID() {
	if s.oaID == "" {
		s.oaLabel.SetText(T("Official Account WeChat ID: not known yet"))
		return
	}
	s.oaLabel.SetText(T("Official Account WeChat ID: %s", s.oaID))
}

// setNotice shows a success line (empty hides it).
func (s *kfScreen) setNotice(text string) {
	s.notice.SetText(text)
	if text == "" {
		s.notice.Hide()
	} else {
		s.notice.Show()
	}
}

// onRefresh reloads the list (getkflist + getonlinekflist) in the background.
func (s *kfScreen) onRefresh() {
	s.loads++
	gen := s.loads
	s.refresh.Disable()
	s.busy.Show()
	s.busy.Start()
	thumbs.forgetFailures()
	var list []api.KFAccount
	var oaID string
	var err error
	s.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(s.m.ctx, time.Minute)
		defer cancel()
		list, oaID, err = s.m.ws.KFAccounts(ctx, s.account)
	}, func() {
		if gen != s.loads {
			return
		}
		s.refresh.Enable()
		s.busy.Stop()
		s.busy.Hide()
		if err != nil {
			showError(s.listErr, errorText(err))
			return // the old list stays: nothing is lost by a failed refresh
		}
		showError(s.listErr, "")
		s.items, s.oaID, s.derived = list, oaID, len(list) > 0 && oaID != ""
		s.showOAID()
		keep := s.selected // UnselectAll clears it
		s.list.UnselectAll()
		for i, k := range s.items {
			if k.Account == keep {
				s.list.Select(i)
			}
		}
		if _, ok := s.selectedItem(); !ok {
			s.selected = ""
		}
		s.updateButtons()
		s.list.Refresh()
	})
}

// kfRow is one line of the list: avatar, nickname and account, binding or
// invitation, online status.
type kfRow struct {
	widget.BaseWidget
	avatar               *canvas.Image
	title, detail, state *widget.Label
}

func newKFRow() *kfRow {
	r := &kfRow{avatar: canvas.NewImageFromResource(theme.AccountIcon()),
		title: widget.NewLabel("nickname · account"), detail: widget.NewLabel("binding"), state: widget.NewLabel("status")}
	r.avatar.FillMode = canvas.ImageFillContain
	r.avatar.SetMinSize(fyne.NewSize(44, 44))
	r.title.TextStyle.Bold = true
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *kfRow) CreateRenderer() fyne.WidgetRenderer {
	text := container.NewVBox(r.title, r.detail)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.avatar), r.state, text))
}

func (s *kfScreen) showRow(k api.KFAccount, r *kfRow) {
	r.title.SetText(k.Nick + " · " + k.Account)
	r.detail.SetText(bindingText(k))
	if k.Online() {
		r.state.SetText(T("Online · %d chats", k.AcceptedCase))
		r.state.Importance = widget.SuccessImportance
	} else {
		r.state.SetText(T("Offline"))
		r.state.Importance = widget.MediumImportance // Low is too pale to read in the light theme
	}
	r.state.Refresh()
	img, load := thumbs.lookup(k.HeadImgURL)
	if load {
		go s.loadThumb(k.HeadImgURL) // the list never waits for a picture
	}
	if img != nil {
		r.avatar.Resource, r.avatar.Image = nil, img
	} else {
		r.avatar.Image, r.avatar.Resource = nil, theme.AccountIcon()
	}
	r.avatar.Refresh()
}

// bindingText says who works on the account, or where its invitation stands.
func bindingText(k api.KFAccount) string {
	when := workspace.FormatTime(time.Unix(k.InviteExpireTime, 0), "01-02 15:04")
	switch {
	case k.WX != "":
		return T("Worker's WeChat ID: %s", k.WX)
	case k.InviteStatus == api.InviteWaiting:
		return T("Invited %s; waiting for them to accept (until %s)", k.InviteWX, when)
	case k.InviteStatus == api.InviteRejected:
		return T("%s declined the invitation; invite someone again", k.InviteWX)
	case k.InviteStatus == api.InviteExpired:
		return T("The invitation to %s expired; invite again", k.InviteWX)
	}
	return T("No worker bound yet: invite one")
}

// thumbs caches avatar thumbnails by URL for the whole session: pages are rebuilt
// often, avatars rarely change (a new avatar gets a new URL).
var thumbs = &thumbCache{m: map[string]*thumbEntry{}}

type thumbCache struct {
	mu sync.Mutex
	m  map[string]*thumbEntry
}

type thumbEntry struct {
	img    image.Image
	failed bool
}

// lookup returns the cached thumbnail; load is true when the caller should fetch it
// (the entry is then marked as being loaded, so one fetch runs per URL).
func (c *thumbCache) lookup(url string) (img image.Image, load bool) {
	if url == "" {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[url]
	if !ok {
		c.m[url] = &thumbEntry{}
		return nil, true
	}
	return e.img, false
}

func (c *thumbCache) set(url string, img image.Image) {
	c.mu.Lock()
	c.m[url] = &thumbEntry{img: img, failed: img == nil}
	c.mu.Unlock()
}

// forgetFailures lets Refresh try failed downloads again.
func (c *thumbCache) forgetFailures() {
	c.mu.Lock()
	for url, e := range c.m {
		if e.failed {
			delete(c.m, url)
		}
	}
	c.mu.Unlock()
}

// thumbSide is the thumbnail's pixel size: twice the 44-unit box, sharp on HiDPI.
const thumbSide = 88

func (s *kfScreen) loadThumb(url string) {
	var img image.Image
	ctx, cancel := context.WithTimeout(s.m.ctx, time.Minute)
	defer cancel()
	img, _ = s.m.ws.KFAvatarThumbnail(ctx, s.account, url, thumbSide)
	thumbs.set(url, img) // a failure shows the default icon, never an error
	if img != nil {
		fyne.Do(s.list.Refresh)
	}
}

// kfForm is the side panel's form; only the entries it needs are set.
type kfForm struct {
	prefix, oaID, nick, wx *widget.Entry
	nickCount              *widget.Label
	errs                   map[string]*wrapLabel
	formErr                *wrapLabel
	busy                   *widget.ProgressBarInfinite
	save, cancel           *widget.Button
	stop                   context.CancelFunc // cancels the running call, if any
}

func newKFForm() *kfForm {
	f := &kfForm{errs: map[string]*wrapLabel{}, formErr: newErrorLabel(), busy: widget.NewProgressBarInfinite()}
	f.busy.Hide()
	return f
}

// field puts an entry above its own error line.
func (f *kfForm) field(key string, w fyne.CanvasObject) fyne.CanvasObject {
	f.errs[key] = newErrorLabel()
	return container.NewVBox(w, f.errs[key])
}

func (f *kfForm) clearErrors() {
	for _, l := range f.errs {
		showError(l, "")
	}
	showError(f.formErr, "")
}

// showErr puts an error at its field when the form has one, else under the form.
func (f *kfForm) showErr(err error) {
	if field, text, ok := fieldError(err); ok {
		if l, ok := f.errs[field]; ok {
			showError(l, text)
			return
		}
	}
	showError(f.formErr, errorText(err))
}

func (f *kfForm) nickEntry(text string) fyne.CanvasObject {
	f.nick = widget.NewEntry()
	f.nick.SetPlaceHolder(T("e.g. 小美"))
	f.nickCount = widget.NewLabel("")
	f.nick.OnChanged = func(s string) {
		f.nickCount.SetText(fmt.Sprintf("%d/%d", utf8.RuneCountInString(s), api.MaxKFNick))
	}
	f.nick.SetText(text)
	f.nick.OnChanged(text)
	return f.field("nickname", container.NewBorder(nil, nil, nil, f.nickCount, f.nick))
}

// openForm shows a form in the side panel with Save/Cancel under it.
func (s *kfScreen) openForm(f *kfForm, title, saveText string, onSave func(), body ...fyne.CanvasObject) {
	s.setNotice("")
	f.save = widget.NewButtonWithIcon(saveText, theme.ConfirmIcon(), onSave)
	f.save.Importance = widget.HighImportance
	f.cancel = widget.NewButton(T("Cancel"), func() {
		if f.stop != nil {
			f.stop()
		}
		s.closeForm()
	})
	objs := append([]fyne.CanvasObject{heading(title)}, body...)
	objs = append(objs, f.busy, f.formErr, container.NewHBox(f.save, f.cancel))
	s.form = f
	s.formBox.Objects = []fyne.CanvasObject{container.NewVBox(objs...)}
	s.formBox.Refresh()
}

func (s *kfScreen) closeForm() {
	s.form = nil
	s.formBox.Objects = []fyne.CanvasObject{s.helpText()}
	s.formBox.Refresh()
}

// call runs work against WeChat off the UI thread while the form shows progress;
// on success the form closes, done is shown and the list reloads. On failure the
// form stays as typed, with the explanation at the field or under the form.
func (s *kfScreen) call(f *kfForm, done string, work func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(s.m.ctx, 3*time.Minute)
	f.stop = cancel
	f.save.Disable()
	f.busy.Show()
	f.busy.Start()
	var err error
	s.m.goBackground(func() {
		defer cancel()
		err = work(ctx)
	}, func() {
		f.stop = nil
		f.save.Enable()
		f.busy.Stop()
		f.busy.Hide()
		if err != nil {
			f.showErr(err)
			return
		}
		if s.form == f {
			s.closeForm()
		}
		s.setNotice(done)
		s.onRefresh()
	})
}

// onAdd opens the add form. The account is prefix@OA-WeChat-ID; the ID is shown
// fixed when known from existing KF accounts, otherwise asked (once) and remembered.
func (s *kfScreen) onAdd() {
	f := newKFForm()
	f.prefix = widget.NewEntry()
	f.prefix.SetPlaceHolder("xiaomei")
	var suffix fyne.CanvasObject
	if s.derived {
		suffix = widget.NewLabel("@" + s.oaID)
	} else {
		f.oaID = widget.NewEntry()
		f.oaID.SetPlaceHolder(T("OA WeChat ID"))
		f.oaID.SetText(s.oaID)
		suffix = container.NewGridWrap(fyne.NewSize(180, f.oaID.MinSize().Height), f.oaID)
		suffix = container.NewHBox(widget.NewLabel("@"), suffix)
	}
	f.errs["kf_account"], f.errs["wechat_id"] = newErrorLabel(), newErrorLabel()
	account := container.NewVBox(container.NewBorder(nil, nil, nil, suffix, f.prefix), f.errs["kf_account"], f.errs["wechat_id"])
	rules := newWrapLabel(T("Account: prefix@the Official Account's WeChat ID. The prefix has 1–10 letters, digits or underscores and cannot be changed later.") + "\n" +
		T("Nickname: up to 16 characters; customers see it."))
	if f.oaID != nil {
		rules.SetText(rules.Text + "\n" + T("The Official Account's WeChat ID is under mp.weixin.qq.com > Settings and Development > Account Settings (微信号). It is asked only once."))
	}
	items := []*widget.FormItem{widget.NewFormItem(T("Account"), account)}
	form := widget.NewForm(append(items, widget.NewFormItem(T("Nickname"), f.nickEntry("")))...)
	s.openForm(f, T("Add KF account"), T("Add"), func() { s.saveAdd(f) }, form, rules)
}

func (s *kfScreen) saveAdd(f *kfForm) {
	f.clearErrors()
	oaID := s.oaID
	ok := true
	if f.oaID != nil {
		oaID = strings.TrimSpace(f.oaID.Text)
		if err := api.CheckOAWeChatID(oaID); err != nil {
			f.showErr(err)
			ok = false
		}
	}
	prefix, nick := strings.TrimSpace(f.prefix.Text), f.nick.Text
	for _, err := range []error{api.CheckKFPrefix(prefix), api.CheckKFNick(nick)} {
		if err != nil {
			f.showErr(err)
			ok = false
		}
	}
	if !ok {
		return
	}
	account := prefix + "@" + oaID
	s.call(f, T("Added %s. Now invite a worker to bind it.", account), func(ctx context.Context) error {
		return s.m.ws.AddKF(ctx, s.account, account, nick) // remembers the OA's WeChat ID once WeChat took it
	})
}

func (s *kfScreen) onEdit() {
	k, ok := s.selectedItem()
	if !ok {
		return
	}
	f := newKFForm()
	form := widget.NewForm(
		widget.NewFormItem(T("Account"), widget.NewLabel(k.Account)),
		widget.NewFormItem(T("Nickname"), f.nickEntry(k.Nick)))
	rules := widget.NewLabel(T("Nickname: up to 16 characters; customers see it."))
	s.openForm(f, T("Edit nickname"), T("Save"), func() {
		f.clearErrors()
		nick := f.nick.Text
		if err := api.CheckKFNick(nick); err != nil {
			f.showErr(err)
			return
		}
		s.call(f, T("Saved the nickname of %s.", k.Account), func(ctx context.Context) error {
			return s.m.ws.UpdateKF(ctx, s.account, k.Account, nick)
		})
	}, form, rules)
}

// onDelete asks first: deleting is immediate on WeChat and cannot be undone.
func (s *kfScreen) onDelete() {
	k, ok := s.selectedItem()
	if !ok {
		return
	}
	msg := T("Delete the KF account %s (%s) on WeChat? Its worker can no longer serve customers with it. This cannot be undone.", k.Account, k.Nick)
	askFirst(s.m.win, T("Delete KF account"), msg, T("Delete"), func() { s.deleteConfirmed(k.Account) })
}

func (s *kfScreen) deleteConfirmed(account string) {
	s.del.Disable()
	s.setNotice("")
	var err error
	s.m.goBackground(func() {
		ctx, cancel := context.WithTimeout(s.m.ctx, time.Minute)
		defer cancel()
		err = s.m.ws.DeleteKF(ctx, s.account, account)
	}, func() {
		s.updateButtons()
		if err != nil {
			showError(s.listErr, errorText(err))
			return
		}
		showError(s.listErr, "")
		s.setNotice(T("Deleted %s.", account))
		s.onRefresh()
	})
}

func (s *kfScreen) onInvite() {
	k, ok := s.selectedItem()
	if !ok {
		return
	}
	f := newKFForm()
	f.wx = widget.NewEntry()
	f.wx.SetPlaceHolder(T("the worker's WeChat ID"))
	form := widget.NewForm(
		widget.NewFormItem(T("Account"), widget.NewLabel(k.Account)),
		widget.NewFormItem(T("WeChat ID"), f.field("invite_wx", f.wx)))
	rules := newWrapLabel(T("Enter the worker's WeChat ID (微信号, on their WeChat Me page), not their nickname. They get an invitation in WeChat and have 7 days to accept; then this account is bound to them."))
	s.openForm(f, T("Invite worker"), T("Send invitation"), func() {
		f.clearErrors()
		wx := strings.TrimSpace(f.wx.Text)
		s.call(f, T("Invited %s to %s. The invitation waits 7 days for them to accept.", wx, k.Account), func(ctx context.Context) error {
			return s.m.ws.InviteKF(ctx, s.account, k.Account, wx)
		})
	}, form, rules)
}

// avatarExtensions are the picture files the picker offers (kfavatar reads them all).
var avatarExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".JPG", ".JPEG", ".PNG"}

// onAvatar lets the operator pick any picture; it is converted and uploaded in the background.
func (s *kfScreen) onAvatar() {
	k, ok := s.selectedItem()
	if !ok {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			showError(s.listErr, errorText(err))
			return
		}
		if r == nil {
			return // cancelled
		}
		s.uploadAvatar(k, func() ([]byte, error) {
			defer r.Close()
			return kfavatar.Read(r)
		})
	}, s.m.win)
	d.SetFilter(fstorage.NewExtensionFileFilter(avatarExtensions))
	d.Resize(fyne.NewSize(820, 560))
	d.Show()
}

// uploadAvatar reads, converts (square 640×640 JPEG) and uploads, with progress
// and Cancel in the side panel; the list then shows the new avatar.
func (s *kfScreen) uploadAvatar(k api.KFAccount, read func() ([]byte, error)) {
	f := newKFForm()
	note := newWrapLabel(T("Preparing the picture (square, 640×640, JPG) and uploading it…"))
	s.openForm(f, T("Avatar of %s", k.Nick), T("Choose another picture"), s.onAvatar, note)
	s.call(f, T("The avatar of %s is set.", k.Account), func(ctx context.Context) error {
		data, err := read()
		if err != nil {
			return err
		}
		_, err = s.m.ws.SetKFAvatar(ctx, s.account, k.Account, data)
		return err
	})
}
