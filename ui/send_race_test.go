package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"kfdesk/api/wechattest"
)

// The operator goes on typing while a send runs in the background: the send has its
// own deep copy of the message (api.Message.Clone), so what goes out is what was
// there at the tap. With a shallow copy the form writes the text body the send is
// marshalling; `make race` (go test -race) reports that as a data race.
func TestSendWhileTheFormChanges(t *testing.T) {
	m, s, srv := composerFor(t, wechattest.OfficialAccount)
	test.Type(s.to, customer)
	test.Type(s.entries["text.content"], "第一条")
	test.Tap(s.send)
	test.Type(s.entries["text.content"], "，还在打字")
	waitIdle(t, m)
	if want := `{"touser":"` + customer + `","msgtype":"text","text":{"content":"第一条"}}`; lastSent(t, srv) != want {
		t.Fatalf("sent %s, want %s", lastSent(t, srv), want)
	}
	// What was typed meanwhile is not wiped by the successful send, and is kept as the draft.
	if got := s.entries["text.content"].Text; got != "第一条，还在打字" {
		t.Fatalf("the form holds %q after the send", got)
	}
	eventually(t, "the draft of what was typed meanwhile", func() bool {
		d, err := m.ws.DB.Draft(context.Background(), s.a.ID)
		return err == nil && strings.Contains(d, "第一条，还在打字")
	})
}
