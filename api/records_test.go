package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

// bjDay is 00:00 Beijing of the fixture clock's day (2026-11-23).
var bjDay = time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).Unix()

func TestGetMsgListPages(t *testing.T) {
	c, f := setup(t)
	var want []wechattest.Record
	for i := range 25 {
		want = append(want, wechattest.Record{OpenID: "oA", OperCode: 2002 + i%2, Text: fmt.Sprintf("第 %d 条 <b>", i), Time: bjDay + int64(i), Worker: "kf1@teashop"})
	}
	f.srv.AddRecords(want...)
	ctx := context.Background()
	var got []Record
	msgid := int64(1)
	for {
		p, err := c.GetMsgList(ctx, bjDay, bjDay+86399, msgid, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Records...)
		if len(p.Records) < 10 {
			break
		}
		msgid = p.Next
	}
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		if g := got[i]; g.OpenID != w.OpenID || g.OperCode != w.OperCode || g.Text != w.Text || g.Time != w.Time || g.Worker != w.Worker {
			t.Fatalf("record %d = %+v, want %+v", i, g, w)
		}
	}
	// A window across a Beijing day is the fake's 65417, explained in both languages.
	_, err := c.GetMsgList(ctx, bjDay+43200, bjDay+86400+60, 1, 10)
	if !IsCode(err, 65417) || !strings.Contains(err.Error(), "24 小时") {
		t.Fatalf("cross-day window: %v", err)
	}
	f.srv.FailNth("/customservice/msgrecord/getmsglist", 1, wechattest.Malformed())
	if _, err := c.GetMsgList(ctx, bjDay, bjDay+86399, 1, 10); !isKind(err, KindMalformed) {
		t.Fatalf("truncated answer: %v", err)
	}
}

func isKind(err error, k ErrorKind) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == k
}

func decodePage(body string, msgid int64, number int) (*MsgListPage, error) {
	var raw rawMsgList
	if err := decodeAnswer("/x", 200, []byte(body), &raw); err != nil {
		return nil, err
	}
	p, err := raw.page(msgid, number)
	if err != nil {
		return nil, &Error{Kind: KindMalformed, Endpoint: "/x", Err: err}
	}
	return p, nil
}

func TestMsgListTolerantDecoding(t *testing.T) {
	p, err := decodePage(`{"recordlist":[{"openid":"o1","opercode":"2003","text":null,"time":"1764000000","worker":""},
		{"openid":"o2","opercode":2002.0,"text":"hi","time":1764000001}],"number":"2","msgid":"12"}`, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 2 || p.Next != 12 || p.Records[0].OperCode != 2003 || p.Records[0].Time != 1764000000 ||
		p.Records[0].Text != "" || p.Records[1].OperCode != 2002 || p.Records[1].Worker != "" {
		t.Fatalf("%+v", p)
	}
	// msgid missing: continue after the records received.
	if p, err := decodePage(`{"recordlist":[{"openid":"o","opercode":2002,"time":5}]}`, 7, 1); err != nil || p.Next != 8 {
		t.Fatalf("%+v %v", p, err)
	}
	for name, body := range map[string]string{
		"no list":          `{"number":0,"msgid":1}`,
		"list not array":   `{"recordlist":{},"msgid":1}`,
		"no time":          `{"recordlist":[{"openid":"o","opercode":2002}]}`,
		"time zero":        `{"recordlist":[{"openid":"o","opercode":2002,"time":0}]}`,
		"time fraction":    `{"recordlist":[{"openid":"o","opercode":2002,"time":1.5}]}`,
		"no opercode":      `{"recordlist":[{"openid":"o","time":5}]}`,
		"text object":      `{"recordlist":[{"openid":"o","opercode":2002,"time":5,"text":{}}]}`,
		"too many":         `{"recordlist":[{"opercode":1,"time":5},{"opercode":1,"time":5}]}`,
		"cursor backwards": `{"recordlist":[{"opercode":1,"time":5}],"msgid":3}`,
		"truncated":        `{"recordlist":[{"opercode":1,`,
	} {
		if _, err := decodePage(body, 3, 1); !isKind(err, KindMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOperCodeNames(t *testing.T) {
	if OperCodeDirection(2003) != DirIn || OperCodeDirection(2002) != DirOut || OperCodeDirection(1004) != DirEvent || OperCodeDirection(3000) != DirOther {
		t.Fatal("directions")
	}
	if OperCodeName(2002, true) != "客服发送" || OperCodeName(1001, false) != "session accepted" || OperCodeName(7, true) != "未知操作 7" {
		t.Fatal("names")
	}
}

// FuzzMsgListDecode: any answer decodes to a page or an error, never a panic,
// and an accepted page never breaks the invariants the sync relies on.
func FuzzMsgListDecode(f *testing.F) {
	f.Add([]byte(`{"recordlist":[{"openid":"o1","opercode":2003,"text":"满意","time":1764000000,"worker":"a@b"}],"number":1,"msgid":2}`), int64(1), 1)
	f.Add([]byte(`{"recordlist":[{"opercode":"2002","time":"5","text":7}],"msgid":"9"}`), int64(3), 10)
	f.Add([]byte(`{"errcode":45009,"errmsg":"api freq out of limit"}`), int64(1), 10)
	f.Add([]byte(`{"recordlist":null}`), int64(1), 10)
	f.Fuzz(func(t *testing.T, body []byte, msgid int64, number int) {
		if number < 1 || number > MaxMsgListPage || msgid < 1 {
			return
		}
		p, err := decodePage(string(body), msgid, number)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(p.Records) > number {
			t.Fatalf("%d records > %d", len(p.Records), number)
		}
		if len(p.Records) == number && p.Next <= msgid {
			t.Fatalf("full page with cursor %d after %d", p.Next, msgid)
		}
		for _, r := range p.Records {
			if r.Time <= 0 {
				t.Fatalf("record without time accepted: %+v", r)
			}
		}
	})
}
