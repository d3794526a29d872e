package wechattest

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// getmsglist limits from the doc.
const (
	maxRecordPage   = 10000
	maxRecordWindow = 24 * 3600           // seconds; "每次查询时段不能超过24小时"
	recordRetention = 30 * 24 * time.Hour // the KF system keeps 30 days of history
)

// Record is one chat record as getmsglist returns it. OperCode: 1000 session
// created (waiting), 1001 accepted, 1004 closed, 2002 KF sent, 2003 KF received
// (api/records.go names them all). Media show as "[image]", "[voice]", "[video]"
// (https://developers.weixin.qq.com/doc/offiaccount/Customer_Service/Obtain_chat_transcript.html).
type Record struct {
	OpenID   string `json:"openid"`
	OperCode int    `json:"opercode"`
	Text     string `json:"text"`
	Time     int64  `json:"time"` // unix seconds
	Worker   string `json:"worker"`
}

type recordState struct {
	records []Record // stored records, sorted by Time (stable)
	source  func(start, end int64) []Record
	version int // bumps on every change, invalidating the window cache

	cacheKey [3]int64 // start, end, version
	cache    []Record
}

// AddRecords stores chat records (any order; kept sorted by time, ties in the
// order added).
func (s *Server) AddRecords(recs ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.records)
	s.records = append(s.records, recs...)
	for i := max(n, 1); i < len(s.records); i++ {
		if s.records[i-1].Time > s.records[i].Time {
			sort.SliceStable(s.records, func(i, j int) bool { return s.records[i].Time < s.records[j].Time })
			break
		}
	}
	s.version++
}

// appendRecord adds one record. s.mu is held.
func (s *Server) appendRecord(r Record) {
	s.records = append(s.records, r)
	if n := len(s.records); n > 1 && s.records[n-2].Time > r.Time {
		sort.SliceStable(s.records, func(i, j int) bool { return s.records[i].Time < s.records[j].Time })
	}
	s.version++
}

// SetRecordSource adds a generator of records for huge data sets (benchmarks):
// src(start, end) must return the records with start <= Time <= end in time
// order. The server pages over it without storing the records; stored records
// (AddRecords) are merged in. nil removes the source.
func (s *Server) SetRecordSource(src func(start, end int64) []Record) {
	s.mu.Lock()
	s.source = src
	s.version++
	s.mu.Unlock()
}

// Records returns the stored records (not those of a source), in time order.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// window returns the records with start <= Time <= end in time order. The
// result is shared with the cache and must not be modified. s.mu is held.
func (s *Server) window(start, end int64) []Record {
	key := [3]int64{start, end, int64(s.version)}
	if s.cache != nil && s.cacheKey == key {
		return s.cache
	}
	lo := sort.Search(len(s.records), func(i int) bool { return s.records[i].Time >= start })
	hi := sort.Search(len(s.records), func(i int) bool { return s.records[i].Time > end })
	stored := s.records[lo:hi]
	var out []Record
	if s.source == nil {
		out = append([]Record(nil), stored...)
	} else {
		var gen []Record
		for _, r := range s.source(start, end) {
			if r.Time >= start && r.Time <= end {
				gen = append(gen, r)
			}
		}
		out = make([]Record, 0, len(stored)+len(gen))
		i, j := 0, 0
		for i < len(stored) || j < len(gen) {
			if j == len(gen) || (i < len(stored) && stored[i].Time <= gen[j].Time) {
				out = append(out, stored[i])
				i++
			} else {
				out = append(out, gen[j])
				j++
			}
		}
	}
	s.cacheKey, s.cache = key, out
	return out
}

// handleMsgList: POST /customservice/msgrecord/getmsglist
// {"starttime","endtime","msgid","number"} → {"recordlist","number","msgid"}.
//
// Rules chosen where the docs are loose:
//   - starttime/endtime missing, zero, non-integer or start > end, number outside
//     1..10000, or a negative msgid → 65416. A missing or 0 msgid means 1.
//   - endtime-starttime > 24 h → 65417, and so does a window crossing a Beijing
//     calendar day (wechatpy/Senparc: "不能跨日"); day-aligned windows satisfy both.
//   - msgid is a cursor: the 1-based position in the window's records (time
//     order). The answer's msgid is the position of the next record to fetch, so
//     continuing with it gives no overlap and no gap; number is this page's count.
//   - Only the last 30 days are kept: older records are never returned.
func (s *Server) handleMsgList(c *call) (any, *apiError) {
	var raw map[string]json.RawMessage
	if e := decodeJSON(c, &raw); e != nil {
		return nil, e
	}
	start, okS := intField(raw, "starttime")
	end, okE := intField(raw, "endtime")
	number, okN := intField(raw, "number")
	msgid, okM := intField(raw, "msgid")
	if _, present := raw["msgid"]; !present {
		msgid, okM = 1, true
	}
	switch {
	case !okS || !okE || !okN || !okM || start <= 0 || end <= 0 || start > end:
		return nil, errc(65416)
	case number < 1 || number > maxRecordPage || msgid < 0:
		return nil, errc(65416)
	case end-start > maxRecordWindow || dayKey(time.Unix(start, 0)) != dayKey(time.Unix(end, 0)):
		return nil, errc(65417)
	}
	if msgid == 0 {
		msgid = 1
	}
	page := []Record{}
	from := max(start, c.now.Add(-recordRetention).Unix())
	if from <= end {
		all := s.window(from, end)
		if i := msgid - 1; i < int64(len(all)) {
			j := min(i+number, int64(len(all)))
			page = append(page, all[i:j]...)
		}
	}
	return struct {
		RecordList []Record `json:"recordlist"`
		Number     int      `json:"number"`
		MsgID      int64    `json:"msgid"`
	}{page, len(page), msgid + int64(len(page))}, nil
}

// intField reads an integer JSON field; a string, float or null is not one.
func intField(raw map[string]json.RawMessage, name string) (int64, bool) {
	v, ok := raw[name]
	if !ok {
		return 0, false
	}
	v = bytes.TrimSpace(v)
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}
