// Package api speaks to the WeChat Official Account / Mini Program server API.
// It knows nothing of windows or databases: one Client per account, ctx first,
// typed requests and answers, and one error type (*Error) that explains itself.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// DefaultBaseURL is WeChat's API host; an account may point elsewhere (an API relay, the demo server).
const DefaultBaseURL = "https://api.weixin.qq.com"

// DefaultTimeout bounds every ordinary call; uploads get UploadTimeout.
const (
	DefaultTimeout = 20 * time.Second
	UploadTimeout  = 2 * time.Minute
)

// Options configure a Client.
type Options struct {
	BaseURL    string        // default DefaultBaseURL
	Timeout    time.Duration // default DefaultTimeout
	HTTPClient *http.Client  // optional, e.g. with a proxy
	Tokens     TokenConfig   // how to obtain access tokens
	// TokenSource overrides Tokens when set.
	TokenSource TokenSource
}

// Client is a WeChat API client for one account. It is safe for concurrent use.
type Client struct {
	http    *resty.Client
	baseURL string
	timeout time.Duration
	tokens  TokenSource
	secrets []string // values that must never appear in an error text
}

// New creates a Client.
func New(opts Options) (*Client, error) {
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid API base URL %q", base)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var rc *resty.Client
	if opts.HTTPClient != nil {
		rc = resty.NewWithClient(opts.HTTPClient)
	} else {
		rc = resty.New()
	}
	// Retries are the client's own business (token refresh); resty must not replay sends.
	rc.SetRetryCount(0).SetHeader("User-Agent", "kfdesk").SetRedirectPolicy(resty.NoRedirectPolicy())
	rc.SetPreRequestHook(func(_ *resty.Client, req *http.Request) error { wrapProgress(req); return nil })
	c := &Client{http: rc, baseURL: base, timeout: timeout}
	c.tokens = opts.TokenSource
	if c.tokens == nil {
		ts, err := newTokenSource(c, opts.Tokens)
		if err != nil {
			return nil, err
		}
		c.tokens = ts
	}
	if opts.Tokens.Secret != "" {
		c.secrets = append(c.secrets, opts.Tokens.Secret)
	}
	return c, nil
}

// BaseURL is the API host this client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// call describes one API request. JSON bodies are encoded once, so a retry sends the same bytes.
type call struct {
	method   string
	path     string
	query    url.Values
	body     any      // JSON body, or nil
	upload   *upload  // multipart body, or nil
	out      any      // where to decode the answer, or nil
	noAuth   bool     // token endpoints themselves
	fullURL  string   // absolute URL instead of baseURL+path (external token server)
	progress Progress // upload progress, or nil
}

// upload is a multipart file part; open is called again for a retry.
type upload struct {
	field    string
	filename string
	open     func() (io.Reader, error)
	fields   map[string]string
}

// do runs a call, refreshing the token once when WeChat rejects it.
func (c *Client) do(ctx context.Context, cl call) error {
	if cl.noAuth {
		return c.send(ctx, cl, "")
	}
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return c.tokenError(cl.path, err)
	}
	err = c.send(ctx, cl, tok)
	if !isTokenError(err) {
		return err
	}
	fresh, rerr := c.tokens.Refresh(ctx, tok)
	if rerr != nil {
		return c.tokenError(cl.path, rerr)
	}
	return c.send(ctx, cl, fresh)
}

func (c *Client) tokenError(path string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Kind: KindToken, Endpoint: path, Err: c.redactErr(err)}
}

// send performs one HTTP exchange and decodes the answer.
func (c *Client) send(ctx context.Context, cl call, token string) error {
	timeout := c.timeout
	if cl.upload != nil {
		timeout = UploadTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	r := c.http.R().SetContext(withProgress(ctx, cl.progress)).SetDoNotParseResponse(false)
	q := url.Values{}
	for k, v := range cl.query {
		q[k] = v
	}
	if token != "" {
		q.Set("access_token", token)
	}
	r.SetQueryParamsFromValues(q)
	if cl.body != nil {
		b, err := marshalJSON(cl.body)
		if err != nil {
			return &Error{Kind: KindMalformed, Endpoint: cl.path, Err: fmt.Errorf("encode request: %w", err)}
		}
		r.SetHeader("Content-Type", "application/json; charset=utf-8").SetBody(b)
	}
	if cl.upload != nil {
		rd, err := cl.upload.open()
		if err != nil {
			return err
		}
		r.SetFileReader(cl.upload.field, cl.upload.filename, rd)
		if len(cl.upload.fields) > 0 {
			r.SetMultipartFormData(cl.upload.fields)
		}
	}
	target := cl.fullURL
	if target == "" {
		target = c.baseURL + cl.path
	}
	resp, err := r.Execute(cl.method, target)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			err = errCanceled
		}
		return &Error{Kind: KindNetwork, Endpoint: cl.path, Err: c.redactErr(err, token)}
	}
	return decodeAnswer(cl.path, resp.StatusCode(), resp.Body(), cl.out, append([]string{token}, c.secrets...)...)
}

// decodeAnswer turns an HTTP answer into cl.out or an *Error. It never panics on bad
// input. What it quotes of the answer has secrets (the token and AppSecret of the
// request, anything named access_token or secret) replaced by ***: a gateway's error
// page often echoes the request URL, and error texts reach the screen and logs.
func decodeAnswer(path string, status int, body []byte, out any, secrets ...string) error {
	if status != http.StatusOK {
		return &Error{Kind: KindHTTP, Endpoint: path, Status: status, Msg: snippet(body, secrets...)}
	}
	body = bytes.TrimSpace(body)
	if !json.Valid(body) || len(body) == 0 || body[0] != '{' {
		return &Error{Kind: KindMalformed, Endpoint: path, Err: fmt.Errorf("not JSON: %s", snippet(body, secrets...))}
	}
	var env struct {
		ErrCode json.Number `json:"errcode"`
		ErrMsg  string      `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return &Error{Kind: KindMalformed, Endpoint: path, Err: fmt.Errorf("errcode: %v", err)}
	}
	if env.ErrCode != "" && env.ErrCode != "0" {
		code, err := env.ErrCode.Int64()
		if err != nil {
			return &Error{Kind: KindMalformed, Endpoint: path, Err: fmt.Errorf("errcode %q", env.ErrCode)}
		}
		return &Error{Kind: KindAPI, Code: int(code), Msg: redact(env.ErrMsg, secrets...), Endpoint: path}
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return &Error{Kind: KindMalformed, Endpoint: path, Err: fmt.Errorf("decode: %v", err)}
		}
	}
	return nil
}

// marshalJSON encodes like WeChat expects: raw UTF-8, no \u003c escaping of < > &
// (escaped mini-program links break), no trailing newline.
func marshalJSON(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// maxQuoted caps what an error quotes of an answer (in runes).
const maxQuoted = 120

// snippet is what an error quotes of an answer body: secrets redacted first (a token
// cut by the cap would no longer match), on one line, at most maxQuoted runes.
func snippet(b []byte, secrets ...string) string {
	s := redact(strings.ToValidUTF8(string(b), "?"), secrets...)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxQuoted {
		s = string(r[:maxQuoted]) + "…"
	}
	if s == "" {
		s = "empty body"
	}
	return s
}

// redactErr drops URLs (they carry access_token and, for cgi-bin/token, the secret)
// and any known secret from a transport error.
func (c *Client) redactErr(err error, extra ...string) error {
	if err == nil || errors.Is(err, errCanceled) {
		return err
	}
	var ue *url.Error
	msg := err.Error()
	if errors.As(err, &ue) {
		msg = ue.Op + ": " + ue.Err.Error()
		if ue.Timeout() {
			msg = "timeout"
		}
	}
	return errors.New(redact(msg, append(extra, c.secrets...)...))
}

// secretParam finds a value named access_token or …secret (appsecret, client_secret) in
// a URL (also percent-encoded: access_token%3D…), a form or JSON ("access_token":"…",
// also HTML-escaped).
var secretParam = regexp.MustCompile(`(?i)(access_token|secret)(` + quote + `?\s*(?:=|:|%3D)\s*` + quote + `?)[^&"'\s<>,;}]+`)

// quote is a quotation mark, also as HTML writes it.
const quote = `(?:["']|&#34;|&quot;)`

func redact(s string, secrets ...string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return secretParam.ReplaceAllString(s, "${1}${2}***")
}
