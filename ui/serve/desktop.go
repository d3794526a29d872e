package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"kfdesk/api"
	"kfdesk/storage"
	"kfdesk/ui/workspace"
)

// The API desktops connect to (issue 11 §5), under /api/v1/ beside the push URLs.
// Every request carries a desktop key (`kfdesk serve key add NAME`), as
// "Authorization: Bearer <key>", or as the password of Basic auth — which is what a
// token URL https://desktop:<key>@HOST/api/v1/token?account=APPID sends, so the
// desktop's existing token URL mode works unchanged and the key never sits in a
// query string (proxies log those; Go's errors print such a URL's password as ***).
// Without a valid, unrevoked key everything here is 401, with nothing said.

// desktopAPI serves the desktop API of the accounts served here.
type desktopAPI struct {
	stop     context.Context // ends the long polls when the server stops
	ws       *workspace.Workspace
	accounts []storage.Account
	ids      []int64
	failures *failureLimit
}

// DesktopAPI is the desktop API for the accounts of receivers (only these: an
// account of the data folder that this server does not receive for is not offered).
// When stop ends, waiting feed reads answer at once (http.Server.Shutdown waits for
// answers under way, and a long poll would hold it up to its wait).
func DesktopAPI(stop context.Context, ws *workspace.Workspace, receivers ...*workspace.Receiver) http.Handler {
	d := &desktopAPI{stop: stop, ws: ws, failures: newFailureLimit()}
	for _, r := range receivers {
		d.accounts = append(d.accounts, r.Account())
		d.ids = append(d.ids, r.Account().ID)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/feed", d.feed)
	mux.HandleFunc("GET /api/v1/media/{id}", d.media)
	mux.HandleFunc("GET /api/v1/autoreplies", d.autoreplies)
	mux.HandleFunc("GET /api/v1/token", d.token)
	mux.HandleFunc("GET /api/v1/window", d.window)
	mux.HandleFunc("POST /api/v1/autoreplies", d.addAutoReply)
	mux.HandleFunc("DELETE /api/v1/autoreplies/{id}", d.removeAutoReply)
	mux.HandleFunc("PUT /api/v1/autoreplies/forward", d.setForward)
	return d.authenticated(mux)
}

// authenticated lets through only requests with a valid desktop key: nothing of the
// API, not even which paths exist, is seen without one.
func (d *desktopAPI) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store") // tokens, customers' messages
		_, ok, err := d.ws.CheckDesktopKey(r.Context(), requestKey(r))
		if err != nil {
			slog.Error("could not check a desktop key", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if !ok {
			d.failures.refused(r.Context(), remoteHost(r))
			w.Header().Set("WWW-Authenticate", `Bearer realm="kfdesk"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestKey is the key a request carries ("" when none).
func requestKey(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if k, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(k)
	}
	if _, key, ok := r.BasicAuth(); ok {
		return key
	}
	return ""
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// failureLimit slows down refused requests per remote address: each address may
// fail failureBurst times, earning one more try every failureEvery; a refusal
// beyond that is answered only after failureDelay. A key has 256 random bits, so
// this is not what keeps it from being guessed: it keeps a flood of bad keys from
// costing the server (and its log) much. It never slows a valid key — behind a
// reverse proxy every desktop shares the proxy's address, and a bad client must not
// lock them out.
type failureLimit struct {
	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const (
	failureBurst   = 10
	failureEvery   = time.Second
	failureTracked = 4096 // addresses remembered; beyond that the table starts afresh
)

// failureDelay is the wait before a refusal over the budget is answered (a
// variable for the tests, which refuse many requests on purpose).
var failureDelay = time.Second

func newFailureLimit() *failureLimit { return &failureLimit{buckets: map[string]bucket{}} }

// refused counts a refusal from host and, when host is over its budget, waits
// failureDelay (or until ctx ends) and returns true.
func (f *failureLimit) refused(ctx context.Context, host string) (over bool) {
	now := time.Now()
	f.mu.Lock()
	b, ok := f.buckets[host]
	if !ok {
		if len(f.buckets) >= failureTracked {
			clear(f.buckets)
		}
		b = bucket{tokens: failureBurst, at: now}
	}
	b.tokens = min(failureBurst, b.tokens+now.Sub(b.at).Seconds()/failureEvery.Seconds())
	b.at = now
	over = b.tokens < 1
	if !over {
		b.tokens--
	}
	f.buckets[host] = b
	f.mu.Unlock()
	if !over {
		slog.Warn("desktop API: request without a valid key refused", "remote", host) // never the key
		return false
	}
	t := time.NewTimer(failureDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return true
}

// account is the served account the request names with ?account=APPID; with
// required false and no account named, ok with the zero account.
func (d *desktopAPI) account(w http.ResponseWriter, r *http.Request, required bool) (storage.Account, bool) {
	appID := r.URL.Query().Get("account")
	if appID == "" && !required {
		return storage.Account{}, true
	}
	for _, a := range d.accounts {
		if a.AppID == appID {
			return a, true
		}
	}
	if appID == "" {
		apiError(w, http.StatusBadRequest, "请用 ?account=APPID 指定账号。", "Name the account with ?account=APPID.")
	} else {
		apiError(w, http.StatusNotFound, "本服务器不接收这个账号的消息。", "This server does not serve that account.")
	}
	return storage.Account{}, false
}

// apiError answers a refused request with a message in Chinese and English.
func apiError(w http.ResponseWriter, status int, zh, en string) {
	writeJSON(w, status, map[string]string{"error": en, "error_zh": zh})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the desktop hung up: it reads again from its cursor
}

type feedAnswer struct {
	Items  []workspace.PushItem `json:"items"`
	Cursor int64                `json:"cursor"`
}

// writeSlack is how long past the wait a feed answer may take to write.
const writeSlack = 10 * time.Second

// feed: GET /api/v1/feed?cursor=N[&account=APPID][&wait=25s].
func (d *desktopAPI) feed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cursor, err := strconv.ParseInt(q.Get("cursor"), 10, 64)
	if q.Get("cursor") == "" {
		cursor, err = 0, nil
	}
	if err != nil || cursor < 0 {
		apiError(w, http.StatusBadRequest, "cursor 应为上次回答中的 cursor（首次为 0）。",
			"cursor is the cursor of the last answer (0 the first time).")
		return
	}
	var wait time.Duration
	if s := q.Get("wait"); s != "" {
		if wait, err = time.ParseDuration(s); err != nil || wait < 0 {
			apiError(w, http.StatusBadRequest, "wait 应为时长，例如 25s（最长 30s）。", "wait is a duration, e.g. 25s (at most 30s).")
			return
		}
	}
	wait = min(wait, workspace.FeedMaxWait)
	a, ok := d.account(w, r, false)
	if !ok {
		return
	}
	ids := d.ids
	if a.ID != 0 {
		ids = []int64{a.ID}
	}
	// A long poll outlasts the server's WriteTimeout (NewServer): this answer may take longer.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + writeSlack))
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(d.stop, cancel)()
	entries, next, err := d.ws.Feed(ctx, workspace.FeedQuery{Accounts: ids, Cursor: cursor, Wait: wait})
	if r.Context().Err() != nil {
		return // the desktop hung up
	}
	if err != nil && d.stop.Err() == nil {
		slog.Error("desktop API: could not read the feed", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	appIDs := make(map[int64]string, len(d.accounts))
	for _, a := range d.accounts {
		appIDs[a.ID] = a.AppID
	}
	out := feedAnswer{Items: []workspace.PushItem{}, Cursor: next}
	for _, e := range entries {
		p := e.Push
		it := workspace.NewPushItem(p, appIDs[p.AccountID])
		it.MenuChoice = e.MenuOption
		if p.MediaPath != "" {
			it.Media = "/api/v1/media/" + strconv.FormatInt(p.ID, 10)
		}
		out.Items = append(out.Items, it)
	}
	writeJSON(w, http.StatusOK, out)
}

// mediaTypes are the types of the extensions runMediaJob gives a file that the
// system's table may not know.
var mediaTypes = map[string]string{".amr": "audio/amr", ".speex": "audio/speex", ".mp3": "audio/mpeg", ".mp4": "video/mp4"}

// mediaWrite bounds writing one media file (a video is up to 10 MB, to a slow desktop).
const mediaWrite = 2 * time.Minute

// media: GET /api/v1/media/{push id}.
func (d *desktopAPI) media(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(w, r)
		return
	}
	path, err := d.ws.PushMedia(r.Context(), id, d.ids)
	if errors.Is(err, storage.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		slog.Error("desktop API: could not read a push", "push", id, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		slog.Error("desktop API: could not open a media file", "push", id, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	ext := strings.ToLower(filepath.Ext(path))
	ct, ok := mediaTypes[ext]
	if !ok {
		if ct = mime.TypeByExtension(ext); ct == "" {
			ct = "application/octet-stream"
		}
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(mediaWrite))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// autoReplyJSON is one rule as the API gives and takes it.
type autoReplyJSON struct {
	ID       int64           `json:"id"`
	Kind     string          `json:"kind"`
	Enabled  bool            `json:"enabled"`
	Keyword  string          `json:"keyword,omitempty"`
	Match    string          `json:"match,omitempty"`
	Weekdays []int           `json:"weekdays,omitempty"` // hours rules: 0 Sunday … 6 Saturday
	From     string          `json:"from,omitempty"`     // hours rules: HH:MM, Beijing time
	To       string          `json:"to,omitempty"`
	Body     json.RawMessage `json:"body"` // the reply, as cgi-bin/message/custom/send takes it
}

type accountRules struct {
	Account string          `json:"account"`
	Rules   []autoReplyJSON `json:"rules"`
	Forward struct {
		On        bool   `json:"on"`
		KFAccount string `json:"kf_account"`
	} `json:"forward"`
}

// autoreplies: GET /api/v1/autoreplies[?account=APPID].
func (d *desktopAPI) autoreplies(w http.ResponseWriter, r *http.Request) {
	a, ok := d.account(w, r, false)
	if !ok {
		return
	}
	accounts := d.accounts
	if a.ID != 0 {
		accounts = []storage.Account{a}
	}
	out := []accountRules{}
	for _, a := range accounts {
		rules, fwd, err := d.ws.AutoReplies(r.Context(), a)
		if err != nil {
			slog.Error("desktop API: could not read the auto-replies", "account", a.Name, "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		ar := accountRules{Account: a.AppID, Rules: []autoReplyJSON{}}
		ar.Forward.On, ar.Forward.KFAccount = fwd.On, fwd.KFAccount
		for _, rule := range rules {
			j := autoReplyJSON{ID: rule.ID, Kind: rule.Kind, Enabled: rule.Enabled, Body: json.RawMessage(rule.Body)}
			if !json.Valid(j.Body) {
				j.Body, _ = json.Marshal(rule.Body)
			}
			switch rule.Kind {
			case storage.AutoReplyKeyword:
				j.Keyword, j.Match = rule.Keyword, rule.Match
			case storage.AutoReplyHours:
				for d := range 7 {
					if rule.Hours.Weekdays&(1<<d) != 0 {
						j.Weekdays = append(j.Weekdays, d)
					}
				}
				j.From, j.To = hhmm(rule.Hours.From), hhmm(rule.Hours.To)
			}
			ar.Rules = append(ar.Rules, j)
		}
		out = append(out, ar)
	}
	writeJSON(w, http.StatusOK, out)
}

func hhmm(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

// token: GET /api/v1/token?account=APPID → {"access_token","expires_in"}, the
// answer the token URL mode reads (api/token.go).
func (d *desktopAPI) token(w http.ResponseWriter, r *http.Request) {
	a, ok := d.account(w, r, true)
	if !ok {
		return
	}
	tok, left, err := d.ws.AccessToken(r.Context(), a)
	if err != nil {
		// The error never holds the token (api redacts it); the desktop gets no detail of this server's setup.
		slog.Warn("desktop API: no access token", "account", a.Name, "err", err)
		apiError(w, http.StatusBadGateway, "服务器暂时无法从微信取得 access_token，请稍后再试。",
			"The server could not get an access token from WeChat just now; try again later.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": int64(left / time.Second)})
}

// window: GET /api/v1/window?account=APPID&openid=OPENID → the customer's reply
// window from the pushes (exact): {"state":"open|used_up|closed|unknown","until","left"}.
func (d *desktopAPI) window(w http.ResponseWriter, r *http.Request) {
	a, ok := d.account(w, r, true)
	if !ok {
		return
	}
	openid := r.URL.Query().Get("openid")
	if openid == "" {
		apiError(w, http.StatusBadRequest, "请指定 openid。", "Give the customer's openid.")
		return
	}
	st, err := d.ws.PushReplyWindow(r.Context(), a, openid)
	if err != nil {
		slog.Error("desktop API: could not read a reply window", "account", a.Name, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	out := map[string]any{"state": replyStates[st.State], "left": st.Left}
	if !st.Until.IsZero() {
		out["until"] = workspace.FormatTime(st.Until, time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

var replyStates = map[api.ReplyState]string{api.ReplyUnknown: "unknown", api.ReplyOpen: "open", api.ReplyUsedUp: "used_up", api.ReplyClosed: "closed"}

// maxRuleBody bounds a rule a desktop sends (a reply body is at most a few KB).
const maxRuleBody = 64 << 10

// addAutoReply: POST /api/v1/autoreplies?account=APPID with one rule as autoReplyJSON
// (id and enabled ignored) → the rule as stored. It applies to the next push; a
// follow, default or hours rule replaces the one there was (workspace.AddAutoReply).
func (d *desktopAPI) addAutoReply(w http.ResponseWriter, r *http.Request) {
	a, ok := d.account(w, r, true)
	if !ok {
		return
	}
	var in autoReplyJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRuleBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "规则不是有效的 JSON。", "The rule is not valid JSON.")
		return
	}
	rule := storage.AutoReplyRule{Kind: in.Kind, Keyword: in.Keyword, Match: in.Match, Body: string(in.Body)}
	if in.Kind == storage.AutoReplyHours {
		var err error
		if rule.Hours, err = officeHours(in); err != nil {
			writeError(w, err)
			return
		}
	}
	saved, err := d.ws.AddAutoReply(r.Context(), a, rule)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": saved.ID, "kind": saved.Kind})
}

// removeAutoReply: DELETE /api/v1/autoreplies/{id}?account=APPID.
func (d *desktopAPI) removeAutoReply(w http.ResponseWriter, r *http.Request) {
	a, ok := d.account(w, r, true)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, "规则编号不正确。", "That is not a rule id.")
		return
	}
	if err := d.ws.RemoveAutoReply(r.Context(), a, id); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setForward: PUT /api/v1/autoreplies/forward?account=APPID with {"on":true,"kf_account":"…"}.
func (d *desktopAPI) setForward(w http.ResponseWriter, r *http.Request) {
	a, ok := d.account(w, r, true)
	if !ok {
		return
	}
	var in struct {
		On        bool   `json:"on"`
		KFAccount string `json:"kf_account"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRuleBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "设置不是有效的 JSON。", "The setting is not valid JSON.")
		return
	}
	if err := d.ws.SetAutoReplyForward(r.Context(), a, storage.Forwarding{On: in.On, KFAccount: in.KFAccount}); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// officeHours reads an hours rule's weekdays and HH:MM times.
func officeHours(in autoReplyJSON) (storage.OfficeHours, error) {
	var h storage.OfficeHours
	bad := &api.InputError{Field: "hours", Chinese: "工作时间不正确：weekdays 为 0（周日）至 6，from/to 为 HH:MM。",
		English: "Office hours are wrong: weekdays are 0 (Sunday) to 6, from/to are HH:MM."}
	days := make([]time.Weekday, 0, len(in.Weekdays))
	for _, d := range in.Weekdays {
		if d < 0 || d > 6 {
			return h, bad
		}
		days = append(days, time.Weekday(d))
	}
	from, err1 := time.Parse("15:04", in.From)
	to, err2 := time.Parse("15:04", in.To)
	if err1 != nil || err2 != nil {
		return h, bad
	}
	return storage.OfficeHours{Weekdays: storage.Weekdays(days...), From: from.Hour()*60 + from.Minute(), To: to.Hour()*60 + to.Minute()}, nil
}

// writeError answers a refused write: 400 with the bilingual explanation for refused
// input, 404 for a rule that is not there, else 500 (logged).
func writeError(w http.ResponseWriter, err error) {
	var b api.Bilingual
	switch {
	case errors.Is(err, storage.ErrNotFound):
		apiError(w, http.StatusNotFound, "没有这条规则。", "There is no such rule.")
	case errors.As(err, &b):
		var fp api.FieldProblem
		if errors.As(err, &fp) {
			apiError(w, http.StatusBadRequest, fp.ZH(), fp.EN())
			return
		}
		slog.Error("desktop API: a write failed", "err", err)
		apiError(w, http.StatusInternalServerError, b.ZH(), b.EN())
	default:
		slog.Error("desktop API: a write failed", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
	}
}
