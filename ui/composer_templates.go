package ui

import (
	"encoding/json"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
)

// Templates are named messages saved for reuse (without recipient); using one
// replaces the form's content and keeps the recipient.

func (s *composerScreen) loadTemplates() {
	ts, err := s.m.ws.DB.Templates(s.m.ctx, s.a.ID)
	if err != nil {
		s.status.SetText(errorText(err))
		return
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	s.templateSelect.SetOptions(names)
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
	if err == nil {
		err = s.m.ws.DB.SaveTemplate(s.m.ctx, s.a.ID, name, string(b))
	}
	if err != nil {
		s.status.SetText(errorText(err))
		return
	}
	s.loadTemplates()
	s.status.SetText(T("Template \"%s\" saved.", name))
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
	if err := s.m.ws.DB.DeleteTemplate(s.m.ctx, s.a.ID, name); err != nil {
		s.status.SetText(errorText(err))
		return
	}
	s.loadTemplates()
	s.status.SetText(T("Template \"%s\" deleted.", name))
}

func (s *composerScreen) onUseTemplate(name string) {
	if name == "" {
		return
	}
	ts, err := s.m.ws.DB.Templates(s.m.ctx, s.a.ID)
	if err != nil {
		s.status.SetText(errorText(err))
		return
	}
	for _, t := range ts {
		if t.Name != name {
			continue
		}
		var d composerDraft
		if err := json.Unmarshal([]byte(t.Body), &d); err != nil || d.Message == nil {
			s.status.SetText(T("The template \"%s\" cannot be read.", name))
			return
		}
		d.Message.Fill()
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
