package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MaxMsgListPage is getmsglist's largest page ("number" ≤ 10000).
const MaxMsgListPage = 10000

// Record is one chat record as getmsglist returns it. Records have no id of
// their own; Time is unix seconds.
type Record struct {
	OpenID   string
	OperCode int
	Text     string
	Time     int64
	Worker   string
}

// MsgListPage is one page of getmsglist. Next is the msgid to continue with.
type MsgListPage struct {
	Records []Record
	Next    int64
}

// GetMsgList calls customservice/msgrecord/getmsglist for the window
// [start, end] (unix seconds, at most 24 h inside one Beijing day), starting at
// cursor msgid (1 = first record), at most number records.
func (c *Client) GetMsgList(ctx context.Context, start, end, msgid int64, number int) (*MsgListPage, error) {
	const path = "/customservice/msgrecord/getmsglist"
	body := map[string]int64{"starttime": start, "endtime": end, "msgid": msgid, "number": int64(number)}
	var raw rawMsgList
	if err := c.do(ctx, call{method: http.MethodPost, path: path, body: body, out: &raw}); err != nil {
		return nil, err
	}
	page, err := raw.page(msgid, number)
	if err != nil {
		return nil, &Error{Kind: KindMalformed, Endpoint: path, Err: err}
	}
	return page, nil
}

// rawMsgList is the answer as sent. Numbers are decoded tolerantly: WeChat (and
// relays in front of it) have been seen sending numbers as strings.
type rawMsgList struct {
	RecordList *[]rawRecord `json:"recordlist"`
	Number     *flexInt     `json:"number"`
	MsgID      *flexInt     `json:"msgid"`
}

type rawRecord struct {
	OpenID   flexString `json:"openid"`
	OperCode *flexInt   `json:"opercode"`
	Text     flexString `json:"text"`
	Time     *flexInt   `json:"time"`
	Worker   flexString `json:"worker"`
}

// page checks the answer and converts it: a page that could be stored wrongly
// (no list, a record without time or opercode, a cursor going backwards, more
// records than asked for) is an error, so nothing of it is stored.
func (r rawMsgList) page(msgid int64, number int) (*MsgListPage, error) {
	if r.RecordList == nil {
		return nil, fmt.Errorf("no recordlist")
	}
	list := *r.RecordList
	if len(list) > number {
		return nil, fmt.Errorf("%d records, asked for at most %d", len(list), number)
	}
	p := &MsgListPage{Records: make([]Record, len(list)), Next: msgid + int64(len(list))}
	for i, rr := range list {
		if rr.Time == nil || *rr.Time <= 0 {
			return nil, fmt.Errorf("record %d has no valid time", i+1)
		}
		if rr.OperCode == nil {
			return nil, fmt.Errorf("record %d has no opercode", i+1)
		}
		p.Records[i] = Record{OpenID: string(rr.OpenID), OperCode: int(*rr.OperCode), Text: string(rr.Text),
			Time: int64(*rr.Time), Worker: string(rr.Worker)}
	}
	if r.MsgID != nil && *r.MsgID > 0 {
		p.Next = int64(*r.MsgID)
	}
	if len(list) == number && p.Next <= msgid {
		return nil, fmt.Errorf("full page but msgid did not advance (%d after %d)", p.Next, msgid)
	}
	return p, nil
}

// flexInt accepts 12, "12", 12.0 and null (as 0).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = 0
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = flexInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int64(f)) {
		return fmt.Errorf("not an integer: %.40s", b)
	}
	*n = flexInt(f)
	return nil
}

// flexString accepts a string, a number (kept as written) and null (as "").
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case json.Valid(b) && len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = flexString(b)
	default:
		return fmt.Errorf("not a string: %.40s", b)
	}
	return nil
}

// Direction groups opercodes by who acted.
type Direction string

const (
	DirIn    Direction = "in"    // the customer wrote (2001, 2003)
	DirOut   Direction = "out"   // a KF worker wrote (2002)
	DirEvent Direction = "event" // session events (1000–1005)
	DirOther Direction = "other" // a code this version does not know
)

// OperCodeDirection maps a getmsglist opercode to its direction.
func OperCodeDirection(code int) Direction {
	switch {
	case code == 2001 || code == 2003:
		return DirIn
	case code == 2002:
		return DirOut
	case code >= 1000 && code <= 1005:
		return DirEvent
	}
	return DirOther
}

// DirectionOperCodes lists the known opercodes of a direction (nil for DirOther).
func DirectionOperCodes(d Direction) []int {
	switch d {
	case DirIn:
		return []int{2001, 2003}
	case DirOut:
		return []int{2002}
	case DirEvent:
		return []int{1000, 1001, 1002, 1003, 1004, 1005}
	}
	return nil
}

var operCodeNames = map[int]explanation{
	1000: {"创建未接入会话", "waiting session created"},
	1001: {"接入会话", "session accepted"},
	1002: {"主动发起会话", "session started by KF"},
	1003: {"转接会话", "session transferred"},
	1004: {"关闭会话", "session closed"},
	1005: {"抢接会话", "session grabbed"},
	2001: {"公众号收到消息", "account received"},
	2002: {"客服发送", "KF sent"},
	2003: {"客服收到", "KF received"},
}

// OperCodeName names an opercode in Chinese or English; unknown codes show as the number.
func OperCodeName(code int, zh bool) string {
	x, ok := operCodeNames[code]
	switch {
	case !ok && zh:
		return fmt.Sprintf("未知操作 %d", code)
	case !ok:
		return fmt.Sprintf("unknown %d", code)
	case zh:
		return x.zh
	}
	return x.en
}
