package wechattest

import (
	"net"
	"time"
)

// Token lifetimes from the docs.
const (
	tokenTTL       = 7200 * time.Second
	tokenOverlap   = 5 * time.Minute // a replaced classic token lives this much longer
	stableRenew    = 5 * time.Minute // stable_token renews in the last 5 minutes
	forceGap       = 30 * time.Second
	forcePerDay    = 20
	tokenRetention = 24 * time.Hour // forget tokens this long after expiry (then 40001)
)

type token struct {
	value    string
	stable   bool
	expires  time.Time
	deadline time.Time // replaced: invalid ("not latest") from then on; zero = not replaced
	revoked  bool
}

type tokenState struct {
	tokens        map[string]*token
	classicLatest *token
	stableCur     *token
	lastForce     time.Time
	forces        map[string]int // effective force_refresh calls per Beijing day
	tokenFetches  int
}

func (s *Server) initTokens() {
	s.tokens = map[string]*token{}
	s.forces = map[string]int{}
}

type tokenBody struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// handleToken: GET /cgi-bin/token?grant_type=client_credential&appid=&secret=.
// Every call issues a new token; the previous one stays valid 5 more minutes.
func (s *Server) handleToken(c *call) (any, *apiError) {
	if e := s.checkCredentials(c, c.q.Get("grant_type"), c.q.Get("appid"), c.q.Get("secret")); e != nil {
		return nil, e
	}
	t := s.issueClassic(c.now)
	return tokenBody{t.value, int(tokenTTL / time.Second)}, nil
}

// issueClassic issues a classic token and gives the previous one 5 more minutes. s.mu is held.
func (s *Server) issueClassic(now time.Time) *token {
	if prev := s.classicLatest; prev != nil {
		d := now.Add(tokenOverlap)
		if d.After(prev.expires) {
			d = prev.expires
		}
		if prev.deadline.IsZero() || d.Before(prev.deadline) {
			prev.deadline = d
		}
	}
	t := s.issue(now, false)
	s.classicLatest = t
	s.tokenFetches++
	return t
}

// handleStableToken: POST /cgi-bin/stable_token with a JSON body. A separate
// pool: the same token for every caller until its last 5 minutes; force_refresh
// replaces it at once (20 a day, ignored within 30 s of the previous force).
func (s *Server) handleStableToken(c *call) (any, *apiError) {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if e := decodeJSON(c, &req); e != nil {
		return nil, e
	}
	if e := s.checkCredentials(c, req.GrantType, req.AppID, req.Secret); e != nil {
		return nil, e
	}
	cur := s.stableCur
	usable := cur != nil && !cur.revoked && c.now.Before(cur.expires)
	switch {
	case req.ForceRefresh && usable && c.now.Sub(s.lastForce) < forceGap:
		// A force within 30 s of the previous one is ignored: the current token comes back.
	case req.ForceRefresh:
		day := dayKey(c.now)
		if s.forces[day] >= forcePerDay {
			return nil, errc(45009)
		}
		s.forces[day]++
		s.lastForce = c.now
		if cur != nil {
			cur.revoked = true // force_refresh invalidates the previous token
		}
		s.stableCur = s.issue(c.now, true)
	case !usable || cur.expires.Sub(c.now) <= stableRenew:
		// Renewed in its last 5 minutes; the old one lives until its own expiry.
		s.stableCur = s.issue(c.now, true)
	}
	t := s.stableCur
	s.tokenFetches++
	left := int(t.expires.Sub(c.now) / time.Second)
	return tokenBody{t.value, left}, nil
}

// checkCredentials validates grant_type, appid, secret and the caller's IP.
func (s *Server) checkCredentials(c *call, grant, appid, secret string) *apiError {
	switch {
	case grant != "client_credential":
		return errc(40002)
	case appid == "":
		return errc(41002)
	case appid != s.cfg.AppID:
		return errc(40013)
	case secret == "":
		return errc(41004)
	case secret != s.cfg.Secret:
		return errc(40125)
	}
	if len(s.ips) > 0 {
		host, _, err := net.SplitHostPort(c.r.RemoteAddr)
		if err != nil {
			host = c.r.RemoteAddr
		}
		ip := net.ParseIP(host)
		for _, n := range s.ips {
			if ip != nil && n.Contains(ip) {
				return nil
			}
		}
		v6 := host
		if ip != nil && ip.To4() != nil {
			v6 = "::ffff:" + ip.To4().String()
		}
		return errMsgf(40164, "invalid ip %s ipv6 %s, not in whitelist", host, v6)
	}
	return nil
}

// issue creates a token and forgets long-dead ones. s.mu is held.
func (s *Server) issue(now time.Time, stable bool) *token {
	for v, t := range s.tokens {
		if now.Sub(t.expires) > tokenRetention {
			delete(s.tokens, v)
		}
	}
	prefix := "86_"
	if stable {
		prefix = "87_"
	}
	t := &token{value: prefix + randomID(150), stable: stable, expires: now.Add(tokenTTL)}
	s.tokens[t.value] = t
	return t
}

// checkToken validates the access_token of an API call:
// missing 41001, unknown/replaced/revoked 40001, expired 42001.
func (s *Server) checkToken(v string, now time.Time) *apiError {
	if v == "" {
		return errc(41001)
	}
	t := s.tokens[v]
	if t == nil || t.revoked {
		return errc(40001)
	}
	if !t.deadline.IsZero() && !now.Before(t.deadline) && t.deadline.Before(t.expires) {
		return errc(40001)
	}
	if !now.Before(t.expires) {
		return errc(42001)
	}
	return nil
}

// InvalidateTokens simulates another party refreshing with force: every token
// issued so far (classic and stable) answers 40001 from now on.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.revoked = true
	}
	s.classicLatest, s.stableCur = nil, nil
}

// TokenFetches counts token and stable_token calls that answered with a token
// (a stable_token call that returns the current token counts too).
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// IssueToken hands out a valid classic token without an HTTP call, for tests
// that are not about tokens. It counts as a token fetch and replaces the previous
// classic token like a real call.
func (s *Server) IssueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueClassic(s.clock.Now()).value
}
