package ui

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"kfdesk/ui/workspace"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/segmenter"
)

// Punctuation that must not start a line, and that must not end one (GB/T 15834 and
// the W3C's Requirements for Chinese Text Layout, https://www.w3.org/TR/clreq/).
const (
	closingPunct = "，。、；：！？）」』》…”’"
	openingPunct = "（「『《“‘"
)

// cells measures like a terminal: a Chinese character is 2 wide, anything else 1.
func cells(s string) float32 {
	var w float32
	for _, r := range s {
		if r >= 0x1100 {
			w += 2
		} else {
			w++
		}
	}
	return w
}

func TestWrapTextBreaksChineseBetweenCharacters(t *testing.T) {
	got := breakLines("一二三四五六七八九十", 6, cells)
	if want := []string{"一二三", "四五六", "七八九", "十"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWrapTextFillsMixedLinesAndKeepsPunctuationWithItsCharacter(t *testing.T) {
	// Breaking only at spaces (Fyne's TextWrapWord) gives "订单号 KF20261101" (17 of
	// 20) and then the whole Chinese run; "。" must not start the last line.
	got := breakLines("订单号 KF20261101 已发货，请在三天内确认。", 20, cells)
	if want := []string{"订单号 KF20261101 已", "发货，请在三天内确", "认。"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWrapTextKeepsLineBreaksAndSplitsWhatIsWiderThanALine(t *testing.T) {
	got := breakLines("网址：\nhttps://mp.weixin.qq.com/cgi-bin 好", 10, cells)
	if want := []string{"网址：", "https://m", "p.weixin.q", "q.com/cgi-", "bin 好"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// At every width, whatever the text: nothing is lost, no line is wider than the width
// (unless one character is), no line starts with closing or ends with opening
// punctuation, and every line is full (the next piece would not have fit).
func TestWrapTextRulesHoldAtEveryWidth(t *testing.T) {
	texts := []string{
		"订单号 KF20261101 已发货，请在三天内确认。谢谢配合！",
		"您好！请问（订单）「已发货」了吗？是的；『三天』内：《到》……好、的",
		"AppID 和 AppSecret 在 mp.weixin.qq.com >「设置与开发」>「基本配置」中。AppSecret 保存在系统的密钥库中，之后不会再显示。",
		"Mixed English and 中文 text, with “quotes” and 👍🏽 emoji.",
	}
	for _, text := range texts {
		for width := float32(12); width <= 70; width++ { // from 6 Chinese characters
			assertWrapped(t, text, breakLines(text, width, cells), width, cells)
		}
	}
}

// assertWrapped checks rows, the wrapped lines of text at width.
func assertWrapped(t *testing.T, text string, rows []string, width float32, measure func(string) float32) {
	t.Helper()
	noSpace := func(s string) string { return strings.NewReplacer(" ", "", "\n", "").Replace(s) }
	if noSpace(strings.Join(rows, "")) != noSpace(text) {
		t.Fatalf("width %v: lines %q lose or add text of %q", width, rows, text)
	}
	at := 0 // where the row starts in text
	for i, row := range rows {
		if measure(row) > width && utf8.RuneCountInString(row) > 1 && !strings.ContainsRune(row, '👍') {
			t.Errorf("width %v: line %q is %v wide", width, row, measure(row))
		}
		first, _ := utf8.DecodeRuneInString(row)
		last, _ := utf8.DecodeLastRuneInString(row)
		if i > 0 && strings.ContainsRune(closingPunct, first) {
			t.Errorf("width %v: line %d of %q starts with %q", width, i, rows, first)
		}
		if i < len(rows)-1 && strings.ContainsRune(openingPunct, last) {
			t.Errorf("width %v: line %d of %q ends with %q", width, i, rows, last)
		}
		start := at + strings.Index(text[at:], row)
		at = start + len(row)
		for at < len(text) && text[at] == ' ' {
			at++
		}
		if i == len(rows)-1 || strings.HasPrefix(text[at:], "\n") {
			continue
		}
		// the next row's first piece (up to its first break opportunity) did not fit
		var seg segmenter.Segmenter
		seg.Init([]rune(rows[i+1]))
		it := seg.LineIterator()
		it.Next()
		piece := strings.TrimRight(string(it.Line().Text), " ")
		if longer := text[start:at] + piece; measure(longer) <= width {
			t.Errorf("width %v: line %q is not full: %q fits", width, row, longer)
		}
	}
}

// rowsOf is the text of each line an object draws.
func rowsOf(o fyne.CanvasObject) []string {
	var rows []string
	walkVisible(o, func(o fyne.CanvasObject) {
		if x, ok := o.(*canvas.Text); ok {
			rows = append(rows, x.Text)
		}
	})
	return rows
}

// assertWrappedOnScreen checks the lines drawn by the label (of any kind) showing text.
func assertWrappedOnScreen(t *testing.T, c fyne.Canvas, text string) {
	t.Helper()
	for _, o := range objects(c) {
		if shows, ok := labelText(o); ok && shows == text {
			rows := rowsOf(o)
			if len(rows) < 2 {
				t.Fatalf("%q is not wrapped: %q", text, rows)
			}
			avail := o.Size().Width - 2*theme.Size(theme.SizeNameInnerPadding)
			assertWrapped(t, text, rows, avail, func(s string) float32 {
				return fyne.MeasureText(s, theme.Size(theme.SizeNameText), fyne.TextStyle{}).Width
			})
			return
		}
	}
	t.Fatalf("no label shows %q:\n%s", text, shownText(c))
}

// labelText is the text of a label of either kind.
func labelText(o fyne.CanvasObject) (string, bool) {
	switch x := o.(type) {
	case *widget.Label:
		return x.Text, true
	case *wrapLabel:
		return x.Text, true
	}
	return "", false
}

func TestWrapLabelRewrapsOnResizeAndSetText(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(NewTheme(test.Theme()))
	text := "订单号 KF20261101 已发货，请在三天内确认。如有问题请联系客服，我们会尽快为您处理，谢谢配合！"
	l := newWrapLabel(text)
	w := test.NewTempWindow(t, container.NewVBox(l))
	w.Resize(fyne.NewSize(260, 400))
	assertWrappedOnScreen(t, w.Canvas(), text)
	narrow := len(rowsOf(l))

	w.Resize(fyne.NewSize(520, 400))
	assertWrappedOnScreen(t, w.Canvas(), text)
	if wide := len(rowsOf(l)); wide >= narrow {
		t.Fatalf("%d lines at 520 px, %d at 260 px", wide, narrow)
	}
	if l.MinSize().Height >= float32(narrow)*fyne.MeasureText("中", theme.TextSize(), fyne.TextStyle{}).Height {
		t.Fatalf("min height %v does not follow the lines", l.MinSize().Height)
	}

	l.SetText("好的。")
	if rows := rowsOf(l); !reflect.DeepEqual(rows, []string{"好的。"}) {
		t.Fatalf("after SetText: %q", rows)
	}
	if !strings.Contains(shownText(w.Canvas()), "好的。") {
		t.Fatal("shownText does not see the label")
	}
}

// The help texts are Chinese prose with Latin names in it: each line filled, none
// starting with punctuation, and no line breaks placed by hand.
func TestHelpTextsWrapAsChinese(t *testing.T) {
	m, _ := newTestWindow(t, "zh")
	m.Window().Resize(fyne.NewSize(700, 600))
	assertWrappedOnScreen(t, m.Window().Canvas(), T("KF Desk lets you answer your customers on your WeChat Official Account or Mini Program: send customer-service messages, manage KF accounts, and keep every chat record searchable on this computer.")+
		"\n\n"+T("No account is set up yet. Try the demo account first (sample data; nothing is sent to WeChat), or add your own account with its AppID and AppSecret."))
	openAddForm(t, m)
	assertWrappedOnScreen(t, m.Window().Canvas(), T("The AppID and AppSecret are at mp.weixin.qq.com > Settings and Development > Basic Configuration. The AppSecret is stored in the system's secret store and never shown again. Leave the API address empty unless you use an API relay."))
}

// A dialog's message (Fyne's own dialogs wrap it at spaces only), and the dialog is
// tall enough for all its lines, at a few window widths.
func TestDialogMessageWrapsAsChinese(t *testing.T) {
	for _, width := range []float32{360, 420, 640} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			m, ws := newTestWindow(t, "zh")
			if _, err := ws.EnsureDemo(context.Background()); err != nil {
				t.Fatal(err)
			}
			m.SelectAccount(workspace.DemoName)
			waitIdle(t, m)
			c := m.Window().Canvas()
			test.Tap(findButton(t, c, T("Settings")))
			m.Window().Resize(fyne.NewSize(width, 600))
			test.Tap(findButton(t, c, T("Remove")))
			msg := T("Remove the account %q from KF Desk? Its AppSecret is deleted from this computer. Nothing changes on WeChat.", workspace.DemoName)
			assertWrappedOnScreen(t, c, msg)
			for _, o := range objects(c) {
				if l, ok := o.(*wrapLabel); ok && l.Text == msg && l.Size().Height < l.MinSize().Height {
					t.Fatalf("the dialog cuts its message: %v high, the lines need %v", l.Size().Height, l.MinSize().Height)
				}
			}
		})
	}
}
