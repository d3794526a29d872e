package ui

import (
	"image/color"
	"regexp"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"kfdesk/api"
	"kfdesk/api/clock"
	"kfdesk/ui/workspace"
)

// The preview is drawn like WeChat's chat on a phone: its own fixed colours,
// whatever the app's theme, so it looks the same light or dark.
var (
	chatBackground = color.NRGBA{0xed, 0xed, 0xed, 0xff}
	bubbleColor    = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	inkColor       = color.NRGBA{0x19, 0x19, 0x19, 0xff}
	greyInk        = color.NRGBA{0x88, 0x88, 0x88, 0xff}
	linkInk        = color.NRGBA{0x57, 0x6b, 0x95, 0xff}
	avatarColor    = color.NRGBA{0x07, 0xc1, 0x60, 0xff}
	placeholderBG  = color.NRGBA{0xd8, 0xd8, 0xd8, 0xff}
)

const (
	bubbleWidth = 250 // text wraps inside this
	cardWidth   = 250
	previewText = 14
)

// renderPreview redraws the preview from the message.
func (s *composerScreen) renderPreview() {
	if s.preview == nil {
		return
	}
	// The customer sees the KF account's nickname (the account name until the list is loaded).
	sender := s.msg.KFAccount()
	if nick := s.kfNicks[sender]; nick != "" {
		sender = nick
	}
	if sender == "" {
		sender = s.a.Name
	}
	s.preview.Objects = []fyne.CanvasObject{messagePreview(s.msg, s.files, sender)}
	s.preview.Refresh()
}

// messagePreview is one incoming message in a WeChat-like chat.
func messagePreview(m *api.Message, files map[string]string, sender string) fyne.CanvasObject {
	bg := canvas.NewRectangle(chatBackground)
	when := chatText(workspace.FormatTime(clock.Now(), "15:04"), 12, greyInk)
	when.Alignment = fyne.TextAlignCenter
	who := chatText(sender, 11, greyInk)
	row := container.NewHBox(avatar(sender), container.NewVBox(who, previewBody(m, files)))
	return container.NewStack(bg, container.NewPadded(container.NewVBox(when, row)))
}

// avatar is the sender's initial on a rounded square.
func avatar(name string) fyne.CanvasObject {
	r := canvas.NewRectangle(avatarColor)
	r.CornerRadius = 4
	r.SetMinSize(fyne.NewSize(36, 36))
	initial := "客"
	if rs := []rune(strings.TrimSpace(name)); len(rs) > 0 {
		initial = string(rs[0])
	}
	t := chatText(initial, 16, color.White)
	t.Alignment = fyne.TextAlignCenter
	return container.NewVBox(container.NewStack(r, container.NewCenter(t)))
}

var anchorTag = regexp.MustCompile(`(?s)<a\s[^>]*>(.*?)</a>`)

// previewBody draws the message by type.
func previewBody(m *api.Message, files map[string]string) fyne.CanvasObject {
	switch m.MsgType {
	case api.TypeText:
		return textBubble(m.Text.Content)
	case api.TypeImage:
		return picture(files["image.media_id"], m.Image.MediaID, 160, 160)
	case api.TypeVoice:
		return bubble(chatText("((( 3\"", previewText, inkColor))
	case api.TypeVideo:
		cover := picture(files["video.thumb_media_id"], m.Video.ThumbMediaID, cardWidth, 140)
		play := canvas.NewImageFromResource(theme.MediaPlayIcon())
		play.SetMinSize(fyne.NewSize(40, 40))
		return card(m.Video.Title, m.Video.Description, container.NewStack(cover, container.NewCenter(play)), T("Video"))
	case api.TypeMusic:
		return card(m.Music.Title, m.Music.Description, picture(files["music.thumb_media_id"], m.Music.ThumbMediaID, 56, 56), T("Music"))
	case api.TypeNews:
		a := m.News.Articles[0]
		return card(a.Title, a.Description, placeholder(56, 56, T("Picture")), hostOf(a.URL))
	case api.TypeLink:
		return card(m.Link.Title, m.Link.Description, placeholder(56, 56, T("Picture")), hostOf(m.Link.URL))
	case api.TypeMPNews:
		return card(T("Article material"), "media_id: "+m.MPNews.MediaID, nil, T("Official Account article"))
	case api.TypeMPNewsArticle:
		return card(T("Published article"), "article_id: "+m.MPNewsArticle.ArticleID, nil, T("Official Account article"))
	case api.TypeMsgMenu:
		return menuBubble(m.MsgMenu)
	case api.TypeWXCard:
		return card(T("Card / coupon"), "card_id: "+m.WXCard.CardID, placeholder(56, 56, T("Card")), T("WeChat card"))
	case api.TypeMiniProgramPage:
		p := m.MiniProgramPage
		cover := picture(files["miniprogrampage.thumb_media_id"], p.ThumbMediaID, cardWidth, 200)
		return card(p.Title, "", cover, T("Mini Program"))
	}
	return bubble(chatText("?", previewText, inkColor))
}

// textBubble shows text with mini-program links as their link text, in link colour.
func textBubble(content string) fyne.CanvasObject {
	if strings.TrimSpace(content) == "" {
		return bubble(chatText(T("(empty)"), previewText, greyInk))
	}
	lines := container.NewVBox()
	for _, para := range strings.Split(content, "\n") {
		ink := color.Color(inkColor)
		if anchorTag.MatchString(para) {
			para = anchorTag.ReplaceAllString(para, "$1")
			ink = linkInk // a line with a link: the link is what stands out
		}
		for _, l := range wrapText(para, bubbleWidth, previewText) {
			lines.Add(chatText(l, previewText, ink))
		}
	}
	return bubble(lines)
}

func menuBubble(m *api.MsgMenu) fyne.CanvasObject {
	lines := container.NewVBox()
	add := func(text string, ink color.Color) {
		for _, l := range wrapText(text, bubbleWidth, previewText) {
			lines.Add(chatText(l, previewText, ink))
		}
	}
	if m.HeadContent != "" {
		add(m.HeadContent, inkColor)
	}
	for _, o := range m.List {
		add(o.Content, linkInk)
	}
	if m.TailContent != "" {
		add(m.TailContent, inkColor)
	}
	if len(lines.Objects) == 0 {
		add(T("(empty)"), greyInk)
	}
	return bubble(lines)
}

// bubble puts content on a white rounded rectangle.
func bubble(content fyne.CanvasObject) fyne.CanvasObject {
	r := canvas.NewRectangle(bubbleColor)
	r.CornerRadius = 6
	return container.NewHBox(container.NewStack(r, container.NewPadded(content)))
}

// card is WeChat's link/article card: title, description with a thumbnail, footer.
func card(title, desc string, thumb fyne.CanvasObject, footer string) fyne.CanvasObject {
	body := container.NewVBox()
	if title == "" {
		title = T("(no title)")
	}
	for _, l := range wrapText(title, cardWidth, 15) {
		body.Add(chatText(l, 15, inkColor))
	}
	descBox := container.NewVBox()
	for _, l := range wrapText(desc, cardWidth-70, 12) {
		descBox.Add(chatText(l, 12, greyInk))
	}
	switch {
	case thumb != nil && desc != "":
		body.Add(container.NewBorder(nil, nil, nil, thumb, descBox))
	case thumb != nil:
		body.Add(thumb)
	default:
		body.Add(descBox)
	}
	line := canvas.NewRectangle(placeholderBG)
	line.SetMinSize(fyne.NewSize(cardWidth, 1))
	body.Add(line)
	body.Add(chatText(footer, 11, greyInk))
	r := canvas.NewRectangle(bubbleColor)
	r.CornerRadius = 6
	return container.NewHBox(container.NewStack(r, container.NewPadded(body)))
}

// picture is the chosen file, or a grey placeholder when only a media_id is known.
func picture(file, mediaID string, w, h float32) fyne.CanvasObject {
	if file != "" && mediaID != "" {
		img := canvas.NewImageFromFile(file)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(w, h))
		return img
	}
	label := T("Picture")
	if mediaID == "" {
		label = T("No file chosen")
	}
	return placeholder(w, h, label)
}

func placeholder(w, h float32, label string) fyne.CanvasObject {
	r := canvas.NewRectangle(placeholderBG)
	r.SetMinSize(fyne.NewSize(w, h))
	return container.NewStack(r, container.NewCenter(chatText(label, 12, greyInk)))
}

func chatText(s string, size float32, c color.Color) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextSize = size
	return t
}

// wrapText breaks text drawn at size into lines no wider than width (wraplabel.go).
func wrapText(text string, width, size float32) []string {
	if text == "" {
		return nil
	}
	return breakLines(text, width, func(s string) float32 { return fyne.MeasureText(s, size, fyne.TextStyle{}).Width })
}

// hostOf is the footer of a link card: the site's name.
func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	return u
}
