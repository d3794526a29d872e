package wechattest_test

import (
	"fmt"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const listPath = "/customservice/msgrecord/getmsglist"

// dayStart is 00:00:00 Beijing of t0's day.
var dayStart = time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).Unix()

func (e *env) msgList(start, end, msgid, number int64) result {
	e.t.Helper()
	return e.apiPost(listPath, obj{"starttime": start, "endtime": end, "msgid": msgid, "number": number})
}

func decodeRecords(t testing.TB, r result) []wechattest.Record {
	t.Helper()
	var out []wechattest.Record
	for _, it := range r.list("recordlist") {
		m := it.(map[string]any)
		out = append(out, wechattest.Record{OpenID: m["openid"].(string), OperCode: int(m["opercode"].(float64)),
			Text: m["text"].(string), Time: int64(m["time"].(float64)), Worker: m["worker"].(string)})
	}
	return out
}

// pageAll pages a window the way the doc describes: continue with the returned
// msgid while pages come back full.
func (e *env) pageAll(start, end, number int64) ([]wechattest.Record, int) {
	e.t.Helper()
	var all []wechattest.Record
	msgid, calls := int64(1), 0
	for {
		r := e.msgList(start, end, msgid, number)
		r.noErr()
		calls++
		page := decodeRecords(e.t, r)
		if int(r.num("number")) != len(page) {
			e.t.Fatalf("number %v but %d records", r.m["number"], len(page))
		}
		all = append(all, page...)
		next := int64(r.num("msgid"))
		if next != msgid+int64(len(page)) {
			e.t.Fatalf("msgid %d after %d records from %d", next, len(page), msgid)
		}
		if int64(len(page)) < number {
			return all, calls
		}
		msgid = next
	}
}

func TestMsgListPaging25000(t *testing.T) {
	e := newEnv(t)
	const n = 25000
	recs := make([]wechattest.Record, n)
	for i := range recs {
		recs[i] = wechattest.Record{OpenID: fmt.Sprintf("oUser%023d", i%37), OperCode: 2002 + i%2,
			Text: fmt.Sprintf("消息 %d <&>", i), Time: dayStart + int64(i)*3, Worker: "a@teashop"}
		if i%1000 == 0 && i > 0 { // identical records in the same second must both come back
			recs[i] = recs[i-1]
		}
	}
	// Added out of order: the server sorts by time, keeping ties in the order added.
	e.srv.AddRecords(recs[n/2:]...)
	e.srv.AddRecords(recs[:n/2]...)
	got, calls := e.pageAll(dayStart, dayStart+86399, 10000)
	if calls != 3 || len(got) != n {
		t.Fatalf("%d calls, %d records", calls, len(got))
	}
	for i := range recs {
		if got[i] != recs[i] {
			t.Fatalf("record %d = %+v, want %+v", i, got[i], recs[i])
		}
	}
	// Odd page sizes give each record once too.
	got, _ = e.pageAll(dayStart, dayStart+86399, 7)
	if len(got) != n || got[n-1] != recs[n-1] || got[7] != recs[7] {
		t.Fatalf("page size 7: %d records", len(got))
	}
	// A window inside the day and a full last page followed by an empty one.
	got, calls = e.pageAll(dayStart+3, dayStart+3*10, 5)
	if len(got) != 10 || calls != 3 || got[0] != recs[1] {
		t.Fatalf("sub-window: %d records in %d calls", len(got), calls)
	}
	r := e.msgList(dayStart, dayStart+86399, n+1, 10)
	if string(r.raw) != fmt.Sprintf(`{"recordlist":[],"number":0,"msgid":%d}`, n+1) {
		t.Fatalf("past the end: %s", r.raw)
	}
}

func TestMsgListRawUTF8(t *testing.T) {
	e := newEnv(t)
	e.srv.AddRecords(wechattest.Record{OpenID: alice, OperCode: 2002, Text: `<a href="x">秋季 & 上新</a>`, Time: dayStart + 5, Worker: "a@teashop"},
		wechattest.Record{OpenID: alice, OperCode: 2003, Text: "[image]", Time: dayStart + 6})
	r := e.msgList(dayStart, dayStart+10, 1, 10)
	want := `{"recordlist":[{"openid":"` + alice + `","opercode":2002,"text":"<a href=\"x\">秋季 & 上新</a>","time":` +
		fmt.Sprint(dayStart+5) + `,"worker":"a@teashop"},{"openid":"` + alice + `","opercode":2003,"text":"[image]","time":` +
		fmt.Sprint(dayStart+6) + `,"worker":""}],"number":2,"msgid":3}`
	if string(r.raw) != want {
		t.Fatalf("got  %s\nwant %s", r.raw, want)
	}
	if r.ct != "application/json; encoding=utf-8" {
		t.Fatalf("content type %q", r.ct)
	}
}

func TestMsgListErrors(t *testing.T) {
	e := newEnv(t)
	day := dayStart
	cases := []struct {
		name string
		body any
		code int
	}{
		{"number 0", obj{"starttime": day, "endtime": day + 10, "msgid": 1, "number": 0}, 65416},
		{"number 10001", obj{"starttime": day, "endtime": day + 10, "msgid": 1, "number": 10001}, 65416},
		{"number missing", obj{"starttime": day, "endtime": day + 10, "msgid": 1}, 65416},
		{"start after end", obj{"starttime": day + 11, "endtime": day + 10, "msgid": 1, "number": 10}, 65416},
		{"start zero", obj{"starttime": 0, "endtime": day + 10, "msgid": 1, "number": 10}, 65416},
		{"end missing", obj{"starttime": day, "msgid": 1, "number": 10}, 65416},
		{"start as date string", obj{"starttime": "2026-11-23 00:00:00", "endtime": day + 10, "msgid": 1, "number": 10}, 65416},
		{"start as float", `{"starttime":1.5,"endtime":2,"msgid":1,"number":10}`, 65416},
		{"negative msgid", obj{"starttime": day, "endtime": day + 10, "msgid": -1, "number": 10}, 65416},
		{"more than 24 h", obj{"starttime": day, "endtime": day + 86401, "msgid": 1, "number": 10}, 65417},
		{"crosses a Beijing day", obj{"starttime": day + 43200, "endtime": day + 86400 + 3600, "msgid": 1, "number": 10}, 65417},
		{"midnight to midnight", obj{"starttime": day, "endtime": day + 86400, "msgid": 1, "number": 10}, 65417},
		{"not json", "{", 47001},
		{"empty", "", 44002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.apiPost(listPath, tc.body).is(tc.code)
		})
	}
	e.t = t
	// Valid edges: a whole Beijing day, a one-second window, msgid omitted or 0.
	e.msgList(day, day+86399, 1, 10000).noErr()
	e.msgList(day, day, 1, 1).noErr()
	e.apiPost(listPath, obj{"starttime": day, "endtime": day + 10, "number": 10}).noErr()
	e.apiPost(listPath, obj{"starttime": day, "endtime": day + 10, "msgid": 0, "number": 10}).noErr()
	e.get(listPath, e.authed(nil)).is(43002)
}

func TestMsgListRetention(t *testing.T) {
	e := newEnv(t)
	old := dayStart - 31*86400
	recent := dayStart - 29*86400
	e.srv.AddRecords(wechattest.Record{OpenID: alice, OperCode: 2003, Text: "old", Time: old + 100},
		wechattest.Record{OpenID: alice, OperCode: 2003, Text: "recent", Time: recent + 100})
	if r := e.msgList(old, old+86399, 1, 10); r.num("number") != 0 {
		t.Fatalf("31-day-old records returned: %s", r.raw)
	}
	if r := e.msgList(recent, recent+86399, 1, 10); r.num("number") != 1 {
		t.Fatalf("29-day-old records missing: %s", r.raw)
	}
	e.advance(2 * 24 * time.Hour)
	if r := e.msgList(recent, recent+86399, 1, 10); r.num("number") != 0 {
		t.Fatalf("records must age out: %s", r.raw)
	}
}

// millionSource yields 1,000,000 records spread evenly over the 30 days before
// end: record i is at from + i*step/1000 seconds.
func millionSource(from int64) (func(start, end int64) []wechattest.Record, int64) {
	const n = 1_000_000
	span := int64(30 * 86400)
	at := func(i int64) int64 { return from + i*span/n }
	return func(start, end int64) []wechattest.Record {
		var out []wechattest.Record
		// first index with at(i) >= start
		lo := max(int64(0), (start-from)*n/span-1)
		for lo < n && at(lo) < start {
			lo++
		}
		for i := lo; i < n && at(i) <= end; i++ {
			out = append(out, wechattest.Record{OpenID: "oGen", OperCode: 2002 + int(i%2), Text: "m", Time: at(i), Worker: "w"})
		}
		return out
	}, span
}

func TestMsgListRecordSource(t *testing.T) {
	e := newEnv(t)
	from := dayStart - 29*86400
	src, _ := millionSource(from)
	e.srv.SetRecordSource(src)
	// Stored records merge into the generated ones.
	e.srv.AddRecords(wechattest.Record{OpenID: alice, OperCode: 2003, Text: "stored", Time: from + 86400 + 5})
	start := from + 86400
	want := len(src(start, start+86399)) + 1
	got, _ := e.pageAll(start, start+86399, 10000)
	if len(got) != want {
		t.Fatalf("%d records, want %d", len(got), want)
	}
	found := false
	for i := 1; i < len(got); i++ {
		if got[i].Time < got[i-1].Time {
			t.Fatal("records out of time order")
		}
		found = found || got[i].Text == "stored"
	}
	if !found {
		t.Fatal("stored record missing from the merged window")
	}
	e.srv.SetRecordSource(nil)
	if r := e.msgList(start, start+86399, 1, 10000); r.num("number") != 1 {
		t.Fatalf("after removing the source: %v", r.m["number"])
	}
}

func BenchmarkMsgListMillion(b *testing.B) {
	clock := wechattest.NewFakeClock(t0)
	srv := wechattest.NewServer(wechattest.Config{AppID: appID, Secret: secret, Clock: clock})
	defer srv.Close()
	src, _ := millionSource(dayStart - 29*86400)
	srv.SetRecordSource(src)
	e := &env{t: b, srv: srv, clock: clock, tok: srv.IssueToken()}
	b.ResetTimer()
	for range b.N {
		total := 0
		for d := int64(0); d < 30; d++ {
			start := dayStart - 29*86400 + d*86400
			got, _ := e.pageAll(start, start+86399, 10000)
			total += len(got)
		}
		if total < 990_000 {
			b.Fatalf("only %d records", total)
		}
	}
}
