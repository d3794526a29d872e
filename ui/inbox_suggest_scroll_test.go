package ui

import (
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

// When suggestions appear above the reply box, the conversation gets shorter: the
// customer's newest message, the one they answer, stays in view.
func TestSuggestionsKeepTheNewestMessageInView(t *testing.T) {
	it := newInboxTest(t, "zh", func(it *inboxTest) {
		for i := range 4 { // the shop's history: the same question answered the same way
			at := it.nowAt.Add(-time.Duration(30-i) * time.Hour).Unix()
			other := "oPast000000000000000000000" + string(rune('a'+i))
			it.srv.AddRecords(
				wechattest.Record{OpenID: other, OperCode: 2003, Text: "请问什么时候发货？", Time: at, Worker: "kf1@teashop"},
				wechattest.Record{OpenID: other, OperCode: 2002, Text: "今天下午发出，单号稍后发您。", Time: at + 60, Worker: "kf1@teashop"})
		}
		at := it.nowAt.Add(-2 * time.Hour).Unix()
		for i := range 30 { // a long conversation, so the list scrolls
			it.srv.AddRecords(wechattest.Record{OpenID: inboxCustomer, OperCode: 2002, Text: "之前的消息", Time: at + int64(i), Worker: "kf1@teashop"})
		}
	})
	v := it.open(inboxCustomer)
	waitIdle(t, it.m)
	height := v.list.Size().Height // no suggestion for the last message, 订单号 …
	it.customerWrites("请问什么时候发货呀？")
	it.poll()
	it.waitShows("请问什么时候发货呀？", "今天下午发出，单号稍后发您。")
	waitIdle(t, it.m)
	if !v.reply.suggest.box.Visible() {
		t.Fatal("no suggestions")
	}
	it.m.Window().Content().Refresh() // the driver lays the window out again at its next frame
	if v.list.Size().Height >= height {
		t.Fatalf("the list did not get shorter: %v, was %v", v.list.Size().Height, height)
	}
	before := v.list.GetScrollOffset()
	v.list.ScrollToBottom()
	if after := v.list.GetScrollOffset(); after != before {
		t.Fatalf("the newest message is out of view: offset %v, the end is at %v", before, after)
	}
}
