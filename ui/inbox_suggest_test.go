package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// suggestWindow: the demo shop's history synced, and a suggestion bar above a reply
// box in a window of its own (the inbox embeds it the same way).
func suggestWindow(t *testing.T) (*MainWindow, storage.Account, *suggestionBar, *suggestingEntry, fyne.Window, func() int) {
	t.Helper()
	srv := kfServer(t, true)
	m, ws := newTestWindow(t, "zh")
	a, err := ws.AddAccount(context.Background(), storage.Account{Name: "shop", Kind: storage.KindOA,
		AppID: kfAppID, TokenMode: storage.TokenStable, APIBase: srv.URL}, kfSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.SyncRecords(context.Background(), a, workspace.SyncRequest{}); err != nil {
		t.Fatal(err)
	}
	m.SelectAccount("shop")
	waitIdle(t, m)
	var entry *suggestingEntry
	bar := newSuggestionBar(m, func(s string) { entry.SetText(s) })
	entry = newSuggestingEntry(bar)
	w := test.NewWindow(container.NewVBox(bar.content(), entry))
	w.Resize(fyne.NewSize(700, 500))
	t.Cleanup(w.Close)
	bar.registerShortcuts(w.Canvas())
	sends := func() int { return len(srv.Requests("/cgi-bin/message/custom/send")) + len(srv.Sent()) }
	return m, a, bar, entry, w, sends
}

func barButtons(bar *suggestionBar) []*widget.Button {
	var out []*widget.Button
	for _, o := range bar.buttons.Objects {
		out = append(out, o.(*widget.Button))
	}
	return out
}

func TestSuggestionClickFillsTheReplyBoxAndSendsNothing(t *testing.T) {
	m, a, bar, entry, w, sends := suggestWindow(t)
	bar.show(a, "oSomeone", "退款到账了没？")
	waitIdle(t, m)
	bs := barButtons(bar)
	if len(bs) == 0 || !bar.box.Visible() {
		t.Fatal("no suggestion for a question the demo shop answered many times")
	}
	if !strings.HasPrefix(bs[0].Text, "Alt+1  已经原路退回了") || !strings.Contains(bs[0].Text, "用过") {
		t.Errorf("first suggestion reads %q", bs[0].Text)
	}
	assertShows(t, w.Canvas(), "建议回复", "为什么推荐？")
	test.Tap(bs[0])
	if want := bar.shown[0].Text; entry.Text != want {
		t.Errorf("reply box %q after the click, want %q", entry.Text, want)
	}
	// Alt+1 in the focused reply box does the same.
	entry.SetText("")
	w.Canvas().Focus(entry)
	entry.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key1, Modifier: fyne.KeyModifierAlt})
	if entry.Text != bar.shown[0].Text {
		t.Errorf("reply box %q after Alt+1", entry.Text)
	}
	if n := sends(); n != 0 {
		t.Errorf("%d messages sent: a suggestion must only fill the reply box", n)
	}
}

func TestSuggestionWhyThisOpensTheConversation(t *testing.T) {
	m, a, bar, _, w, _ := suggestWindow(t)
	bar.show(a, "oSomeone", "退款到账了吗")
	waitIdle(t, m)
	if len(bar.shown) == 0 || len(bar.shown[0].Sources) < 2 {
		t.Fatalf("suggestions %+v: want one with its sources", bar.shown)
	}
	test.Tap(findButton(t, w.Canvas(), "为什么推荐？"))
	src := bar.shown[0].Sources[0]
	assertShows(t, w.Canvas(), "类似的问题用这条回复过", "“"+storage.MaskPersonalData(src.Question)+"”")
	test.Tap(findButton(t, w.Canvas(), "打开对话"))
	waitIdle(t, m)
	if m.records == nil || m.records.conv == nil || m.records.conv.openid != src.OpenID || m.records.conv.selected != src.RecordID {
		t.Fatalf("the chat records did not open %s's conversation at the message", src.OpenID)
	}
}

func TestSuggestionBarDropsALateAnswerAndHidesWithoutHistory(t *testing.T) {
	m, a, bar, _, _, _ := suggestWindow(t)
	bar.show(a, "oSomeone", "退款到账了吗")
	bar.show(a, "oOther", "") // another conversation, nothing to answer: its bar stays empty
	waitIdle(t, m)
	if bar.box.Visible() || len(bar.buttons.Objects) != 0 {
		t.Errorf("the earlier conversation's suggestions showed: %d", len(bar.buttons.Objects))
	}
	bar.show(a, "oSomeone", "你们卖汽车轮胎吗")
	waitIdle(t, m)
	if bar.box.Visible() {
		t.Error("suggestions for a question never asked")
	}
}
