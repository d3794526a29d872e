package workspace_test

import (
	"context"
	"testing"
	"time"

	"kfdesk/api/wechattest"
	"kfdesk/ui/workspace"
)

// A pushed voice message and video get their length once their files have come
// (read from the files' headers where the messages are assembled); before, and for
// a file whose length cannot be told, it is zero and nothing fails.
func TestInboxMessagesCarryVoiceAndVideoLength(t *testing.T) {
	e := newPushEnv(t)
	damaged := wechattest.AMR(3 * time.Second)
	damaged = damaged[:len(damaged)-5] // cut inside the last frame
	e.push(t, wechattest.Voice(jobCustomer, wechattest.AMR(7*time.Second), ""))
	e.push(t, wechattest.Video(jobCustomer, wechattest.MP4(83*time.Second), nil))
	e.push(t, wechattest.Voice(jobCustomer, damaged, ""))
	for _, p := range e.pushes(t) { // into the conversation, as the desktop's inbox files them
		if _, err := e.ws.DB.ArchivePush(context.Background(), p.ID); err != nil {
			t.Fatal(err)
		}
	}
	lengths := func() (got []time.Duration, files int) {
		msgs, err := e.ws.InboxMessages(context.Background(), e.acct, jobCustomer, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			got = append(got, m.Duration)
			if m.MediaPath != "" {
				files++
			}
		}
		return got, files
	}
	if got, _ := lengths(); len(got) != 3 || got[0] != 0 || got[1] != 0 || got[2] != 0 {
		t.Fatalf("lengths before the files came: %v", got)
	}
	startWorker(t, e.ws, workspace.JobOptions{Handlers: noAutoReply})
	waitFor(t, "the media files", func() bool { _, files := lengths(); return files == 3 })
	if got, _ := lengths(); len(got) != 3 || got[0] != 7*time.Second || got[1] != 83*time.Second || got[2] != 0 {
		t.Fatalf("lengths %v, want [7s 1m23s 0s]", got)
	}
}
