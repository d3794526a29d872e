package wechattest_test

import (
	"bytes"
	"testing"
	"time"

	"kfdesk/api/medialen"
	"kfdesk/api/wechattest"
)

// The sample voice and video files play as long as asked (to 20 ms and 1 ms).
func TestSampleMediaPlaysForItsLength(t *testing.T) {
	for _, c := range []struct {
		data []byte
		want time.Duration
	}{
		{wechattest.AMR(7 * time.Second), 7 * time.Second},
		{wechattest.AMR(60*time.Second + 30*time.Millisecond), 60*time.Second + 20*time.Millisecond},
		{wechattest.AMR(0), 0},
		{wechattest.MP4(83 * time.Second), 83 * time.Second},
		{wechattest.MP4(3723*time.Second + 400*time.Millisecond), 3723*time.Second + 400*time.Millisecond},
	} {
		if d, err := medialen.Duration(bytes.NewReader(c.data)); err != nil || d != c.want {
			t.Errorf("%q…: %v, %v; want %v", c.data[:min(12, len(c.data))], d, err, c.want)
		}
	}
}
