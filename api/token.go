package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"kfdesk/api/clock"
)

// Token is an access token with the moment it stops being valid.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// TokenStore persists tokens between runs and processes (storage.DB implements it).
// The key names the account and token mode, e.g. "wx1234:stable".
type TokenStore interface {
	// LoadToken returns the zero Token when nothing is cached.
	LoadToken(ctx context.Context, key string) (Token, error)
	SaveToken(ctx context.Context, key string, t Token) error
}

// TokenSource hands out access tokens. Implementations must be safe for concurrent use.
type TokenSource interface {
	// Token returns a usable token, fetching one only when none is cached.
	Token(ctx context.Context) (string, error)
	// Refresh is called after WeChat rejected `failed`. It fetches a new token only if
	// `failed` is still the current one (compare-and-refresh), so 20 callers that saw
	// the same rejection cause one fetch, and returns the token to retry with.
	Refresh(ctx context.Context, failed string) (string, error)
}

// TokenMode selects where tokens come from.
type TokenMode string

const (
	// TokenStable uses cgi-bin/stable_token: every caller gets the same token, so several
	// desktops and a backend can share an account without logging each other out.
	TokenStable TokenMode = "stable"
	// TokenClassic uses cgi-bin/token; each fetch invalidates the previous token after ~5 min.
	TokenClassic TokenMode = "classic"
	// TokenURL asks the business's own token server: GET URL → {"access_token","expires_in"}.
	TokenURL TokenMode = "url"
	// TokenStatic uses a token pasted by the operator (Secret holds it).
	TokenStatic TokenMode = "static"
)

// TokenConfig describes how a Client obtains tokens.
type TokenConfig struct {
	Mode     TokenMode // default TokenStable
	AppID    string
	Secret   string // AppSecret; for TokenStatic the token itself
	URL      string // for TokenURL
	Store    TokenStore
	StoreKey string // default AppID + ":" + Mode
	Now      func() time.Time
}

// refreshMargin: a cached token this close to expiry is replaced. stable_token itself
// renews 5 minutes before expiry, so asking earlier would only return the same token.
const refreshMargin = 5 * time.Minute

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

func newTokenSource(c *Client, cfg TokenConfig) (TokenSource, error) {
	if cfg.Mode == "" {
		cfg.Mode = TokenStable
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.StoreKey == "" {
		cfg.StoreKey = cfg.AppID + ":" + string(cfg.Mode)
	}
	ct := &cachedTokens{store: cfg.Store, key: cfg.StoreKey, now: cfg.Now, sem: make(chan struct{}, 1)}
	fetchFrom := func(ctx context.Context, cl call) (Token, error) {
		var a tokenAnswer
		cl.out = &a
		cl.noAuth = true
		if err := c.do(ctx, cl); err != nil {
			return Token{}, err
		}
		if a.AccessToken == "" || a.ExpiresIn <= 0 {
			return Token{}, &Error{Kind: KindMalformed, Endpoint: cl.path, Err: errors.New("no access_token/expires_in in the answer")}
		}
		return Token{Value: a.AccessToken, ExpiresAt: cfg.Now().Add(time.Duration(a.ExpiresIn) * time.Second)}, nil
	}
	switch cfg.Mode {
	case TokenStable, TokenClassic:
		if cfg.AppID == "" || cfg.Secret == "" {
			return nil, errors.New("AppID and AppSecret are required for this token mode")
		}
	}
	switch cfg.Mode {
	case TokenStable:
		ct.fetch = func(ctx context.Context, force bool) (Token, error) {
			return fetchFrom(ctx, call{method: http.MethodPost, path: "/cgi-bin/stable_token", body: map[string]any{
				"grant_type": "client_credential", "appid": cfg.AppID, "secret": cfg.Secret, "force_refresh": force,
			}})
		}
	case TokenClassic:
		ct.fetch = func(ctx context.Context, _ bool) (Token, error) {
			q := url.Values{"grant_type": {"client_credential"}, "appid": {cfg.AppID}, "secret": {cfg.Secret}}
			return fetchFrom(ctx, call{method: http.MethodGet, path: "/cgi-bin/token", query: q})
		}
	case TokenURL:
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("invalid token URL")
		}
		ct.fetch = func(ctx context.Context, _ bool) (Token, error) {
			return fetchFrom(ctx, call{method: http.MethodGet, path: "token URL", fullURL: cfg.URL})
		}
	case TokenStatic:
		if cfg.Secret == "" {
			return nil, errors.New("paste an access token for the static token mode")
		}
		ct.store = nil // nothing to cache
		ct.fetch = func(context.Context, bool) (Token, error) {
			// A pasted token's lifetime is unknown; WeChat's 42001 will say when it ends.
			return Token{Value: cfg.Secret, ExpiresAt: cfg.Now().Add(100 * 365 * 24 * time.Hour)}, nil
		}
	default:
		return nil, fmt.Errorf("unknown token mode %q", cfg.Mode)
	}
	return ct, nil
}

// cachedTokens keeps the current token in memory and in the TokenStore, and fetches
// with at most one request in flight (the semaphore), so concurrent callers share it.
type cachedTokens struct {
	fetch func(ctx context.Context, force bool) (Token, error)
	store TokenStore
	key   string
	now   func() time.Time
	sem   chan struct{}
	cur   Token // guarded by sem
}

func (ct *cachedTokens) Token(ctx context.Context) (string, error) {
	t, err := ct.get(ctx, "")
	return t.Value, err
}

func (ct *cachedTokens) Refresh(ctx context.Context, failed string) (string, error) {
	t, err := ct.get(ctx, failed)
	return t.Value, err
}

func (ct *cachedTokens) usable(t Token, failed string) bool {
	return t.Value != "" && t.Value != failed && ct.now().Before(t.ExpiresAt.Add(-refreshMargin))
}

func (ct *cachedTokens) get(ctx context.Context, failed string) (Token, error) {
	select {
	case ct.sem <- struct{}{}:
	case <-ctx.Done():
		return Token{}, ctx.Err()
	}
	defer func() { <-ct.sem }()

	if ct.usable(ct.cur, failed) {
		return ct.cur, nil
	}
	// Another process (or an earlier run) may have fetched one already.
	if ct.store != nil {
		if t, err := ct.store.LoadToken(ctx, ct.key); err == nil && ct.usable(t, failed) {
			ct.cur = t
			return t, nil
		}
	}
	t, err := ct.fetch(ctx, false)
	if err != nil {
		return Token{}, err
	}
	if failed != "" && t.Value == failed {
		// The server still hands out the token it just rejected: ask for a new one.
		if t, err = ct.fetch(ctx, true); err != nil {
			return Token{}, err
		}
	}
	ct.cur = t
	if ct.store != nil {
		// A cache write failure only costs a fetch next run; the token itself is fine.
		_ = ct.store.SaveToken(ctx, ct.key, t)
	}
	return t, nil
}

// CurrentToken is the access token this client's calls use now, with when it
// expires — what kfdesk serve hands a desktop in the token URL mode (issue 11 §5).
// ExpiresAt is zero when the token source does not know it (a TokenSource of the caller's).
func (c *Client) CurrentToken(ctx context.Context) (Token, error) {
	if ct, ok := c.tokens.(*cachedTokens); ok {
		return ct.get(ctx, "")
	}
	v, err := c.tokens.Token(ctx)
	return Token{Value: v}, err
}
