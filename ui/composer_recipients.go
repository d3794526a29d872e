package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/ui/workspace"
)

// recipientPicker is the "Choose…" dialog: customers from the chat records and
// followers, filtered by openid or note, with a follower sync.
type recipientPicker struct {
	s        *composerScreen
	d        dialog.Dialog
	filter   *widget.Entry
	list     *widget.List
	shown    []workspace.Recipient
	sync     *widget.Button
	cancel   *widget.Button
	progress *widget.ProgressBar
	info     *wrapLabel
	stop     context.CancelFunc
}

func (s *composerScreen) onChooseRecipient() {
	p := &recipientPicker{s: s}
	p.filter = widget.NewEntry()
	p.filter.SetPlaceHolder(T("Filter by note or openid"))
	p.filter.OnChanged = func(string) { p.apply() }
	p.list = widget.NewList(func() int { return len(p.shown) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("template name")
			name.TextStyle.Bold = true
			return container.NewVBox(name, widget.NewLabel("template status"))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := p.shown[i]
			box := o.(*fyne.Container)
			title := r.OpenID
			if r.Note != "" {
				title = r.Note + "  ·  " + r.OpenID
			}
			box.Objects[0].(*widget.Label).SetText(title)
			box.Objects[1].(*widget.Label).SetText(s.describeRecipient(r, clock.Now()))
		})
	p.list.OnSelected = func(i widget.ListItemID) {
		s.setRecipient(p.shown[i].OpenID, true)
		p.d.Hide()
	}
	p.sync = widget.NewButtonWithIcon(T("Update followers"), theme.ViewRefreshIcon(), p.onSync)
	p.cancel = widget.NewButtonWithIcon(T("Cancel"), theme.CancelIcon(), func() {
		if p.stop != nil {
			p.stop()
		}
	})
	p.cancel.Hide()
	p.progress = widget.NewProgressBar()
	p.progress.Hide()
	p.info = newWrapLabel(s.followerInfo())
	if s.mp {
		p.sync.Hide() // a Mini Program has no follower list
	}
	bottom := container.NewVBox(p.info, container.NewBorder(nil, nil, p.sync, p.cancel, p.progress))
	content := container.NewBorder(p.filter, bottom, nil, nil, p.list)
	p.d = dialog.NewCustom(T("Choose a recipient"), T("Close"), content, s.m.win)
	p.d.SetOnClosed(func() {
		if p.stop != nil {
			p.stop()
		}
	})
	p.d.Resize(fyne.NewSize(760, 560))
	p.apply()
	s.picker = p
	p.d.Show()
}

// apply filters the recipient list.
func (p *recipientPicker) apply() {
	q := strings.ToLower(strings.TrimSpace(p.filter.Text))
	p.shown = p.shown[:0]
	for _, r := range p.s.recipients {
		if q == "" || strings.Contains(strings.ToLower(r.OpenID), q) || strings.Contains(strings.ToLower(r.Note), q) {
			p.shown = append(p.shown, r)
		}
	}
	p.list.UnselectAll()
	p.list.Refresh()
}

// onSync downloads the follower list (user/get) with progress and Cancel.
func (p *recipientPicker) onSync() {
	s := p.s
	ctx, cancel := context.WithCancel(s.m.ctx)
	p.stop = cancel
	p.sync.Disable()
	p.cancel.Show()
	p.progress.SetValue(0)
	p.progress.Show()
	var n int
	var err error
	s.m.goBackground(func() {
		defer cancel()
		n, err = s.m.ws.SyncFollowers(ctx, s.a, progressTo[int](p.progress))
	}, func() {
		p.sync.Enable()
		p.cancel.Hide()
		p.progress.Hide()
		if err != nil {
			p.info.SetText(errorText(err))
			return
		}
		s.reloadRecipients(func() {
			p.info.SetText(T("%d followers updated.", n) + " " + s.followerInfo())
			p.apply()
		})
	})
}

// followerInfo says when the follower list was last downloaded.
func (s *composerScreen) followerInfo() string {
	if s.mp {
		return T("Mini Programs have no follower list: customers appear here once they have written (chat records), or paste an openid.")
	}
	f := s.followers
	if f.SyncedAt.IsZero() {
		return T("The follower list has not been downloaded yet: press \"Update followers\".")
	}
	return T("Follower list from %s (%d followers).", workspace.FormatTime(f.SyncedAt, "2006-01-02 15:04"), len(f.OpenIDs))
}

// describeRecipient is a recipient's second line: last message and reply window.
func (s *composerScreen) describeRecipient(r workspace.Recipient, now time.Time) string {
	var parts []string
	if r.Seen && !r.LastMessage.IsZero() {
		parts = append(parts, T("last message %s", workspace.FormatTime(r.LastMessage, "01-02 15:04")))
	}
	parts = append(parts, s.windowState(r, now))
	if !r.Follower && r.Seen && s.followersKnown() {
		parts = append(parts, T("not in the follower list (unfollowed?)"))
	}
	return strings.Join(parts, "  ·  ")
}

func (s *composerScreen) followersKnown() bool { return !s.followers.SyncedAt.IsZero() }

// windowState estimates the 48-hour / 5-message reply window.
func (s *composerScreen) windowState(r workspace.Recipient, now time.Time) string {
	w := r.Reply(now)
	switch {
	case w.State == api.ReplyOpen:
		return T("reply window open: %d of %d replies left, %s left", w.Left, api.ReplyLimit, durationText(w.Rest))
	case w.State == api.ReplyUsedUp:
		return T("reply window used up: 5 replies sent since their last message")
	case w.State == api.ReplyClosed:
		return T("reply window closed: no message from them in the last 48 hours")
	case !s.haveRecords:
		return T("reply window unknown (no chat records)")
	}
	return T("no message from them in the chat records")
}

// windowText is the line under the recipient entry.
func (s *composerScreen) windowText(openid string) string {
	if openid == "" {
		return T("WeChat delivers customer-service messages only within 48 hours of the customer's last message, at most 5 per message.")
	}
	for _, r := range s.recipients {
		if r.OpenID == openid {
			return s.describeRecipient(r, clock.Now())
		}
	}
	return s.windowState(workspace.Recipient{OpenID: openid}, clock.Now())
}

func durationText(d time.Duration) string {
	if d >= time.Hour {
		return T("%d h", int(d.Hours()))
	}
	return T("%d min", max(1, int(d.Minutes())))
}
