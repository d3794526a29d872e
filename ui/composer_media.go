package ui

import (
	"context"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/ui/workspace"
)

// uploadRow is a media field's file chooser with its upload progress.
type uploadRow struct {
	typ    string // media type the field uploads as
	file   *widget.Label
	bar    *widget.ProgressBar
	cancel *widget.Button
	choose *widget.Button
	stop   context.CancelFunc
	set    func(mediaID string) // stores the id even if the form was rebuilt meanwhile
}

// mediaField: choose a file (uploaded for you) or paste a media_id.
func (s *composerScreen) mediaField(f *fyne.Container, label, path string, ptr *string, typ string) {
	if s.mp {
		typ = api.MediaImage // a Mini Program uploads images only
	}
	e := s.boundEntry(path, ptr, T("media_id (filled in when you choose a file)"), false)
	row := &uploadRow{typ: typ, file: widget.NewLabel(""), bar: widget.NewProgressBar(), set: func(id string) { *ptr = id }}
	if p := s.files[path]; p != "" && *ptr != "" {
		row.file.SetText(filepath.Base(p))
	}
	row.choose = widget.NewButtonWithIcon(T("Choose file…"), theme.FolderOpenIcon(), func() { s.onPickFile(path) })
	row.cancel = widget.NewButtonWithIcon(T("Cancel"), theme.CancelIcon(), func() {
		if row.stop != nil {
			row.stop()
		}
	})
	row.bar.Hide()
	row.cancel.Hide()
	s.uploads[path] = row
	lim := api.MediaLimits[typ]
	limits := widget.NewLabel(T("%s, at most %s", lim.Formats, api.SizeText(lim.MaxBytes)))
	limits.Importance = widget.LowImportance
	f.Add(widget.NewLabel(label))
	f.Add(container.NewVBox(
		container.NewHBox(row.choose, row.file, limits),
		container.NewBorder(nil, nil, nil, row.cancel, row.bar),
		e, s.errorLabel(path)))
}

// onPickFile opens the file chooser for a media field.
func (s *composerScreen) onPickFile(path string) {
	typ := s.uploads[path].typ
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		_ = rc.Close() // opened for nothing: useFile reads the path in the background
		s.useFile(path, rc.URI().Path())
	}, s.m.win)
	d.SetFilter(storage.NewExtensionFileFilter(extensionsWithUpper(api.MediaLimits[typ].Extensions)))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

func extensionsWithUpper(exts []string) []string {
	out := append([]string{}, exts...)
	for _, e := range exts {
		out = append(out, strings.ToUpper(e))
	}
	return out
}

// useFile reads and checks a chosen file off the UI thread; a picture that is too
// large (or, for a cover, not a JPG) can be shrunk to a JPEG first
// (workspace.CanShrink). Then it is uploaded.
func (s *composerScreen) useFile(path, file string) {
	row := s.uploads[path]
	if row == nil {
		return
	}
	typ := row.typ
	s.showFieldError(path, "")
	var f workspace.MediaFile
	var err error
	s.m.goBackground(func() { f, err = workspace.ReadMedia(file, typ, s.mp) }, func() {
		if s.uploads[path] != row {
			return // the form changed meanwhile
		}
		switch {
		case workspace.CanShrink(f, err):
			msg := errorText(err) + "\n\n" + T("Re-encode it as a smaller JPEG and upload that? The file on your computer is not changed.")
			ask(s.m.win, T("Shrink the picture?"), msg, lang.L("Yes"), lang.L("No"), func(ok bool) {
				if !ok {
					s.showFieldError(path, errorText(err))
					return
				}
				s.shrinkAndUpload(path, f)
			})
		case err != nil:
			s.showFieldError(path, errorText(err))
		default:
			s.upload(path, f)
		}
	})
}

// shrinkAndUpload re-encodes the picture off the UI thread, then uploads it.
func (s *composerScreen) shrinkAndUpload(path string, f workspace.MediaFile) {
	var small workspace.MediaFile
	var err error
	s.status.SetText(T("Shrinking the picture…"))
	s.m.goBackground(func() { small, err = f.Shrink() }, func() {
		s.status.SetText("")
		if err != nil {
			s.showFieldError(path, errorText(err))
			return
		}
		s.upload(path, small)
	})
}

// upload sends the file off the UI thread with progress and Cancel, then fills the media_id.
func (s *composerScreen) upload(path string, f workspace.MediaFile) {
	row := s.uploads[path]
	if row == nil {
		return
	}
	ctx, cancel := context.WithCancel(s.m.ctx)
	row.stop = cancel
	typ, file, name, data := f.Type, f.Path, f.Name, f.Data
	row.file.SetText(name)
	row.bar.SetValue(0)
	row.bar.Show()
	row.cancel.Show()
	row.choose.Disable()
	s.showFieldError(path, "")
	var media workspace.Media
	var err error
	s.m.goBackground(func() {
		defer cancel()
		media, err = s.m.ws.UploadMedia(ctx, s.a, typ, name, data, progressTo[int64](row.bar))
	}, func() {
		row.bar.Hide()
		row.cancel.Hide()
		row.choose.Enable()
		if err != nil {
			row.file.SetText("")
			s.showFieldError(path, errorText(err))
			return
		}
		s.files[path] = file
		if e := s.entries[path]; e != nil {
			e.SetText(media.MediaID) // OnChanged stores it in the message and saves the draft
		} else {
			row.set(media.MediaID)
			s.changed()
		}
		if media.Cached {
			s.status.SetText(T("%s was uploaded before; its media_id is reused (valid 3 days).", name))
		} else {
			s.status.SetText(T("%s uploaded.", name))
		}
	})
}

// progressTo moves bar from a background goroutine as done of total advances.
func progressTo[N int | int64](bar *widget.ProgressBar) func(done, total N) {
	return func(done, total N) {
		if total > 0 {
			v := float64(done) / float64(total)
			fyne.Do(func() { bar.SetValue(v) })
		}
	}
}
