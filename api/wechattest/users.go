package wechattest

import (
	"slices"
	"time"
)

// DefaultUserPageSize is user/get's page size (the documented 10000).
const DefaultUserPageSize = 10000

// user is one follower (OA) or one user who talked to the Mini Program.
type user struct {
	openid        string
	following     bool
	subscribeTime int64
	remark        string
	tags          []int
	scene         string

	// Reply windows (see message.go): the last user message and the last event.
	msgAt, evtAt     time.Time
	msgUsed, evtUsed int
	lastExchange     time.Time // last user message or accepted send, for typing (45080)
	typingUntil      time.Time
}

type userState struct {
	users    map[string]*user
	order    []string // follow order, unfollowed users included (user/get skips them)
	pageSize int
}

func (s *Server) initUsers() {
	s.users = map[string]*user{}
	s.pageSize = DefaultUserPageSize
}

// follow makes openid a follower (moving it to the end of the follow order if it
// comes back). s.mu is held.
func (s *Server) follow(openid string, at time.Time) *user {
	u := s.users[openid]
	if u == nil {
		u = &user{openid: openid, scene: "ADD_SCENE_QR_CODE"}
		s.users[openid] = u
	} else if u.following {
		return u
	} else if i := slices.Index(s.order, openid); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
	u.following, u.subscribeTime = true, at.Unix()
	s.order = append(s.order, openid)
	return u
}

// knownUser returns the user, adding an unknown one as a follower: a user must
// follow an OA to talk to it. s.mu is held.
func (s *Server) knownUser(openid string, at time.Time) *user {
	if u := s.users[openid]; u != nil {
		return u
	}
	return s.follow(openid, at)
}

// AddFollower makes openid a follower now (a follow event does not open a reply
// window by itself; call UserEvent for that).
func (s *Server) AddFollower(openid string) {
	s.mu.Lock()
	s.follow(openid, s.clock.Now())
	s.mu.Unlock()
}

// RemoveFollower makes openid unfollow: sends to it answer 43004.
func (s *Server) RemoveFollower(openid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unfollow(openid)
}

// unfollow marks openid as no longer following. s.mu is held.
func (s *Server) unfollow(openid string) {
	u := s.users[openid]
	if u == nil {
		u = &user{openid: openid}
		s.users[openid] = u
		s.order = append(s.order, openid)
	}
	u.following = false
}

// Followers lists the current followers in follow order.
func (s *Server) Followers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range s.order {
		if s.users[id].following {
			out = append(out, id)
		}
	}
	return out
}

// SetUserRemark sets the remark user/info/batchget reports (the operator's note on a follower).
func (s *Server) SetUserRemark(openid, remark string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[openid]; u != nil {
		u.remark = remark
	}
}

// SetUserPageSize changes user/get's page size (tests use small pages).
func (s *Server) SetUserPageSize(n int) {
	if n < 1 {
		n = DefaultUserPageSize
	}
	s.mu.Lock()
	s.pageSize = n
	s.mu.Unlock()
}

// handleUserGet: GET /cgi-bin/user/get?next_openid= pages followers. Each page
// answers next_openid = its last openid; the call after the last page answers
// count 0 without data and next_openid "".
func (s *Server) handleUserGet(c *call) (any, *apiError) {
	type data struct {
		OpenID []string `json:"openid"`
	}
	type page struct {
		Total      int    `json:"total"`
		Count      int    `json:"count"`
		Data       *data  `json:"data,omitempty"`
		NextOpenID string `json:"next_openid"`
	}
	start := 0
	if next := c.q.Get("next_openid"); next != "" {
		i := slices.Index(s.order, next)
		if i < 0 {
			return nil, errc(40003)
		}
		start = i + 1
	}
	total := 0
	for _, id := range s.order {
		if s.users[id].following {
			total++
		}
	}
	var ids []string
	for _, id := range s.order[start:] {
		if len(ids) == s.pageSize {
			break
		}
		if s.users[id].following {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return page{Total: total}, nil
	}
	return page{Total: total, Count: len(ids), Data: &data{ids}, NextOpenID: ids[len(ids)-1]}, nil
}

// handleUserBatchGet: POST /cgi-bin/user/info/batchget {"user_list":[{"openid","lang"}]},
// 1..100 users. Since 2021-12-27 no nickname or headimgurl.
func (s *Server) handleUserBatchGet(c *call) (any, *apiError) {
	var req struct {
		UserList []struct {
			OpenID string `json:"openid"`
			Lang   string `json:"lang"`
		} `json:"user_list"`
	}
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	if len(req.UserList) == 0 || len(req.UserList) > 100 {
		return nil, errc(40032)
	}
	type info struct {
		Subscribe      int    `json:"subscribe"`
		OpenID         string `json:"openid"`
		Language       string `json:"language,omitempty"`
		SubscribeTime  int64  `json:"subscribe_time,omitempty"`
		Remark         string `json:"remark"`
		GroupID        int    `json:"groupid"`
		TagIDList      []int  `json:"tagid_list"`
		SubscribeScene string `json:"subscribe_scene,omitempty"`
		QRScene        int    `json:"qr_scene"`
		QRSceneStr     string `json:"qr_scene_str"`
	}
	type unsub struct {
		Subscribe int    `json:"subscribe"`
		OpenID    string `json:"openid"`
	}
	out := make([]any, 0, len(req.UserList))
	for _, it := range req.UserList {
		u := s.users[it.OpenID]
		if u == nil {
			return nil, errc(40003)
		}
		if !u.following {
			out = append(out, unsub{0, u.openid})
			continue
		}
		lang := it.Lang
		if lang == "" {
			lang = "zh_CN"
		}
		tags := u.tags
		if tags == nil {
			tags = []int{}
		}
		out = append(out, info{Subscribe: 1, OpenID: u.openid, Language: lang, SubscribeTime: u.subscribeTime,
			Remark: u.remark, TagIDList: tags, SubscribeScene: u.scene})
	}
	return struct {
		UserInfoList []any `json:"user_info_list"`
	}{out}, nil
}
