package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/api/wechattest"
)

// pressEnter is the Enter an input method lets through while composing (README,
// "Chinese input"): on macOS and Linux it reaches the entry as a key press.
func pressEnter(e fyne.Focusable) { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

// paste puts text on the clipboard and pastes it into e, as Ctrl+V does.
func paste(e *widget.Entry, text string) {
	fyne.CurrentApp().Clipboard().SetContent(text)
	e.TypedShortcut(&fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()})
}

func TestEnterInTheComposerNeitherSavesNorSends(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	test.Type(s.to, customer)
	test.Type(s.note, "老顾客")
	pressEnter(s.note)
	test.Type(s.entries["text.content"], "您好")
	pressEnter(s.entries["text.content"])
	pressEnter(s.to)
	waitIdle(t, m)
	if notes, err := m.ws.DB.Notes(context.Background(), s.a.ID); err != nil || notes[customer] != "" {
		t.Fatalf("Enter saved the note: %q %v", notes[customer], err)
	}
	if n := len(srv.Sent()); n != 0 {
		t.Fatalf("Enter sent %d messages", n)
	}

	test.Tap(findButton(t, m.Window().Canvas(), T("Save note"))) // the button still saves
	waitIdle(t, m)
	if notes, _ := m.ws.DB.Notes(context.Background(), s.a.ID); notes[customer] != "老顾客" {
		t.Fatalf("note %q after Save note", notes[customer])
	}
}

// No entry anywhere submits on Enter, so a new one with OnSubmitted fails here.
func TestNoEntrySubmitsOnEnter(t *testing.T) {
	m, _, _ := composerFor(t, wechattest.OfficialAccount)
	c := m.Window().Canvas()
	check := func(where string) {
		t.Helper()
		waitIdle(t, m)
		n := 0
		for _, o := range objects(c) {
			var submit func(string)
			switch e := o.(type) {
			case *widget.Entry:
				submit = e.OnSubmitted
			case *widget.SelectEntry:
				submit = e.OnSubmitted
			case *widget.DateEntry:
				submit = e.OnSubmitted
			default:
				continue
			}
			n++
			if submit != nil {
				t.Errorf("%s: an entry submits on Enter:\n%s", where, shownText(c))
			}
		}
		if n == 0 {
			t.Errorf("%s: no entry on screen", where)
		}
	}
	check("composer")
	m.showPage(PageRecords)
	check("chat records")
	m.showPage(PageKF)
	waitIdle(t, m)
	m.kf.onAdd()
	check("new KF account")
	m.showPage(PageSettings)
	m.settings.onAdd()
	check("new account")
}

func TestPastedAppIDAndSecretLoseSpacesLineBreaksAndZeroWidthSpaces(t *testing.T) {
	srv := wechattest.NewServer(wechattest.Config{AppID: "wx0123456789abcdef", Secret: "right-secret"})
	defer srv.Close()
	m, ws := newTestWindow(t, "en")
	f := openAddForm(t, m)
	test.Type(f.name, "shop")
	paste(f.appID, "\u200b wx0123456789abcdef\r\n")
	paste(f.secret, "\tright-secret\u200b\r\n")
	test.Type(f.apiBase, srv.URL)
	test.Tap(f.save)
	waitIdle(t, m)
	if txt := errTexts(f); txt != "" {
		t.Fatal(txt)
	}
	accounts, err := ws.DB.Accounts(context.Background())
	if err != nil || len(accounts) != 1 || accounts[0].AppID != "wx0123456789abcdef" {
		t.Fatalf("accounts %+v %v", accounts, err)
	}
	test.Tap(findButton(t, m.Window().Canvas(), T("Test connection")))
	waitIdle(t, m)
	if got := m.settings.testResult.Text; got != T("Connected: the AppID and AppSecret work and WeChat answered.") {
		t.Fatalf("the pasted secret did not work: %q", got)
	}
}

func TestComposerSendsPastedWindowsLineBreaksAsNewlines(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	test.Type(s.to, customer)
	s.entries["text.content"].SetText("第一行\r\n第二行\r第三行")
	tapSend(t, m, s)
	if got := lastSent(t, srv); !strings.Contains(got, `"content":"第一行\n第二行\n第三行"`) {
		t.Fatalf("sent %s", got)
	}
}
