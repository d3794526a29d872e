package workspace

import (
	"time"

	"kfdesk/storage"
)

// TimeZone is the one zone KF Desk shows, prints and exports times in, on every
// screen and in every command: Beijing time (UTC+8). WeChat counts its days in it
// (chat-record days, the sync calendar, daily quotas), the official consoles show it,
// and most operators live in it; one zone everywhere means a record's time, its day
// filter and the CSV agree on any computer. TimeZoneName says so where a time is shown
// without context (the CSV header, the command line's help).
var TimeZone = storage.Beijing

// TimeZoneName names TimeZone in both languages.
const (
	TimeZoneNameZH = "北京时间"
	TimeZoneNameEN = "Beijing time UTC+8"
)

// FormatTime formats t in TimeZone.
func FormatTime(t time.Time, layout string) string { return t.In(TimeZone).Format(layout) }
