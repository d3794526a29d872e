package wechattest

import (
	"slices"
	"sort"
	"time"
)

// maxWaitCases is how many waiting users getwaitcase returns (the doc's 100).
const maxWaitCases = 100

type session struct {
	kf      string
	created int64
}

type waitCase struct {
	openid  string
	arrived int64 // unix seconds the customer began to wait: the queue's order
	latest  int64 // the customer's last message (latest_time)
}

type sessionState struct {
	sessions map[string]*session // by openid
	waits    []waitCase          // in the order the customers came ("按照来访顺序")
}

func (s *Server) initSessions() { s.sessions = map[string]*session{} }

// AddWaitCase puts openid in the waiting queue (a user waiting for a KF) with
// its latest message time; a session created for it removes it. A user already
// waiting keeps their place and only latest_time moves.
func (s *Server) AddWaitCase(openid string, latest time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addWait(openid, latest)
}

// addWait queues openid (once) where its first message puts it. s.mu is held.
func (s *Server) addWait(openid string, latest time.Time) {
	s.knownUser(openid, latest)
	if s.touchWait(openid, latest) {
		return
	}
	// By arrival: a case added late for an earlier message goes before later ones.
	i := sort.Search(len(s.waits), func(i int) bool { return s.waits[i].arrived > latest.Unix() })
	s.waits = slices.Insert(s.waits, i, waitCase{openid, latest.Unix(), latest.Unix()})
}

// touchWait moves a waiting user's latest_time to at (never back); it reports
// whether openid was waiting. s.mu is held.
func (s *Server) touchWait(openid string, at time.Time) bool {
	for i := range s.waits {
		if s.waits[i].openid == openid {
			s.waits[i].latest = max(s.waits[i].latest, at.Unix())
			return true
		}
	}
	return false
}

// dropWait takes openid out of the waiting queue. s.mu is held.
func (s *Server) dropWait(openid string) {
	s.waits = slices.DeleteFunc(s.waits, func(w waitCase) bool { return w.openid == openid })
}

func (s *Server) acceptedCases(kf string) int {
	n := 0
	for _, ss := range s.sessions {
		if ss.kf == kf {
			n++
		}
	}
	return n
}

type sessionReq struct {
	KFAccount string `json:"kf_account"`
	OpenID    string `json:"openid"`
}

// Docs: https://developers.weixin.qq.com/doc/service/api/customer/messctrl/api_createkfsession
// and its neighbours api_closesession, api_getkfsession, api_getkfsessionlist, api_getwaitcase;
// the one-page version https://developers.weixin.qq.com/doc/service/Customer_Service/Session_control.html.

// handleSessionCreate: POST /customservice/kfsession/create {"kf_account","openid"}.
// The KF account must be bound to a worker (65402) and online (65415). It is not
// limited by the account's auto-accept number; a session that exists already is
// left as it is ("如果该客服和用户会话已存在，则直接返回0").
func (s *Server) handleSessionCreate(c *call) (any, *apiError) {
	var req sessionReq
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	k := s.findKF(req.KFAccount)
	switch {
	case k == nil:
		return nil, errc(65401)
	case k.WX == "":
		return nil, errc(65402)
	case k.Status == 0:
		return nil, errc(65415)
	}
	if _, e := s.recipient(req.OpenID); e != nil {
		return nil, e
	}
	if ss := s.sessions[req.OpenID]; ss != nil {
		if ss.kf != req.KFAccount {
			return nil, errc(65414)
		}
		return ok0, nil
	}
	s.sessions[req.OpenID] = &session{kf: req.KFAccount, created: c.now.Unix()}
	s.dropWait(req.OpenID)
	return ok0, nil
}

// handleSessionClose: POST /customservice/kfsession/close {"kf_account","openid"}.
func (s *Server) handleSessionClose(c *call) (any, *apiError) {
	var req sessionReq
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	if s.findKF(req.KFAccount) == nil {
		return nil, errc(65401)
	}
	if s.users[req.OpenID] == nil {
		return nil, errc(40003)
	}
	ss := s.sessions[req.OpenID]
	if ss == nil {
		return nil, errc(65413)
	}
	if ss.kf != req.KFAccount {
		return nil, errc(65414)
	}
	delete(s.sessions, req.OpenID)
	return ok0, nil
}

// handleGetSession: GET /customservice/kfsession/getsession?openid= →
// {"createtime","kf_account"}; kf_account is "" when nobody serves the user.
func (s *Server) handleGetSession(c *call) (any, *apiError) {
	openid := c.q.Get("openid")
	if s.users[openid] == nil {
		return nil, errc(40003)
	}
	out := struct {
		CreateTime int64  `json:"createtime"`
		KFAccount  string `json:"kf_account"`
	}{}
	if ss := s.sessions[openid]; ss != nil {
		out.CreateTime, out.KFAccount = ss.created, ss.kf
	}
	return out, nil
}

// handleSessionList: GET /customservice/kfsession/getsessionlist?kf_account=:
// 65401 unknown account, 65402 not bound to a worker.
func (s *Server) handleSessionList(c *call) (any, *apiError) {
	kf := c.q.Get("kf_account")
	switch k := s.findKF(kf); {
	case k == nil:
		return nil, errc(65401)
	case k.WX == "":
		return nil, errc(65402)
	}
	type item struct {
		CreateTime int64  `json:"createtime"`
		OpenID     string `json:"openid"`
	}
	list := []item{}
	for openid, ss := range s.sessions {
		if ss.kf == kf {
			list = append(list, item{ss.created, openid})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].CreateTime != list[j].CreateTime {
			return list[i].CreateTime < list[j].CreateTime
		}
		return list[i].OpenID < list[j].OpenID
	})
	return struct {
		SessionList []item `json:"sessionlist"`
	}{list}, nil
}

// handleWaitCase: GET /customservice/kfsession/getwaitcase → count, and the first
// 100 waiting users in the order they came.
func (s *Server) handleWaitCase(c *call) (any, *apiError) {
	type item struct {
		LatestTime int64  `json:"latest_time"`
		OpenID     string `json:"openid"`
	}
	list := []item{}
	for _, w := range s.waits {
		if len(list) == maxWaitCases {
			break
		}
		list = append(list, item{w.latest, w.openid})
	}
	return struct {
		Count        int    `json:"count"`
		WaitCaseList []item `json:"waitcaselist"`
	}{len(s.waits), list}, nil
}
