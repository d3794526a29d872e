package wechattest

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// KF account rules from the kfaccount docs.
const (
	maxKFAccounts   = 100
	maxNickRunes    = 16
	maxHeadImgBytes = 5 << 20
	inviteTTL       = 7 * 24 * time.Hour
	firstKFID       = 1001
)

var (
	kfPrefix = regexp.MustCompile(`^[A-Za-z0-9_]{1,10}$`)
	// A WeChat ID: 6–20 characters, a letter first, then letters, digits, _ or -.
	wxID = regexp.MustCompile(`^[A-Za-z][-_A-Za-z0-9]{5,19}$`)
)

// KFAccount is one customer-service account as getkflist reports it.
type KFAccount struct {
	Account          string // prefix@wechatid
	Nick             string
	ID               int    // kf_id, 1001 upwards
	HeadImgURL       string // "" until an avatar is uploaded; served by this server
	WX               string // the bound worker's WeChat ID, "" if none
	InviteWX         string
	InviteExpireTime int64  // unix
	InviteStatus     string // "", waiting, rejected, expired
	Status           int    // 0 offline, 1 web online
}

type kfState struct {
	kfs         []*KFAccount
	nextKFID    int
	heads       map[string][]byte // avatar id → JPEG
	fullWorkers map[string]bool   // WeChat IDs that already serve 5 accounts elsewhere (65410)
}

func (s *Server) initKF() {
	s.nextKFID = firstKFID
	s.heads = map[string][]byte{}
	s.fullWorkers = map[string]bool{}
}

// KFAccounts returns the KF accounts in creation order (invite status as of now).
func (s *Server) KFAccounts() []KFAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := make([]KFAccount, len(s.kfs))
	for i, k := range s.kfs {
		s.expireInvite(k, now)
		out[i] = *k
		out[i].HeadImgURL = absURL(s.URL, k.HeadImgURL)
	}
	return out
}

// absURL turns a stored avatar path into the URL clients see: avatars are
// stored as paths because a New server learns its host only from requests.
func absURL(base, path string) string {
	if path == "" || !strings.HasPrefix(path, "/") {
		return path
	}
	return base + path
}

func (s *Server) findKF(account string) *KFAccount {
	for _, k := range s.kfs {
		if k.Account == account {
			return k
		}
	}
	return nil
}

func (s *Server) expireInvite(k *KFAccount, now time.Time) {
	if k.InviteStatus == "waiting" && now.Unix() >= k.InviteExpireTime {
		k.InviteStatus = "expired"
	}
}

// validAccount: prefix of ≤10 [A-Za-z0-9_] chars, "@", the OA's WeChat ID.
func (s *Server) validAccount(account string) bool {
	prefix, suffix, ok := strings.Cut(account, "@")
	return ok && kfPrefix.MatchString(prefix) && suffix == s.weChatID && s.weChatID != ""
}

func validNick(n string) bool {
	return n != "" && utf8.ValidString(n) && utf8.RuneCountInString(n) <= maxNickRunes
}

type kfReq struct {
	KFAccount string `json:"kf_account"`
	Nickname  string `json:"nickname"`
	InviteWX  string `json:"invite_wx"`
}

// handleKFAdd: POST /customservice/kfaccount/add {"kf_account","nickname"}
// (a legacy "password" is ignored).
func (s *Server) handleKFAdd(c *call) (any, *apiError) {
	var req kfReq
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	switch {
	case s.weChatID == "":
		return nil, errc(65402) // the OA must have a WeChat ID
	case !s.validAccount(req.KFAccount):
		return nil, errc(65404)
	case !validNick(req.Nickname):
		return nil, errc(65403)
	case s.findKF(req.KFAccount) != nil:
		return nil, errc(65406)
	case len(s.kfs) >= maxKFAccounts:
		return nil, errc(65405)
	}
	s.addKF(req.KFAccount, req.Nickname)
	return ok0, nil
}

func (s *Server) addKF(account, nick string) *KFAccount {
	k := &KFAccount{Account: account, Nick: nick, ID: s.nextKFID}
	s.nextKFID++
	s.kfs = append(s.kfs, k)
	return k
}

// handleKFUpdate: POST /customservice/kfaccount/update {"kf_account","nickname"}.
func (s *Server) handleKFUpdate(c *call) (any, *apiError) {
	var req kfReq
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	if !s.validAccount(req.KFAccount) {
		return nil, errc(65404)
	}
	k := s.findKF(req.KFAccount)
	if k == nil {
		return nil, errc(65401)
	}
	if !validNick(req.Nickname) {
		return nil, errc(65403)
	}
	k.Nick = req.Nickname
	return ok0, nil
}

// handleKFDel: the current doc is POST {"kf_account"}; the old one GET
// ?kf_account=. Both are accepted, and a POST may carry it in the query too.
func (s *Server) handleKFDel(c *call) (any, *apiError) {
	account := c.q.Get("kf_account")
	if len(bytes.TrimSpace(c.body)) > 0 {
		var req kfReq
		if e := decodeJSON(c, &req); e != nil {
			return nil, e
		}
		if req.KFAccount != "" {
			account = req.KFAccount
		}
	}
	for i, k := range s.kfs {
		if k.Account == account {
			s.kfs = append(s.kfs[:i], s.kfs[i+1:]...)
			for openid, ss := range s.sessions {
				if ss.kf == account {
					delete(s.sessions, openid)
				}
			}
			return ok0, nil
		}
	}
	return nil, errc(65401)
}

// handleKFHeadImg: POST /customservice/kfaccount/uploadheadimg?kf_account=,
// multipart field "media": a JPEG (the old doc: "必须是jpg格式") within 5 MB.
// A file that is not a decodable JPEG answers 61457 "invalid file type", the
// code reported for avatar uploads (dodgepudding/wechat-php-sdk#283); the type is
// judged by content, so an uppercase ".JPG" name is fine.
func (s *Server) handleKFHeadImg(c *call) (any, *apiError) {
	k := s.findKF(c.q.Get("kf_account"))
	if k == nil {
		return nil, errc(65401)
	}
	if c.tooBig {
		return nil, errc(40006)
	}
	f, ok := c.req.Files["media"]
	if !ok || len(f.Data) == 0 {
		return nil, errc(41005)
	}
	if len(f.Data) > maxHeadImgBytes {
		return nil, errc(40006)
	}
	if _, err := jpeg.Decode(bytes.NewReader(f.Data)); err != nil {
		return nil, errc(61457)
	}
	if old, ok := strings.CutPrefix(k.HeadImgURL, headImgPrefix); ok { // the replaced avatar is gone
		id, _, _ := strings.Cut(old, "/")
		delete(s.heads, id)
	}
	k.HeadImgURL = s.putHead(f.Data)
	return ok0, nil
}

// putHead stores an avatar and returns its path (served by serveHeadImg). s.mu is held.
func (s *Server) putHead(data []byte) string {
	id := randomID(32)
	s.heads[id] = data
	return headImgPrefix + id + "/0"
}

// serveHeadImg serves GET /mmhead/<id>/0, the kf_headimgurl of an uploaded avatar.
func (s *Server) serveHeadImg(w http.ResponseWriter, r *http.Request) {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, headImgPrefix), "/")
	s.mu.Lock()
	data, ok := s.heads[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// handleKFInvite: POST /customservice/kfaccount/inviteworker {"kf_account","invite_wx"}.
// On success the account waits 7 days for the worker to accept.
func (s *Server) handleKFInvite(c *call) (any, *apiError) {
	var req kfReq
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	k := s.findKF(req.KFAccount)
	if k == nil {
		return nil, errc(65401)
	}
	if !wxID.MatchString(req.InviteWX) {
		return nil, errc(65409)
	}
	if k.WX != "" {
		return nil, errc(65412) // this account already has a worker
	}
	for _, o := range s.kfs {
		s.expireInvite(o, c.now)
		if o.WX == req.InviteWX {
			return nil, errc(65407) // already one of this OA's workers
		}
	}
	if k.InviteStatus == "waiting" {
		return nil, errc(65411) // this account has a pending invitation
	}
	for _, o := range s.kfs {
		if o.InviteStatus == "waiting" && o.InviteWX == req.InviteWX {
			return nil, errc(65408) // this WeChat user was already invited
		}
	}
	if s.fullWorkers[req.InviteWX] {
		return nil, errc(65410)
	}
	k.InviteWX, k.InviteStatus = req.InviteWX, "waiting"
	k.InviteExpireTime = c.now.Add(inviteTTL).Unix()
	return ok0, nil
}

// AcceptInvite simulates the invited worker accepting: the account is bound to
// the WeChat ID and the invitation cleared. It reports whether a live invitation existed.
func (s *Server) AcceptInvite(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.findKF(account)
	if k == nil {
		return false
	}
	s.expireInvite(k, s.clock.Now())
	if k.InviteStatus != "waiting" {
		return false
	}
	k.WX, k.InviteWX, k.InviteStatus, k.InviteExpireTime = k.InviteWX, "", "", 0
	return true
}

// RejectInvite simulates the invited worker refusing (invite_status "rejected").
func (s *Server) RejectInvite(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.findKF(account)
	if k == nil || k.InviteStatus != "waiting" {
		return false
	}
	k.InviteStatus = "rejected"
	return true
}

// SetKFStatus sets a KF account's online status (0 offline, 1 web online); only
// online accounts appear in getonlinekflist and may take sessions.
func (s *Server) SetKFStatus(account string, status int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.findKF(account)
	if k == nil {
		return false
	}
	k.Status = status
	return true
}

// MarkWorkerFull makes invitations of the WeChat ID answer 65410, as if the
// worker already served the maximum number of accounts elsewhere.
func (s *Server) MarkWorkerFull(wx string) {
	s.mu.Lock()
	s.fullWorkers[wx] = true
	s.mu.Unlock()
}

// handleKFList: GET /cgi-bin/customservice/getkflist. kf_id is a string here
// (a number in getonlinekflist), as in the docs.
func (s *Server) handleKFList(c *call) (any, *apiError) {
	type item struct {
		Account          string `json:"kf_account"`
		Nick             string `json:"kf_nick"`
		ID               string `json:"kf_id"`
		HeadImgURL       string `json:"kf_headimgurl"`
		WX               string `json:"kf_wx,omitempty"`
		InviteWX         string `json:"invite_wx,omitempty"`
		InviteExpireTime int64  `json:"invite_expire_time,omitempty"`
		InviteStatus     string `json:"invite_status,omitempty"`
	}
	list := make([]item, 0, len(s.kfs))
	for _, k := range s.kfs {
		s.expireInvite(k, c.now)
		list = append(list, item{k.Account, k.Nick, strconv.Itoa(k.ID), absURL(c.base, k.HeadImgURL), k.WX,
			k.InviteWX, k.InviteExpireTime, k.InviteStatus})
	}
	return struct {
		KFList []item `json:"kf_list"`
	}{list}, nil
}

// handleKFOnlineList: GET /cgi-bin/customservice/getonlinekflist; accepted_case
// is the number of sessions the account serves.
func (s *Server) handleKFOnlineList(c *call) (any, *apiError) {
	type item struct {
		Account      string `json:"kf_account"`
		Status       int    `json:"status"`
		ID           int    `json:"kf_id"`
		AcceptedCase int    `json:"accepted_case"`
	}
	list := []item{}
	for _, k := range s.kfs {
		if k.Status != 0 {
			list = append(list, item{k.Account, k.Status, k.ID, s.acceptedCases(k.Account)})
		}
	}
	return struct {
		List []item `json:"kf_online_list"`
	}{list}, nil
}
