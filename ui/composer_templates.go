package ui

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// Templates are named messages saved for reuse (without recipient); using one
// replaces the form's content and keeps the recipient.

// showTemplates puts the known templates in the chooser.
func (s *composerScreen) showTemplates() {
	names := make([]string, len(s.templates))
	for i, t := range s.templates {
		names[i] = t.Name
	}
	s.templateSelect.SetOptions(names)
}

// keepTemplate updates the known templates after a save (body) or a delete (body "").
func (s *composerScreen) keepTemplate(name, body string) {
	i := slices.IndexFunc(s.templates, func(t storage.Template) bool { return t.Name == name })
	switch {
	case body == "" && i >= 0:
		s.templates = slices.Delete(s.templates, i, i+1)
	case body != "" && i >= 0:
		s.templates[i].Body = body
	case body != "":
		s.templates = append(s.templates, storage.Template{Name: name, Body: body})
		slices.SortFunc(s.templates, func(a, b storage.Template) int { return strings.Compare(a.Name, b.Name) })
	}
	s.showTemplates()
}

func (s *composerScreen) onSaveTemplate() {
	name := widget.NewEntry()
	name.SetPlaceHolder(T("e.g. 满意度调查"))
	d := dialog.NewForm(T("Save as template"), T("Save"), T("Cancel"),
		[]*widget.FormItem{widget.NewFormItem(T("Name"), name)}, func(ok bool) {
			if ok {
				s.saveTemplate(name.Text)
			}
		}, s.m.win)
	d.Resize(fyne.NewSize(420, 180))
	d.Show()
}

// saveTemplate stores the current message (all of it but the recipient) under name.
func (s *composerScreen) saveTemplate(name string) {
	tpl := *s.msg
	tpl.ToUser = ""
	b, err := json.Marshal(composerDraft{Message: tpl.Wire(), Files: s.files})
	if err != nil {
		s.status.SetText(errorText(err))
		return
	}
	body := string(b)
	s.m.save(func(ctx context.Context) error { return s.m.ws.SaveTemplate(ctx, s.a, name, body) }, func(err error) {
		if err != nil {
			s.status.SetText(errorText(err))
			return
		}
		s.keepTemplate(strings.TrimSpace(name), body)
		s.status.SetText(T("Template \"%s\" saved.", name))
	})
}

// onDeleteTemplate asks which template to delete; nothing is deleted without a choice.
func (s *composerScreen) onDeleteTemplate() {
	if len(s.templateSelect.Options) == 0 {
		s.status.SetText(T("There are no templates yet."))
		return
	}
	which := widget.NewSelect(s.templateSelect.Options, nil)
	d := dialog.NewForm(T("Delete template"), T("Delete"), T("Cancel"),
		[]*widget.FormItem{widget.NewFormItem(T("Template"), which)}, func(ok bool) {
			if ok && which.Selected != "" {
				s.deleteTemplate(which.Selected)
			}
		}, s.m.win)
	d.Resize(fyne.NewSize(420, 180))
	d.Show()
	s.deleteDialog = which
}

func (s *composerScreen) deleteTemplate(name string) {
	s.m.save(func(ctx context.Context) error { return s.m.ws.DeleteTemplate(ctx, s.a, name) }, func(err error) {
		if err != nil {
			s.status.SetText(errorText(err))
			return
		}
		s.keepTemplate(name, "")
		s.status.SetText(T("Template \"%s\" deleted.", name))
	})
}

func (s *composerScreen) onUseTemplate(name string) {
	if name == "" {
		return
	}
	for _, t := range s.templates {
		if t.Name != name {
			continue
		}
		d, ok := workspace.ParseComposerDraft(t.Body)
		if !ok {
			s.status.SetText(T("The template \"%s\" cannot be read.", name))
			return
		}
		d.Message.ToUser = s.msg.ToUser
		if d.Message.CustomService == nil {
			d.Message.CustomService = s.msg.CustomService
		}
		s.msg = d.Message
		if d.Files != nil {
			s.files = d.Files
		}
		s.typeSelect.SetSelectedIndex(max(0, slices.Index(api.MsgTypes(s.mp), s.msg.MsgType))) // rebuilds the form
		s.rebuildForm()
		s.changed()
		s.status.SetText(T("Template \"%s\" loaded.", name))
	}
	s.templateSelect.ClearSelected()
}
