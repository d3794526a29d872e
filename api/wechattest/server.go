// Package wechattest is an in-process fake of the WeChat Official Account /
// Mini Program server API (api.weixin.qq.com) as far as customer service needs
// it: tokens, custom messages, typing, KF accounts and sessions, chat records,
// temporary media and followers. It also pushes like WeChat: a Pusher (push.go)
// sends customer messages and events to a developer's URL, signed and encrypted,
// with WeChat's retries and reply checks.
//
// It is built from the official documentation (https://developers.weixin.qq.com/doc/offiaccount/en/,
// the pages named where each call is implemented in api/), not from what any client
// sends, so the client can be tested against it. It
// is also the backend of the app's demo account, so it is safe for concurrent
// use and needs nothing but the standard library.
//
// Every answer is HTTP 200 with a JSON body (`application/json; encoding=utf-8`,
// raw UTF-8, no HTML escaping), like WeChat, except the files media/get serves; errors are
// {"errcode":N,"errmsg":"<english text> rid: <id>"}.
package wechattest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"kfdesk/api/clock"
)

// Kind is the type of account the server pretends to be; it decides which
// message types, media types and endpoints are allowed.
type Kind int

const (
	// OfficialAccount is a 公众号 (service or subscription account).
	OfficialAccount Kind = iota
	// MiniProgram is a 小程序: text/image/link/miniprogrampage only, image media only,
	// no followers and no KF account management.
	MiniProgram
)

// String names the kind for logs and test output.
func (k Kind) String() string {
	if k == MiniProgram {
		return "MiniProgram"
	}
	return "OfficialAccount"
}

// Defaults used when Config leaves a field empty.
const (
	DefaultAppID    = "wxdemo0000000001"
	DefaultSecret   = "demo-secret"
	DefaultWeChatID = "kfdesk_demo"
	// DefaultRequestLog is how many requests Requests can return (older ones are dropped).
	DefaultRequestLog = 10000
	// DefaultRequestLogBytes bounds the bodies (uploads included) the request log keeps.
	DefaultRequestLogBytes = 64 << 20
)

// Config describes the one account the server knows.
type Config struct {
	AppID, Secret string // credentials (defaults DefaultAppID / DefaultSecret)
	Kind          Kind
	WeChatID      string   // the OA's WeChat ID, the suffix of kf accounts (default DefaultWeChatID)
	Clock         Clock    // default real time
	AllowedIPs    []string // IPs or CIDRs allowed to fetch tokens; empty = any (else 40164)
	Sample        bool     // seed the demo data set relative to Clock.Now()
	Seed          int64    // makes the sample data deterministic
	// RequestLog bounds the request log kept for Requests (default DefaultRequestLog, negative = keep none).
	RequestLog int
	// RequestLogBytes bounds the bytes of bodies and uploaded files in that log (default
	// DefaultRequestLogBytes); the oldest requests go first, the newest is always kept.
	RequestLogBytes int
	// DiscardUploads keeps what was uploaded as media (id, type, name, time) but not its
	// bytes: for a long-running server (the demo) that never gives them back.
	DiscardUploads bool
	// RecordSends makes every accepted custom/send also appear in getmsglist as a
	// 2002 record, so the demo history shows what was sent. Sample turns it on.
	RecordSends bool
}

// Clock tells the server what time it is, so tests can move time.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return clock.Now() }

// FakeClock is a settable Clock for tests; it is safe for concurrent use.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock stopped at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// beijing is the time zone of WeChat's daily quotas and calendar days.
var beijing = time.FixedZone("CST", 8*3600)

func dayKey(t time.Time) string { return t.In(beijing).Format("2006-01-02") }

// Request is one HTTP request as the server received it, for assertions.
type Request struct {
	Method, Path string
	Query        url.Values
	Body         []byte // raw body, exactly as sent
	ContentType  string
	Files        map[string]File   // multipart file parts by field name
	Fields       map[string]string // multipart non-file fields
	RemoteAddr   string
	Time         time.Time // server clock
}

// File is one multipart file part.
type File struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Server is the fake WeChat API. Use New for an http.Handler or NewServer for a
// listening server on 127.0.0.1.
type Server struct {
	// URL is the base URL of a server started by NewServer ("" for New).
	URL string

	cfg   Config
	clock Clock
	ts    *httptest.Server
	ips   []*net.IPNet

	mu       sync.Mutex
	weChatID string
	kfOff    bool // new KF not enabled: kf and msgrecord endpoints answer 65400

	consoleReplies ConsoleAutoReplies // get_current_autoreply_info (autoreply.go)

	reqLog   []Request
	reqBytes int // body and file bytes held by reqLog
	calls    map[string]int
	faults   []*faultRule
	quotas   map[string]*quota
	clears   map[string]int // clear_quota uses per Beijing month

	tokenState
	userState
	messageState
	kfState
	sessionState
	mediaState
	recordState
	pushState
}

// New creates a server that does not listen; it is an http.Handler.
func New(cfg Config) *Server {
	if cfg.AppID == "" {
		cfg.AppID = DefaultAppID
	}
	if cfg.Secret == "" {
		cfg.Secret = DefaultSecret
	}
	if cfg.WeChatID == "" {
		cfg.WeChatID = DefaultWeChatID
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.RequestLog == 0 {
		cfg.RequestLog = DefaultRequestLog
	}
	if cfg.RequestLogBytes <= 0 {
		cfg.RequestLogBytes = DefaultRequestLogBytes
	}
	if cfg.Sample {
		cfg.RecordSends = true
	}
	s := &Server{cfg: cfg, clock: cfg.Clock, weChatID: cfg.WeChatID,
		calls: map[string]int{}, quotas: map[string]*quota{}, clears: map[string]int{}}
	for _, a := range cfg.AllowedIPs {
		if _, n, err := net.ParseCIDR(a); err == nil {
			s.ips = append(s.ips, n)
		} else if ip := net.ParseIP(a); ip != nil {
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			s.ips = append(s.ips, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
		}
	}
	s.initTokens()
	s.initUsers()
	s.initMessages()
	s.initKF()
	s.initSessions()
	s.initMedia()
	if cfg.Sample {
		s.seedSample()
	}
	return s
}

// NewServer creates a server listening on 127.0.0.1 (httptest); s.URL is its base URL.
func NewServer(cfg Config) *Server {
	s := New(cfg)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// Close stops a server started by NewServer; it is a no-op for New.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Now is the server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Config returns the effective configuration (with defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// SetKFEnabled switches the new customer-service feature; when off, kf account,
// session and msgrecord endpoints answer 65400 like an account that never enabled it.
func (s *Server) SetKFEnabled(on bool) {
	s.mu.Lock()
	s.kfOff = !on
	s.mu.Unlock()
}

// SetWeChatID changes the OA's WeChat ID; "" models an OA without one (kf add → 65402).
func (s *Server) SetWeChatID(id string) {
	s.mu.Lock()
	s.weChatID = id
	s.mu.Unlock()
}

// route is one documented endpoint.
type route struct {
	methods string // "GET", "POST" or "GET,POST"
	auth    bool   // needs access_token
	kf      bool   // part of the new-KF feature (65400 when disabled)
	oaOnly  bool   // Mini Programs get 48001
	h       func(s *Server, c *call) (any, *apiError)
}

// routes maps exact paths to endpoints. Paths are as documented: some carry
// /cgi-bin, the kfaccount/kfsession/msgrecord ones do not; anything else is 40066.
var routes = map[string]route{
	"/cgi-bin/token":                          {methods: "GET", h: (*Server).handleToken},
	"/cgi-bin/stable_token":                   {methods: "POST", h: (*Server).handleStableToken},
	"/cgi-bin/get_api_domain_ip":              {methods: "GET", auth: true, h: (*Server).handleDomainIP},
	"/cgi-bin/getcallbackip":                  {methods: "GET", auth: true, h: (*Server).handleCallbackIP},
	"/cgi-bin/get_current_autoreply_info":     {methods: "GET", auth: true, oaOnly: true, h: (*Server).handleAutoReplyInfo},
	"/cgi-bin/clear_quota":                    {methods: "POST", auth: true, h: (*Server).handleClearQuota},
	"/cgi-bin/message/custom/send":            {methods: "POST", auth: true, h: (*Server).handleSend},
	"/cgi-bin/message/custom/typing":          {methods: "POST", auth: true, h: (*Server).handleTyping},
	"/customservice/kfaccount/add":            {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFAdd},
	"/customservice/kfaccount/update":         {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFUpdate},
	"/customservice/kfaccount/del":            {methods: "GET,POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFDel},
	"/customservice/kfaccount/uploadheadimg":  {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFHeadImg},
	"/customservice/kfaccount/inviteworker":   {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFInvite},
	"/cgi-bin/customservice/getkflist":        {methods: "GET", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFList},
	"/cgi-bin/customservice/getonlinekflist":  {methods: "GET", auth: true, kf: true, oaOnly: true, h: (*Server).handleKFOnlineList},
	"/customservice/kfsession/create":         {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleSessionCreate},
	"/customservice/kfsession/close":          {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleSessionClose},
	"/customservice/kfsession/getsession":     {methods: "GET", auth: true, kf: true, oaOnly: true, h: (*Server).handleGetSession},
	"/customservice/kfsession/getsessionlist": {methods: "GET", auth: true, kf: true, oaOnly: true, h: (*Server).handleSessionList},
	"/customservice/kfsession/getwaitcase":    {methods: "GET", auth: true, kf: true, oaOnly: true, h: (*Server).handleWaitCase},
	"/customservice/msgrecord/getmsglist":     {methods: "POST", auth: true, kf: true, oaOnly: true, h: (*Server).handleMsgList},
	"/cgi-bin/media/upload":                   {methods: "POST", auth: true, h: (*Server).handleMediaUpload},
	"/cgi-bin/media/get":                      {methods: "GET", auth: true, h: (*Server).handleMediaGet},
	"/cgi-bin/user/get":                       {methods: "GET", auth: true, oaOnly: true, h: (*Server).handleUserGet},
	"/cgi-bin/user/info/batchget":             {methods: "POST", auth: true, oaOnly: true, h: (*Server).handleUserBatchGet},
}

// headImgPrefix serves uploaded KF avatars (the kf_headimgurl of getkflist).
const headImgPrefix = "/mmhead/"

// maxBody bounds what the server reads of a request (the largest upload is 10 MB video).
const maxBody = 24 << 20

// call is one request being answered.
type call struct {
	r      *http.Request
	q      url.Values
	body   []byte
	tooBig bool // the body exceeded maxBody and was cut
	req    *Request
	now    time.Time
	base   string // scheme://host of this server, for URLs in answers
}

// ServeHTTP answers one request like api.weixin.qq.com.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, tooBig := readBody(r)
	rec := newRequest(r, body, s.clock.Now())

	s.mu.Lock()
	s.logRequest(rec)
	f := s.takeFault(r.URL.Path)
	s.mu.Unlock()

	if f != nil {
		if !f.apply(w, r, body) {
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, headImgPrefix) && r.Method == http.MethodGet {
		s.serveHeadImg(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, mediaFilePrefix) && r.Method == http.MethodGet {
		s.serveMediaFile(w, r)
		return
	}

	c := &call{r: r, q: r.URL.Query(), body: body, tooBig: tooBig, req: &rec, base: s.baseURL(r)}
	s.mu.Lock()
	c.now = s.clock.Now()
	out, aerr := s.dispatch(c)
	s.mu.Unlock()
	if aerr != nil {
		writeJSON(w, aerr.body(c.now))
		return
	}
	if f, ok := out.(mediaFile); ok {
		f.write(w)
		return
	}
	writeJSON(w, out)
}

// dispatch runs the checks every endpoint shares, then the handler. s.mu is held.
func (s *Server) dispatch(c *call) (any, *apiError) {
	path := c.r.URL.Path
	rt, ok := routes[path]
	if !ok {
		return nil, errc(40066)
	}
	if !strings.Contains(rt.methods, c.r.Method) {
		if rt.methods == "GET" {
			return nil, errc(43001)
		}
		return nil, errc(43002)
	}
	if rt.auth {
		if e := s.checkToken(c.q.Get("access_token"), c.now); e != nil {
			return nil, e
		}
	}
	if rt.oaOnly && s.cfg.Kind == MiniProgram {
		return nil, errc(48001)
	}
	if rt.kf && s.kfOff {
		return nil, errc(65400)
	}
	if e := s.checkQuota(path, c.now); e != nil {
		return nil, e
	}
	out, e := rt.h(s, c)
	if e == nil {
		s.countQuota(path, c.now)
	}
	return out, e
}

func (s *Server) baseURL(r *http.Request) string {
	if s.URL != "" {
		return s.URL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func readBody(r *http.Request) ([]byte, bool) {
	if r.Body == nil {
		return nil, false
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if len(b) > maxBody {
		_, _ = io.Copy(io.Discard, r.Body) // let the client finish sending
		return b[:maxBody], true
	}
	return b, false
}

func newRequest(r *http.Request, body []byte, now time.Time) Request {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		ContentType: r.Header.Get("Content-Type"), RemoteAddr: r.RemoteAddr, Time: now}
	if mt, params, err := mime.ParseMediaType(rec.ContentType); err == nil && strings.HasPrefix(mt, "multipart/") {
		rec.Files, rec.Fields = parseMultipart(body, params["boundary"])
	}
	return rec
}

// parseMultipart splits a multipart body; a broken body yields what was readable.
func parseMultipart(body []byte, boundary string) (map[string]File, map[string]string) {
	files, fields := map[string]File{}, map[string]string{}
	if boundary == "" {
		return files, fields
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		data, err := io.ReadAll(p)
		if err != nil {
			break
		}
		name := p.FormName()
		if p.FileName() != "" {
			if _, dup := files[name]; !dup {
				files[name] = File{Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data}
			}
		} else if _, dup := fields[name]; !dup {
			fields[name] = string(data)
		}
	}
	return files, fields
}

// logRequest records a request for Requests/Calls, within the count and byte bounds. s.mu is held.
func (s *Server) logRequest(rec Request) {
	s.calls[rec.Path]++
	if s.cfg.RequestLog < 0 {
		return
	}
	drop := 0
	if len(s.reqLog) >= s.cfg.RequestLog {
		drop = max(1, len(s.reqLog)/2) // the oldest half at once, so logging stays O(1) amortised
	}
	s.reqLog = append(s.reqLog, rec)
	s.reqBytes += rec.size()
	for _, r := range s.reqLog[:drop] {
		s.reqBytes -= r.size()
	}
	for ; s.reqBytes > s.cfg.RequestLogBytes && drop < len(s.reqLog)-1; drop++ {
		s.reqBytes -= s.reqLog[drop].size()
	}
	if drop > 0 {
		n := copy(s.reqLog, s.reqLog[drop:])
		clear(s.reqLog[n:])
		s.reqLog = s.reqLog[:n]
	}
}

// size is what a logged request holds in memory beyond its headers: the body and the
// copies of its multipart files.
func (r *Request) size() int {
	n := len(r.Body)
	for _, f := range r.Files {
		n += len(f.Data)
	}
	return n
}

// Requests returns the logged requests to path (without query), oldest first; "" = all.
func (s *Server) Requests(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqLog {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Calls counts every request to path received so far, faulted ones included; "" = all.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[path]
}

// writeJSON answers like WeChat: HTTP 200, raw UTF-8 JSON without HTML escaping.
func writeJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"errcode":-1,"errmsg":"system error"}`)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json; encoding=utf-8")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// okBody is the answer of calls that return nothing but success.
type okBody struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

var ok0 = okBody{0, "ok"}

// quota is one path's daily counter (SetDailyQuota).
type quota struct {
	limit int
	day   string
	used  int
}

// SetDailyQuota limits path to n successful calls per Beijing day (server clock);
// further calls answer 45009 until the next day or clear_quota. n < 0 removes the limit.
func (s *Server) SetDailyQuota(path string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.quotas[path]
	if q == nil {
		q = &quota{}
		s.quotas[path] = q
	}
	q.limit = n
}

func (s *Server) checkQuota(path string, now time.Time) *apiError {
	q := s.quotas[path]
	if q == nil || q.limit < 0 {
		return nil
	}
	if q.day != dayKey(now) {
		q.day, q.used = dayKey(now), 0
	}
	if q.used >= q.limit {
		return errc(45009)
	}
	return nil
}

func (s *Server) countQuota(path string, now time.Time) {
	if q := s.quotas[path]; q != nil {
		if q.day != dayKey(now) {
			q.day, q.used = dayKey(now), 0
		}
		q.used++
	}
}

// handleClearQuota: POST /cgi-bin/clear_quota {"appid"} resets the daily
// counters, at most 10 times a (Beijing) month, then 48006.
func (s *Server) handleClearQuota(c *call) (any, *apiError) {
	var req struct {
		AppID string `json:"appid"`
	}
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	if req.AppID == "" {
		return nil, errc(41002)
	}
	if req.AppID != s.cfg.AppID {
		return nil, errc(40013)
	}
	month := c.now.In(beijing).Format("2006-01")
	if s.clears[month] >= 10 {
		return nil, errc(48006)
	}
	s.clears[month]++
	for _, q := range s.quotas {
		q.used = 0
	}
	return ok0, nil
}

// handleDomainIP: GET /cgi-bin/get_api_domain_ip, the cheapest authenticated call (used as a ping).
func (s *Server) handleDomainIP(c *call) (any, *apiError) {
	return struct {
		IPList []string `json:"ip_list"`
	}{[]string{"101.89.47.18", "101.91.34.103", "101.91.37.19", "109.244.129.223", "109.244.145.89"}}, nil
}

// handleCallbackIP: GET /cgi-bin/getcallbackip, the addresses WeChat pushes from.
func (s *Server) handleCallbackIP(c *call) (any, *apiError) {
	return struct {
		IPList []string `json:"ip_list"`
	}{[]string{"101.226.62.77", "101.226.62.78", "101.226.62.79", "101.226.103.59", "101.226.103.60"}}, nil
}

// decodeJSON reads a JSON request body: empty → 44002, not JSON → 47001.
func decodeJSON(c *call, v any) *apiError {
	b := bytes.TrimSpace(c.body)
	if len(b) == 0 {
		return errc(44002)
	}
	if c.tooBig {
		return errc(47001)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errc(47001)
	}
	return nil
}
