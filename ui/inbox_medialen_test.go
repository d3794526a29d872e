package ui

import (
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
	"kfdesk/ui/workspace"
)

// A voice message and a video show as files with Open and, once their files have
// come, how long they play: 语音 0:07, 视频 1:23 (m:ss; h:mm:ss past an hour).
func TestInboxShowsVoiceAndVideoLength(t *testing.T) {
	feed := newFakeFeed(t)
	it := newInboxTest(t, "zh", func(it *inboxTest) { feed.connect(t, it) })
	it.waitShows("会话：接收服务器实时推送")
	feed.add(workspace.PushItem{Account: inboxAppID, OpenID: inboxCustomer, MsgType: "voice", MsgID: "9101"}, nil)
	feed.add(workspace.PushItem{Account: inboxAppID, OpenID: inboxCustomer, MsgType: "video", MsgID: "9102"}, nil)
	feed.add(workspace.PushItem{Account: inboxAppID, OpenID: inboxCustomer, MsgType: "video", MsgID: "9103"}, nil)
	v := it.open(inboxCustomer)
	it.waitShows("语音 · 未下载", "视频 · 未下载")
	feed.setMedia(1, wechattest.AMR(7*time.Second))
	feed.setMedia(2, wechattest.MP4(83*time.Second))
	feed.setMedia(3, wechattest.MP4(time.Hour+2*time.Minute+3*time.Second))
	eventually(t, "the lengths", func() bool {
		select { // end the watch's waits (its next poll, its next try for the files)
		case it.tick <- time.Now():
		default:
		}
		got := shownText(it.m.Window().Canvas())
		return strings.Contains(got, "语音 0:07") && strings.Contains(got, "视频 1:23") && strings.Contains(got, "视频 1:02:03")
	})
	for _, m := range v.msgs {
		if (m.Kind == kindVoice || m.Kind == kindVideo) && (m.MediaPath == "" || m.Duration == 0) {
			t.Errorf("%s message: file %q, length %v", m.Kind, m.MediaPath, m.Duration)
		}
	}
	if got := shownText(it.m.Window().Canvas()); strings.Contains(got, "未下载") {
		t.Errorf("a file still shown as not downloaded: %q", got)
	}
}

// In English, and with no length known (a format KF Desk cannot read), the line is the kind alone.
func TestMediaLineInEnglish(t *testing.T) {
	SetLanguage("en")
	t.Cleanup(func() { SetLanguage("zh") })
	for _, c := range []struct {
		m    workspace.InboxMessage
		want string
	}{
		{workspace.InboxMessage{Kind: kindVoice, MediaPath: "a.amr", Duration: 7 * time.Second}, "Voice 0:07"},
		{workspace.InboxMessage{Kind: kindVideo, MediaPath: "a.mp4", Duration: 83*time.Second + 400*time.Millisecond}, "Video 1:23"},
		{workspace.InboxMessage{Kind: kindShortVideo, MediaPath: "a.mp4", Duration: 3723 * time.Second}, "Video 1:02:03"},
		{workspace.InboxMessage{Kind: kindVoice, MediaPath: "a.speex"}, "Voice"},
		{workspace.InboxMessage{Kind: kindVoice}, "Voice · not downloaded"},
	} {
		if got := mediaLine(c.m); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
	}
}
