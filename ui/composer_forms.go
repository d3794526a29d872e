package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api"
)

// buildForm is the chosen type's fields, each with its error line underneath.
func (s *composerScreen) buildForm() fyne.CanvasObject {
	f := container.New(layout.NewFormLayout())
	m := s.msg
	switch m.MsgType {
	case api.TypeText:
		e := s.field(f, T("Text"), "text.content", &m.Text.Content, true, T("What the customer will read"))
		s.byteCount = widget.NewLabel("")
		s.updateByteCount()
		link := widget.NewButtonWithIcon(T("Insert Mini Program link…"), theme.ContentAddIcon(), func() { s.onInsertLink(e) })
		f.Add(layout.NewSpacer())
		f.Add(container.NewHBox(link, layout.NewSpacer(), s.byteCount))
	case api.TypeImage:
		s.mediaField(f, T("Image"), "image.media_id", &m.Image.MediaID, api.MediaImage)
	case api.TypeVoice:
		s.mediaField(f, T("Voice"), "voice.media_id", &m.Voice.MediaID, api.MediaVoice)
	case api.TypeVideo:
		s.mediaField(f, T("Video"), "video.media_id", &m.Video.MediaID, api.MediaVideo)
		s.mediaField(f, T("Cover"), "video.thumb_media_id", &m.Video.ThumbMediaID, api.MediaThumb)
		s.field(f, T("Title"), "video.title", &m.Video.Title, false, T("optional"))
		s.field(f, T("Description"), "video.description", &m.Video.Description, false, T("optional"))
	case api.TypeMusic:
		s.field(f, T("Title"), "music.title", &m.Music.Title, false, T("optional"))
		s.field(f, T("Description"), "music.description", &m.Music.Description, false, T("optional"))
		s.field(f, T("Music URL"), "music.musicurl", &m.Music.MusicURL, false, "https://")
		s.field(f, T("HQ music URL"), "music.hqmusicurl", &m.Music.HQMusicURL, false, T("https:// (played on Wi-Fi)"))
		s.mediaField(f, T("Cover"), "music.thumb_media_id", &m.Music.ThumbMediaID, api.MediaThumb)
	case api.TypeNews:
		s.hint(f, T("WeChat allows exactly one article per news message since October 2018 (more are refused with error 45008)."))
		s.errorRow(f, "news.articles")
		a := &m.News.Articles[0]
		s.field(f, T("Title"), "news.articles.0.title", &a.Title, false, "")
		s.field(f, T("Description"), "news.articles.0.description", &a.Description, false, T("optional"))
		s.field(f, T("Link"), "news.articles.0.url", &a.URL, false, "https://")
		s.field(f, T("Picture URL"), "news.articles.0.picurl", &a.PicURL, false, T("optional, https://"))
	case api.TypeMPNews:
		s.hint(f, T("mpnews sends an article material by media_id. WeChat has replaced it with \"Published article\" (article_id) since the draft box launched."))
		s.field(f, "media_id", "mpnews.media_id", &m.MPNews.MediaID, false, "")
	case api.TypeMPNewsArticle:
		s.hint(f, T("The article_id of an article published from the draft box (freepublish)."))
		s.field(f, "article_id", "mpnewsarticle.article_id", &m.MPNewsArticle.ArticleID, false, "")
	case api.TypeMsgMenu:
		s.field(f, T("Opening text"), "msgmenu.head_content", &m.MsgMenu.HeadContent, false, T("e.g. 您对本次服务满意吗？"))
		s.menuEditor(f)
		s.field(f, T("Closing text"), "msgmenu.tail_content", &m.MsgMenu.TailContent, false, T("optional"))
	case api.TypeWXCard:
		s.hint(f, T("Only cards without a custom code can be sent."))
		s.field(f, "card_id", "wxcard.card_id", &m.WXCard.CardID, false, "")
	case api.TypeMiniProgramPage:
		s.field(f, T("Title"), "miniprogrampage.title", &m.MiniProgramPage.Title, false, "")
		if s.mp {
			m.MiniProgramPage.AppID = "" // a Mini Program opens only itself
		} else {
			s.field(f, "AppID", "miniprogrampage.appid", &m.MiniProgramPage.AppID, false, T("wx… of a Mini Program linked to this account"))
		}
		s.field(f, T("Page path"), "miniprogrampage.pagepath", &m.MiniProgramPage.PagePath, false, "pages/index/index")
		s.mediaField(f, T("Cover"), "miniprogrampage.thumb_media_id", &m.MiniProgramPage.ThumbMediaID, api.MediaImage)
	case api.TypeLink:
		s.field(f, T("Title"), "link.title", &m.Link.Title, false, "")
		s.field(f, T("Description"), "link.description", &m.Link.Description, false, "")
		s.field(f, T("Link"), "link.url", &m.Link.URL, false, "https://")
		s.field(f, T("Picture URL"), "link.thumb_url", &m.Link.ThumbURL, false, "https://")
	}
	return f
}

// field adds a labelled entry bound to *ptr, with the error line for path.
func (s *composerScreen) field(f *fyne.Container, label, path string, ptr *string, multiline bool, placeholder string) *widget.Entry {
	e := s.boundEntry(path, ptr, placeholder, multiline)
	f.Add(widget.NewLabel(label))
	f.Add(container.NewVBox(e, s.errorLabel(path)))
	return e
}

func (s *composerScreen) errorLabel(path string) *wrapLabel {
	l := newErrorLabel()
	s.errLabels[path] = l
	return l
}

// errorRow is an error line for a whole group (e.g. "news.articles").
func (s *composerScreen) errorRow(f *fyne.Container, path string) {
	f.Add(layout.NewSpacer())
	f.Add(s.errorLabel(path))
}

func (s *composerScreen) hint(f *fyne.Container, text string) {
	l := newWrapLabel(text)
	l.Importance = widget.LowImportance
	f.Add(layout.NewSpacer())
	f.Add(l)
}

func (s *composerScreen) updateByteCount() {
	if s.byteCount == nil {
		return
	}
	n := len(s.msg.Text.Content)
	s.byteCount.SetText(T("%d / %d bytes", n, api.MaxTextBytes))
	if n > api.MaxTextBytes {
		s.byteCount.Importance = widget.DangerImportance
	} else {
		s.byteCount.Importance = widget.LowImportance
	}
	s.byteCount.Refresh()
}

// onInsertLink asks for a mini-program text link and appends it to the text.
func (s *composerScreen) onInsertLink(e *widget.Entry) {
	text, href, appid, path := widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	text.SetPlaceHolder(T("e.g. 点击进入小程序"))
	href.SetPlaceHolder(T("https:// for old WeChat versions"))
	appid.SetPlaceHolder("wx…")
	if s.mp {
		appid.SetText(s.a.AppID) // inside a Mini Program only its own appid works
	}
	path.SetPlaceHolder("pages/index/index")
	items := []*widget.FormItem{
		widget.NewFormItem(T("Link text"), text), widget.NewFormItem(T("Web page"), href),
		widget.NewFormItem("AppID", appid), widget.NewFormItem(T("Page path"), path),
	}
	d := dialog.NewForm(T("Insert Mini Program link"), T("Insert"), T("Cancel"), items, func(ok bool) {
		if ok {
			s.insertLink(e, text.Text, href.Text, appid.Text, path.Text)
		}
	}, s.m.win)
	d.Resize(fyne.NewSize(520, 320))
	d.Show()
}

func (s *composerScreen) insertLink(e *widget.Entry, text, href, appid, path string) {
	if text == "" {
		text = T("Open the Mini Program")
	}
	e.SetText(e.Text + api.MiniProgramLink(text, href, appid, path)) // OnChanged updates the message
}

// menuEditor lists the msgmenu options: add, remove, move up and down.
func (s *composerScreen) menuEditor(f *fyne.Container) {
	rows := container.NewVBox()
	var rebuild func()
	rebuild = func() {
		list := &s.msg.MsgMenu.List
		rows.Objects = nil
		for k := range s.errLabels {
			if len(k) > len("msgmenu.list.") && k[:len("msgmenu.list.")] == "msgmenu.list." {
				delete(s.errLabels, k)
			}
		}
		for i := range *list {
			opt := &(*list)[i]
			idPath, contentPath := fmt.Sprintf("msgmenu.list.%d.id", i), fmt.Sprintf("msgmenu.list.%d.content", i)
			id := s.boundEntry(idPath, &opt.ID, T("id"), false)
			content := s.boundEntry(contentPath, &opt.Content, T("Option text"), false)
			i := i
			up := widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() {
				(*list)[i-1], (*list)[i] = (*list)[i], (*list)[i-1]
				rebuild()
				s.changed()
			})
			if i == 0 {
				up.Disable()
			}
			down := widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() {
				(*list)[i+1], (*list)[i] = (*list)[i], (*list)[i+1]
				rebuild()
				s.changed()
			})
			if i == len(*list)-1 {
				down.Disable()
			}
			remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
				*list = append((*list)[:i], (*list)[i+1:]...)
				rebuild()
				s.changed()
			})
			idBox := container.NewGridWrap(fyne.NewSize(90, id.MinSize().Height), id)
			row := container.NewBorder(nil, nil, idBox, container.NewHBox(up, down, remove), content)
			rows.Add(container.NewVBox(row, s.errorLabel(idPath), s.errorLabel(contentPath)))
		}
		rows.Refresh()
	}
	add := widget.NewButtonWithIcon(T("Add option"), theme.ContentAddIcon(), func() {
		list := &s.msg.MsgMenu.List
		*list = append(*list, api.MenuOption{ID: nextMenuID(*list)})
		rebuild()
		s.changed()
		if e, ok := s.entries[fmt.Sprintf("msgmenu.list.%d.content", len(*list)-1)]; ok {
			s.m.win.Canvas().Focus(e)
		}
	})
	s.addMenuOption = add.OnTapped
	rebuild()
	f.Add(widget.NewLabel(T("Options")))
	f.Add(container.NewVBox(rows, s.errorLabel("msgmenu.list"), container.NewHBox(add)))
}

// boundEntry is an entry bound to *ptr whose error shows at path.
func (s *composerScreen) boundEntry(path string, ptr *string, placeholder string, multiline bool) *widget.Entry {
	e := widget.NewEntry()
	if multiline {
		e = widget.NewMultiLineEntry()
		e.Wrapping = fyne.TextWrapWord
		e.SetMinRowsVisible(6)
	}
	e.SetPlaceHolder(placeholder)
	e.SetText(*ptr)
	e.OnChanged = func(v string) {
		*ptr = unixNewlines(v)
		s.showFieldError(path, "")
		if path == "text.content" {
			s.updateByteCount()
		}
		s.changed()
	}
	s.entries[path] = e
	return e
}

// nextMenuID proposes an id not used yet: 101, 102, …
func nextMenuID(list []api.MenuOption) string {
	used := map[string]bool{}
	for _, o := range list {
		used[o.ID] = true
	}
	for n := 101; ; n++ {
		if id := fmt.Sprint(n); !used[id] {
			return id
		}
	}
}
