package wechattest_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kfdesk/api/wechattest"
)

const (
	pushToken = "kfdeskPushToken1"
	pushKey   = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
	ghID      = "gh_0123456789ab"
)

// got is one push as the test receiver saw and decoded it.
type got struct {
	method  string
	query   url.Values
	body    []byte
	ct      string
	plain   []byte // the decrypted message, or the body in plaintext mode
	appid   string // the appid inside the ciphertext
	sigOK   bool   // signature over token, timestamp, nonce
	msgSig  bool   // msg_signature over token, timestamp, nonce, Encrypt
	encrypt string
}

// receiver is a developer's push URL written for these tests: a minimal decoder of
// its own (sha1 of the sorted parts; AES-256-CBC, IV = key[:16]; random|len|msg|appid).
type receiver struct {
	t      *testing.T
	url    string
	key    []byte
	mu     sync.Mutex
	got    []got
	answer func(g got) (int, string) // default: 200 "success"
}

func newReceiver(t *testing.T) *receiver {
	k, err := base64.StdEncoding.DecodeString(pushKey + "=")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{t: t, key: k}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/wx/push"
	return rc
}

func sig(parts ...string) string {
	p := append([]string(nil), parts...)
	sort.Strings(p)
	h := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(h[:])
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q := r.URL.Query()
	g := got{method: r.Method, query: q, body: body, ct: r.Header.Get("Content-Type"), plain: body}
	g.sigOK = q.Get("signature") == sig(pushToken, q.Get("timestamp"), q.Get("nonce"))
	if q.Get("encrypt_type") == "aes" {
		var env struct {
			Encrypt string `xml:"Encrypt" json:"Encrypt"`
		}
		if bytes.HasPrefix(body, []byte("{")) {
			_ = json.Unmarshal(body, &env)
		} else {
			_ = xml.Unmarshal(body, &env)
		}
		g.encrypt = env.Encrypt
		g.msgSig = q.Get("msg_signature") == sig(pushToken, q.Get("timestamp"), q.Get("nonce"), env.Encrypt)
		g.plain, g.appid = rc.decrypt(env.Encrypt)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, g)
	answer := rc.answer
	rc.mu.Unlock()
	if r.Method == http.MethodGet {
		if !g.sigOK {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, q.Get("echostr"))
		return
	}
	status, text := 200, "success"
	if answer != nil {
		status, text = answer(g)
	}
	if status < 0 { // hang until WeChat gives up on us
		<-r.Context().Done()
		return
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

func (rc *receiver) decrypt(enc string) ([]byte, string) {
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(ct)%32 != 0 || len(ct) == 0 {
		rc.t.Errorf("ciphertext of %d bytes (must be whole 32-byte blocks): %v", len(ct), err)
		return nil, ""
	}
	b, _ := aes.NewCipher(rc.key)
	cipher.NewCBCDecrypter(b, rc.key[:16]).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	ct = ct[:len(ct)-pad]
	n := binary.BigEndian.Uint32(ct[16:20])
	return ct[20 : 20+n], string(ct[20+n:])
}

// encrypt builds what a developer's server answers in safe mode.
func (rc *receiver) encrypt(msg, appid string) string {
	buf := append([]byte("0123456789abcdef"), binary.BigEndian.AppendUint32(nil, uint32(len(msg)))...)
	buf = append(append(buf, msg...), appid...)
	pad := 32 - len(buf)%32
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	b, _ := aes.NewCipher(rc.key)
	cipher.NewCBCEncrypter(b, rc.key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

func (rc *receiver) last() got {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) == 0 {
		rc.t.Fatal("the receiver got nothing")
	}
	return rc.got[len(rc.got)-1]
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func (rc *receiver) setAnswer(f func(g got) (int, string)) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

// pusher makes a Pusher to rc with a fixed random source.
func (e *env) pusher(rc *receiver, mode wechattest.PushMode, format wechattest.PushFormat, mod ...func(*wechattest.PushConfig)) *wechattest.Pusher {
	e.t.Helper()
	cfg := wechattest.PushConfig{URL: rc.url, Token: pushToken, EncodingAESKey: pushKey, Mode: mode, Format: format,
		OriginalID: ghID, Rand: rand.NewChaCha8([32]byte{7}), Timeout: time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := e.srv.NewPusher(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	return p
}

func (e *env) push(p *wechattest.Pusher, m wechattest.Message) wechattest.Delivery {
	e.t.Helper()
	d, err := p.Push(context.Background(), m)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func TestPushVerifyURL(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	v := e.pusher(rc, wechattest.PushSafe, wechattest.PushXML).VerifyURL(context.Background())
	g := rc.last()
	if !v.OK || g.method != "GET" || !g.sigOK || g.query.Get("echostr") != v.EchoStr || v.EchoStr == "" {
		t.Fatalf("verification %+v, receiver saw %+v", v, g)
	}
	if g.query.Get("encrypt_type") != "" || g.query.Get("msg_signature") != "" {
		t.Errorf("GET carries %v; echostr is plaintext in every mode", g.query)
	}
	// A console with another token: the receiver refuses, the check fails.
	v = e.pusher(rc, wechattest.PushSafe, wechattest.PushXML, func(c *wechattest.PushConfig) { c.Token = "wrongtoken" }).
		VerifyURL(context.Background())
	if v.OK || v.Status != 403 || !strings.Contains(v.Reason, "403") {
		t.Errorf("wrong token verified: %+v", v)
	}
}

func TestPushConfigChecks(t *testing.T) {
	e := newEnv(t)
	for name, cfg := range map[string]wechattest.PushConfig{
		"short token":    {URL: "http://127.0.0.1/x", Token: "ab"},
		"long token":     {URL: "http://127.0.0.1/x", Token: strings.Repeat("t", 33)},
		"no URL":         {Token: "abc"},
		"safe, no key":   {URL: "http://127.0.0.1/x", Token: "abc", Mode: wechattest.PushSafe},
		"key 42 chars":   {URL: "http://127.0.0.1/x", Token: "abc", Mode: wechattest.PushSafe, EncodingAESKey: pushKey[:42]},
		"key padded '='": {URL: "http://127.0.0.1/x", Token: "abc", Mode: wechattest.PushSafe, EncodingAESKey: pushKey + "="},
	} {
		if _, err := e.srv.NewPusher(cfg); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// Each mode and format sends what the push doc shows: the query parameters, the
// body's shape, and a plaintext equal to the message.
func TestPushModesAndFormats(t *testing.T) {
	modes := []wechattest.PushMode{wechattest.PushPlaintext, wechattest.PushCompatible, wechattest.PushSafe}
	for _, kind := range []wechattest.Kind{wechattest.OfficialAccount, wechattest.MiniProgram} {
		for _, format := range []wechattest.PushFormat{wechattest.PushXML, wechattest.PushJSON} {
			for _, mode := range modes {
				t.Run(fmt.Sprintf("%s/%d/%d", kind, format, mode), func(t *testing.T) {
					e := newEnv(t, func(c *wechattest.Config) { c.Kind = kind })
					rc := newReceiver(t)
					d := e.push(e.pusher(rc, mode, format), wechattest.Text(alice, "你好 <b>&]]>"))
					g := rc.last()
					jsonOut := kind == wechattest.MiniProgram && format == wechattest.PushJSON // an OA is XML only
					wantPlain := "<xml><ToUserName><![CDATA[" + ghID + "]]></ToUserName>\n<FromUserName><![CDATA[" + alice +
						"]]></FromUserName>\n<CreateTime>" + fmt.Sprint(t0.Unix()) + "</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n" +
						"<Content><![CDATA[你好 <b>&]]]]><![CDATA[>]]></Content>\n<MsgId>" + d.Message.MsgID + "</MsgId>\n</xml>"
					if jsonOut {
						wantPlain = `{"ToUserName":"` + ghID + `","FromUserName":"` + alice + `","CreateTime":` + fmt.Sprint(t0.Unix()) +
							`,"MsgType":"text","Content":"你好 <b>&]]>","MsgId":` + d.Message.MsgID + `}`
					}
					if string(g.plain) != wantPlain || string(d.Plain) != wantPlain {
						t.Errorf("plaintext\n got %s\nwant %s", g.plain, wantPlain)
					}
					if !g.sigOK || g.query.Get("openid") != alice || g.method != "POST" {
						t.Errorf("signature %v, query %v", g.sigOK, g.query)
					}
					if wantCT := map[bool]string{true: "application/json", false: "text/xml"}[jsonOut]; g.ct != wantCT {
						t.Errorf("content-type %q, want %q", g.ct, wantCT)
					}
					if mode == wechattest.PushPlaintext {
						if g.query.Has("encrypt_type") || g.query.Has("msg_signature") || bytes.Contains(g.body, []byte("Encrypt")) {
							t.Errorf("plaintext push carries encryption: %v %s", g.query, g.body)
						}
						return
					}
					if g.query.Get("encrypt_type") != "aes" || !g.msgSig || g.appid != appID {
						t.Errorf("encrypted push: encrypt_type %q, msg_signature ok %v, appid %q", g.query.Get("encrypt_type"), g.msgSig, g.appid)
					}
					wantBody := "<xml><ToUserName><![CDATA[" + ghID + "]]></ToUserName>\n<Encrypt><![CDATA[" + g.encrypt + "]]></Encrypt>\n</xml>"
					if jsonOut {
						wantBody = `{"ToUserName":"` + ghID + `","Encrypt":"` + g.encrypt + `"}`
					}
					if mode == wechattest.PushCompatible { // the plaintext fields and Encrypt, about 3× the size
						wantBody = strings.TrimSuffix(wantPlain, "</xml>") + "<Encrypt><![CDATA[" + g.encrypt + "]]></Encrypt>\n</xml>"
						if jsonOut {
							wantBody = strings.TrimSuffix(wantPlain, "}") + `,"Encrypt":"` + g.encrypt + `"}`
						}
					}
					if string(g.body) != wantBody {
						t.Errorf("body\n got %s\nwant %s", g.body, wantBody)
					}
				})
			}
		}
	}
}

// Each documented message and event, as the receive-message docs lay it out.
func TestPushMessageBodies(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	p := e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML)
	head := func(typ string) string {
		return "<xml><ToUserName><![CDATA[" + ghID + "]]></ToUserName>\n<FromUserName><![CDATA[" + alice +
			"]]></FromUserName>\n<CreateTime>" + fmt.Sprint(t0.Unix()) + "</CreateTime>\n<MsgType><![CDATA[" + typ + "]]></MsgType>\n"
	}
	cd := func(name, v string) string { return "<" + name + "><![CDATA[" + v + "]]></" + name + ">\n" }
	num := func(name, v string) string { return "<" + name + ">" + v + "</" + name + ">\n" }
	cases := []struct {
		name string
		m    wechattest.Message
		want func(d wechattest.Delivery, media []string) string
	}{
		{"voice with recognition", wechattest.Voice(alice, nil, "腾讯微信团队"), func(d wechattest.Delivery, m []string) string {
			return head("voice") + cd("MediaId", m[0]) + cd("Format", "amr") + cd("Recognition", "腾讯微信团队") + num("MsgId", d.Message.MsgID) + "</xml>"
		}},
		{"video", wechattest.Video(alice, nil, nil), func(d wechattest.Delivery, m []string) string {
			return head("video") + cd("MediaId", m[0]) + cd("ThumbMediaId", m[1]) + num("MsgId", d.Message.MsgID) + "</xml>"
		}},
		{"shortvideo", wechattest.ShortVideo(alice, nil, nil), func(d wechattest.Delivery, m []string) string {
			return head("shortvideo") + cd("MediaId", m[0]) + cd("ThumbMediaId", m[1]) + num("MsgId", d.Message.MsgID) + "</xml>"
		}},
		{"location", wechattest.Location(alice, "23.134521", "113.358803", 20, "广州市天河区"), func(d wechattest.Delivery, m []string) string {
			return head("location") + num("Location_X", "23.134521") + num("Location_Y", "113.358803") + num("Scale", "20") +
				cd("Label", "广州市天河区") + num("MsgId", d.Message.MsgID) + "</xml>"
		}},
		{"link", wechattest.Link(alice, "标题", "描述", "https://example.com/a?b=1&c=2"), func(d wechattest.Delivery, m []string) string {
			return head("link") + cd("Title", "标题") + cd("Description", "描述") + cd("Url", "https://example.com/a?b=1&c=2") +
				num("MsgId", d.Message.MsgID) + "</xml>"
		}},
		{"follow by QR", wechattest.Subscribe(alice, "123"), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "subscribe") + cd("EventKey", "qrscene_123") + cd("Ticket", d.Message.Ticket) + "</xml>"
		}},
		{"SCAN", wechattest.Scan(alice, "123"), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "SCAN") + cd("EventKey", "123") + cd("Ticket", d.Message.Ticket) + "</xml>"
		}},
		{"CLICK", wechattest.Click(alice, "V1001_GOOD"), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "CLICK") + cd("EventKey", "V1001_GOOD") + "</xml>"
		}},
		{"VIEW", wechattest.View(alice, "https://example.com/"), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "VIEW") + cd("EventKey", "https://example.com/") + "</xml>"
		}},
		{"kf_create_session", wechattest.KFCreateSession(alice, "kf1@"+weChatID), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "kf_create_session") + cd("KfAccount", "kf1@"+weChatID) + "</xml>"
		}},
		{"kf_switch_session", wechattest.KFSwitchSession(alice, "kf1@"+weChatID, "kf2@"+weChatID), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "kf_switch_session") + cd("FromKfAccount", "kf1@"+weChatID) + cd("ToKfAccount", "kf2@"+weChatID) + "</xml>"
		}},
		{"kf_close_session", wechattest.KFCloseSession(alice, "kf2@"+weChatID), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "kf_close_session") + cd("KfAccount", "kf2@"+weChatID) + "</xml>"
		}},
		{"unsubscribe", wechattest.Unsubscribe(alice), func(d wechattest.Delivery, m []string) string {
			return head("event") + cd("Event", "unsubscribe") + "</xml>"
		}},
	}
	idRE := func(b []byte) []string {
		var ids []string
		for _, tag := range []string{"<MediaId><![CDATA[", "<ThumbMediaId><![CDATA["} {
			if _, rest, ok := bytes.Cut(b, []byte(tag)); ok {
				id, _, _ := bytes.Cut(rest, []byte("]]>"))
				ids = append(ids, string(id))
			}
		}
		return ids
	}
	for _, tc := range cases {
		d := e.push(p, tc.m)
		g := rc.last()
		if want := tc.want(d, idRE(g.plain)); string(g.plain) != want {
			t.Errorf("%s\n got %q\nwant %q", tc.name, g.plain, want)
		}
		if d.Verdict != wechattest.Accepted {
			t.Errorf("%s: %s %s", tc.name, d.Verdict, d.Reason)
		}
	}
	// An event carries no MsgId; each message a distinct 64-bit one beyond 2^53.
	if ds := p.Deliveries(); ds[0].Message.MsgID == ds[1].Message.MsgID || len(ds[0].Message.MsgID) < 17 || ds[5].Message.MsgID != "" {
		t.Errorf("MsgIds %q %q %q", ds[0].Message.MsgID, ds[1].Message.MsgID, ds[5].Message.MsgID)
	}
	// A Mini Program pushes only its customer-service types; an OA none of the MP ones.
	if _, err := p.Push(context.Background(), wechattest.EnterTempSession(alice, "x")); err == nil {
		t.Error("an OA pushed user_enter_tempsession")
	}
	if _, err := p.Push(context.Background(), wechattest.MiniProgramPage(alice, "t", "wxapp", "pages/a", nil)); err == nil {
		t.Error("an OA pushed miniprogrampage")
	}
}

func TestPushMiniProgramJSONBodies(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Kind = wechattest.MiniProgram })
	rc := newReceiver(t)
	p := e.pusher(rc, wechattest.PushSafe, wechattest.PushJSON)
	head := `{"ToUserName":"` + ghID + `","FromUserName":"` + alice + `","CreateTime":` + fmt.Sprint(t0.Unix())
	d := e.push(p, wechattest.MiniProgramPage(alice, "商品", appID, "pages/item?id=1", nil))
	var thumb struct{ ThumbMediaId string }
	_ = json.Unmarshal(rc.last().plain, &thumb)
	want := head + `,"MsgType":"miniprogrampage","MsgId":` + d.Message.MsgID + `,"Title":"商品","AppId":"` + appID +
		`","PagePath":"pages/item?id=1","ThumbUrl":"","ThumbMediaId":"` + thumb.ThumbMediaId + `"}`
	if got := string(rc.last().plain); got != want {
		t.Errorf("miniprogrampage\n got %s\nwant %s", got, want)
	}
	e.push(p, wechattest.EnterTempSession(alice, "from-button"))
	want = head + `,"MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"from-button"}`
	if got := string(rc.last().plain); got != want {
		t.Errorf("user_enter_tempsession\n got %s\nwant %s", got, want)
	}
	// MsgId is a bare JSON number beyond 2^53: a float64 decoder would lose it.
	e.push(p, wechattest.Image(alice, nil))
	var n struct{ MsgId json.Number }
	dec := json.NewDecoder(bytes.NewReader(rc.last().plain))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil || n.MsgId.String() != p.Deliveries()[2].Message.MsgID {
		t.Errorf("MsgId %q: %v", n.MsgId, err)
	}
	for _, m := range []wechattest.Message{wechattest.Voice(alice, nil, ""), wechattest.Click(alice, "k"), wechattest.Subscribe(alice, "")} {
		if _, err := p.Push(context.Background(), m); err == nil {
			t.Errorf("a Mini Program pushed %s %s", m.MsgType, m.Event)
		}
	}
}

// WeChat waits Timeout for each attempt, retries 3 times with the same message, then
// gives up; the FakeClock moves 5 s per timed-out attempt as WeChat's would.
func TestPushRetriesThenGivesUp(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	rc.setAnswer(func(got) (int, string) { return -1, "" }) // never answers
	p := e.pusher(rc, wechattest.PushSafe, wechattest.PushXML, func(c *wechattest.PushConfig) { c.Timeout = 30 * time.Millisecond })
	d := e.push(p, wechattest.Text(alice, "在吗"))
	if d.Verdict != wechattest.NoAnswer || len(d.Attempts) != 4 || rc.count() != 4 || !strings.Contains(d.Reason, "timeout") {
		t.Fatalf("verdict %s after %d attempts (receiver saw %d): %s", d.Verdict, len(d.Attempts), rc.count(), d.Reason)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	nonces := map[string]bool{}
	for i, g := range rc.got {
		if !bytes.Equal(g.plain, rc.got[0].plain) || !g.msgSig {
			t.Errorf("attempt %d carries another message or a bad signature: %s", i+1, g.plain)
		}
		if ts := g.query.Get("timestamp"); ts != fmt.Sprint(t0.Add(time.Duration(i)*5*time.Second).Unix()) {
			t.Errorf("attempt %d at timestamp %s", i+1, ts)
		}
		nonces[g.query.Get("nonce")] = true
	}
	if len(nonces) != 4 {
		t.Errorf("nonces %v: each attempt is signed afresh", nonces)
	}
	if !bytes.Contains(rc.got[0].plain, []byte("<MsgId>"+d.Message.MsgID+"</MsgId>")) {
		t.Errorf("MsgId %s not in %s", d.Message.MsgID, rc.got[0].plain)
	}
}

func TestPushRetryAfterFailureThenAccepted(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	rc.setAnswer(func(got) (int, string) {
		if rc.count() < 3 {
			return 502, "bad gateway"
		}
		return 200, ""
	})
	d := e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML), wechattest.Text(alice, "hi"))
	if d.Verdict != wechattest.Accepted || len(d.Attempts) != 3 || d.Attempts[0].Status != 502 || d.Attempts[2].Status != 200 {
		t.Fatalf("verdict %s, attempts %+v", d.Verdict, d.Attempts)
	}
	// No retries configured: one attempt only.
	rc.setAnswer(func(got) (int, string) { return 500, "" })
	d = e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML, func(c *wechattest.PushConfig) { c.Retries = -1 }), wechattest.Text(alice, "hi"))
	if d.Verdict != wechattest.NoAnswer || len(d.Attempts) != 1 {
		t.Fatalf("verdict %s after %d attempts", d.Verdict, len(d.Attempts))
	}
}

// passive builds an OA passive reply to alice.
func passive(inner string) string {
	return "<xml><ToUserName><![CDATA[" + alice + "]]></ToUserName><FromUserName><![CDATA[" + ghID +
		"]]></FromUserName><CreateTime>1764567890</CreateTime>" + inner + "</xml>"
}

func TestPushReplies(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	img := e.srv.AddMedia("image", jpegBytes(t, 8), t0)
	textReply := passive("<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[您好]]></Content>")
	envelope := func(enc, ts, nonce, sign string) string {
		return "<xml><Encrypt><![CDATA[" + enc + "]]></Encrypt><MsgSignature><![CDATA[" + sign + "]]></MsgSignature><TimeStamp>" +
			ts + "</TimeStamp><Nonce><![CDATA[" + nonce + "]]></Nonce></xml>"
	}
	sealed := func(msg, appid string) func(got) (int, string) {
		return func(g got) (int, string) {
			enc := rc.encrypt(msg, appid)
			return 200, envelope(enc, "1764567890", g.query.Get("nonce"), sig(pushToken, "1764567890", g.query.Get("nonce"), enc))
		}
	}
	plain := func(s string) func(got) (int, string) { return func(got) (int, string) { return 200, s } }
	cases := []struct {
		name    string
		mode    wechattest.PushMode
		answer  func(got) (int, string)
		verdict wechattest.Verdict
		reason  string // part of Reason
		typ     string
	}{
		{"success", wechattest.PushSafe, plain("success"), wechattest.Accepted, "", ""},
		{"empty", wechattest.PushSafe, plain(""), wechattest.Accepted, "", ""},
		{"success with a newline", wechattest.PushPlaintext, plain("success\n"), wechattest.Rejected, "not success, empty", ""},
		{"plaintext text reply", wechattest.PushPlaintext, plain(textReply), wechattest.PassiveReply, "", "text"},
		{"compatible takes plaintext", wechattest.PushCompatible, plain(textReply), wechattest.PassiveReply, "", "text"},
		{"compatible takes encrypted", wechattest.PushCompatible, sealed(textReply, appID), wechattest.PassiveReply, "", "text"},
		{"safe encrypted text reply", wechattest.PushSafe, sealed(textReply, appID), wechattest.PassiveReply, "", "text"},
		{"safe refuses plaintext", wechattest.PushSafe, plain(textReply), wechattest.Rejected, "plaintext reply in safe mode", ""},
		{"plaintext refuses encrypted", wechattest.PushPlaintext, sealed(textReply, appID), wechattest.Rejected, "encrypted reply in plaintext mode", ""},
		{"wrong appid", wechattest.PushSafe, sealed(textReply, "wxsomeoneelse00001"), wechattest.Rejected, `appid "wxsomeoneelse00001"`, ""},
		{"wrong MsgSignature", wechattest.PushSafe, func(g got) (int, string) {
			enc := rc.encrypt(textReply, appID)
			return 200, envelope(enc, "1764567890", g.query.Get("nonce"), sig("othertoken", "1764567890", g.query.Get("nonce"), enc))
		}, wechattest.Rejected, "MsgSignature does not match", ""},
		{"request signature reused as MsgSignature", wechattest.PushSafe, func(g got) (int, string) {
			return 200, envelope(rc.encrypt(textReply, appID), g.query.Get("timestamp"), g.query.Get("nonce"), g.query.Get("signature"))
		}, wechattest.Rejected, "MsgSignature does not match", ""},
		{"envelope without TimeStamp", wechattest.PushSafe, func(g got) (int, string) {
			enc := rc.encrypt(textReply, appID)
			return 200, "<xml><Encrypt><![CDATA[" + enc + "]]></Encrypt><MsgSignature>x</MsgSignature><Nonce>1</Nonce></xml>"
		}, wechattest.Rejected, "no TimeStamp", ""},
		{"garbage ciphertext", wechattest.PushSafe, func(g got) (int, string) {
			enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 48))
			return 200, envelope(enc, "1", "2", sig(pushToken, "1", "2", enc))
		}, wechattest.Rejected, "cannot decrypt", ""},
		{"JSON to an OA", wechattest.PushPlaintext, plain(`{"errcode":0}`), wechattest.Rejected, "JSON answer", ""},
		{"malformed XML", wechattest.PushPlaintext, plain("<xml><ToUserName>"), wechattest.Rejected, "malformed XML", ""},
		{"wrong root", wechattest.PushPlaintext, plain("<reply/>"), wechattest.Rejected, "root is <reply>", ""},
		{"wrong ToUserName", wechattest.PushPlaintext, plain(strings.Replace(textReply, alice, bob, 1)), wechattest.Rejected, "ToUserName", "text"},
		{"FromUserName not the gh_ id", wechattest.PushPlaintext, plain(strings.Replace(textReply, ghID, weChatID, 1)), wechattest.Rejected, "FromUserName", "text"},
		{"empty Content", wechattest.PushPlaintext, plain(passive("<MsgType><![CDATA[text]]></MsgType><Content></Content>")), wechattest.Rejected, "empty Content", "text"},
		{"image reply", wechattest.PushPlaintext, plain(passive("<MsgType>image</MsgType><Image><MediaId>" + img + "</MediaId></Image>")), wechattest.PassiveReply, "", "image"},
		{"image reply, unknown media", wechattest.PushPlaintext, plain(passive("<MsgType>image</MsgType><Image><MediaId>nope</MediaId></Image>")), wechattest.Rejected, "not a live media_id", "image"},
		{"news with 2 items", wechattest.PushPlaintext, plain(passive("<MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item><Title>a</Title></item><item><Title>b</Title></item></Articles>")), wechattest.PassiveReply, "", "news"},
		{"news count mismatch", wechattest.PushPlaintext, plain(passive("<MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item/></Articles>")), wechattest.Rejected, "ArticleCount", "news"},
		{"unknown MsgType", wechattest.PushPlaintext, plain(passive("<MsgType>sticker</MsgType>")), wechattest.Rejected, "unknown reply MsgType", "sticker"},
		{"transfer to an unknown KF", wechattest.PushPlaintext, plain(passive("<MsgType>transfer_customer_service</MsgType><TransInfo><KfAccount>ghost@x</KfAccount></TransInfo>")), wechattest.Rejected, "unknown KfAccount", "transfer_customer_service"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc.setAnswer(tc.answer)
			d := e.push(e.pusher(rc, tc.mode, wechattest.PushXML), wechattest.Text(alice, "hi"))
			if d.Verdict != tc.verdict || !strings.Contains(d.Reason, tc.reason) || d.ReplyType != tc.typ {
				t.Fatalf("verdict %s (%s) type %q, want %s (%s) %q", d.Verdict, d.Reason, d.ReplyType, tc.verdict, tc.reason, tc.typ)
			}
			if len(d.Attempts) != 1 {
				t.Errorf("%d attempts: an answered push is not retried", len(d.Attempts))
			}
			if tc.verdict == wechattest.PassiveReply && tc.typ == "text" && !bytes.Contains(d.Reply, []byte("您好")) {
				t.Errorf("reply %q", d.Reply)
			}
		})
	}
}

// A Mini Program replies only by handing over to customer service, in XML or (JSON
// format) JSON, encrypted in safe mode; the customer then waits for a KF.
func TestPushMiniProgramReplies(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Kind = wechattest.MiniProgram })
	rc := newReceiver(t)
	transferJSON := `{"ToUserName":"` + alice + `","FromUserName":"` + ghID + `","CreateTime":1764567890,"MsgType":"transfer_customer_service"}`
	rc.setAnswer(func(g got) (int, string) {
		enc := rc.encrypt(transferJSON, appID)
		b, _ := json.Marshal(map[string]any{"Encrypt": enc, "MsgSignature": sig(pushToken, "1764567890", "42", enc), "TimeStamp": 1764567890, "Nonce": "42"})
		return 200, string(b)
	})
	d := e.push(e.pusher(rc, wechattest.PushSafe, wechattest.PushJSON), wechattest.Text(alice, "转人工"))
	if d.Verdict != wechattest.PassiveReply || d.ReplyType != "transfer_customer_service" || string(d.Reply) != transferJSON {
		t.Fatalf("verdict %s %q: %s", d.Verdict, d.ReplyType, d.Reason)
	}
	rc.setAnswer(func(g got) (int, string) {
		enc := rc.encrypt(transferJSON, appID)
		return 200, `{"Encrypt":"` + enc + `","MsgSignature":"` + sig(pushToken, "1764567890", "42", enc) + `","TimeStamp":"1764567890","Nonce":"42"}`
	})
	if d := e.push(e.pusher(rc, wechattest.PushSafe, wechattest.PushJSON), wechattest.Text(alice, "x")); d.Verdict != wechattest.Rejected ||
		!strings.Contains(d.Reason, "TimeStamp must be a number") {
		t.Errorf("a string TimeStamp: %s %s", d.Verdict, d.Reason)
	}
	rc.setAnswer(func(got) (int, string) {
		return 200, passive("<MsgType>text</MsgType><Content>hi</Content>")
	})
	if d := e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML), wechattest.Text(alice, "x")); d.Verdict != wechattest.Rejected ||
		!strings.Contains(d.Reason, "only transfer_customer_service") {
		t.Errorf("a Mini Program text reply: %s %s", d.Verdict, d.Reason)
	}
}

func TestPushTransferQueuesTheCustomer(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	rc.setAnswer(func(got) (int, string) {
		return 200, passive("<MsgType><![CDATA[transfer_customer_service]]></MsgType>")
	})
	d := e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML), wechattest.Text(alice, "转人工"))
	if d.Verdict != wechattest.PassiveReply {
		t.Fatalf("%s %s", d.Verdict, d.Reason)
	}
	r := e.apiGet("/customservice/kfsession/getwaitcase", nil)
	if r.num("count") != 1 || !strings.Contains(string(r.raw), alice) {
		t.Errorf("wait cases: %s", r.raw)
	}
	// Events are never handed over ("只针对微信用户发来的消息才进行转发").
	d = e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML), wechattest.Click(alice, "K"))
	if d.Verdict != wechattest.Rejected || !strings.Contains(d.Reason, "event") {
		t.Errorf("transfer of an event: %s %s", d.Verdict, d.Reason)
	}
	// kf_create_session takes the customer out of the queue into a session.
	rc.setAnswer(nil)
	e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML), wechattest.KFCreateSession(alice, "kf1@"+weChatID))
	if r := e.apiGet("/customservice/kfsession/getwaitcase", nil); r.num("count") != 0 {
		t.Errorf("still waiting: %s", r.raw)
	}
	if r := e.apiGet("/customservice/kfsession/getsession", url.Values{"openid": {alice}}); r.str("kf_account") != "kf1@"+weChatID {
		t.Errorf("session: %s", r.raw)
	}
}

// Pushed media is served by media/get for 3 days, then 40007.
func TestPushMediaGet(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	p := e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML)
	jpg := jpegBytes(t, 16)
	mediaID := func(tag string) string {
		_, rest, _ := strings.Cut(string(rc.last().plain), "<"+tag+"><![CDATA[")
		id, _, _ := strings.Cut(rest, "]]>")
		return id
	}
	fetch := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	get := func(id string) (*http.Response, []byte) {
		return fetch(e.url("/cgi-bin/media/get", e.authed(url.Values{"media_id": {id}})))
	}

	e.push(p, wechattest.Image(alice, jpg))
	img, picURL := mediaID("MediaId"), mediaID("PicUrl")
	resp, b := get(img)
	if !bytes.Equal(b, jpg) || resp.Header.Get("Content-Type") != "image/jpeg" ||
		resp.Header.Get("Content-disposition") != `attachment; filename="`+img+`.jpg"` {
		t.Fatalf("image: %d bytes, headers %v", len(b), resp.Header)
	}
	if _, b := fetch(picURL); !bytes.Equal(b, jpg) {
		t.Errorf("PicUrl %s served %d bytes", picURL, len(b))
	}

	e.push(p, wechattest.Voice(alice, amrData, ""))
	if resp, b := get(mediaID("MediaId")); !bytes.Equal(b, amrData) || resp.Header.Get("Content-Type") != "audio/amr" {
		t.Errorf("voice: %d bytes, %q", len(b), resp.Header.Get("Content-Type"))
	}

	e.push(p, wechattest.ShortVideo(alice, mp4Data, jpg))
	video, thumb := mediaID("MediaId"), mediaID("ThumbMediaId")
	_, b = get(video) // a video answers {"video_url"}
	var v struct {
		VideoURL string `json:"video_url"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.VideoURL == "" {
		t.Fatalf("video: %s", b)
	}
	if _, b := fetch(v.VideoURL); !bytes.Equal(b, mp4Data) {
		t.Errorf("video_url served %d bytes", len(b))
	}
	if _, b := get(thumb); !bytes.Equal(b, jpg) {
		t.Errorf("thumb: %d bytes", len(b))
	}

	e.advance(3*24*time.Hour - time.Second)
	if _, b := get(img); !bytes.Equal(b, jpg) {
		t.Errorf("expired early: %s", b)
	}
	e.advance(time.Second)
	for _, id := range []string{img, video, thumb} {
		resp, b := get(id)
		r := result{t: t, status: resp.StatusCode, ct: resp.Header.Get("Content-Type"), raw: b}
		_ = json.Unmarshal(b, &r.m)
		r.is(40007)
	}
	if resp, _ := fetch(picURL); resp.StatusCode != 404 {
		t.Errorf("expired PicUrl: %d", resp.StatusCode)
	}
	e.apiGet("/cgi-bin/media/get", url.Values{"media_id": {"unknown"}}).is(40007)
	e.apiGet("/cgi-bin/media/get", nil).is(41006)
	e.get("/cgi-bin/media/get", url.Values{"media_id": {img}}).is(41001)
}

// Pushes drive the fake's reply windows as WeChat's: a message opens 5 sends in 48 h,
// CLICK/SCAN/subscribe 3 within a minute, a Mini Program user entering 2 within a minute.
func TestPushReplyWindows(t *testing.T) {
	sendN := func(e *env, to string, n int) (codes []int) {
		for range n {
			codes = append(codes, e.send(text(to, "回复")).code())
		}
		return codes
	}
	t.Run("message", func(t *testing.T) {
		e := newEnv(t)
		rc := newReceiver(t)
		p := e.pusher(rc, wechattest.PushSafe, wechattest.PushXML)
		e.send(text(alice, "x")).is(40003) // never heard of
		e.push(p, wechattest.Text(alice, "你好"))
		if got := fmt.Sprint(sendN(e, alice, 6)); got != "[0 0 0 0 0 45047]" {
			t.Errorf("sends after a message: %s", got)
		}
		e.push(p, wechattest.Image(alice, nil)) // a new message resets the count
		e.advance(48*time.Hour - time.Second)
		e.send(text(alice, "x")).ok()
		e.advance(time.Second)
		e.send(text(alice, "x")).is(45015)
		// The window counts from CreateTime, not from the delivery.
		m := wechattest.Text(alice, "old")
		m.CreateTime = e.clock.Now().Add(-48 * time.Hour)
		e.push(p, m)
		e.send(text(alice, "x")).is(45015)
	})
	t.Run("click, scan, subscribe", func(t *testing.T) {
		e := newEnv(t)
		rc := newReceiver(t)
		p := e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML)
		e.push(p, wechattest.Subscribe(alice, ""))
		if got := fmt.Sprint(sendN(e, alice, 4)); got != "[0 0 0 45047]" {
			t.Errorf("after subscribe: %s", got)
		}
		e.advance(time.Minute)
		e.send(text(alice, "x")).is(45015)
		e.push(p, wechattest.Click(alice, "MENU_1"))
		e.advance(59 * time.Second)
		if got := fmt.Sprint(sendN(e, alice, 4)); got != "[0 0 0 45047]" {
			t.Errorf("after CLICK: %s", got)
		}
		e.push(p, wechattest.Scan(alice, "9"))
		if got := fmt.Sprint(sendN(e, alice, 3)); got != "[0 0 0]" {
			t.Errorf("after SCAN: %s", got)
		}
		e.advance(time.Minute)
		e.push(p, wechattest.View(alice, "https://example.com/")) // VIEW opens nothing
		e.send(text(alice, "x")).is(45015)
		e.push(p, wechattest.Unsubscribe(alice))
		e.push(p, wechattest.Unsubscribe(alice)) // it can come twice
		if _, err := p.Push(context.Background(), wechattest.Text(alice, "x")); err == nil {
			t.Error("a message from someone who unfollowed")
		}
		e.send(text(alice, "x")).is(43004)
		if f := e.srv.Followers(); len(f) != 0 {
			t.Errorf("followers after unsubscribe: %v", f)
		}
		e.push(p, wechattest.Subscribe(alice, "5"))
		if f := e.srv.Followers(); len(f) != 1 || e.srv.RepliesLeft(alice) != 3 {
			t.Errorf("followers %v, replies left %d", f, e.srv.RepliesLeft(alice))
		}
	})
	t.Run("mini program entering", func(t *testing.T) {
		e := newEnv(t, func(c *wechattest.Config) { c.Kind = wechattest.MiniProgram })
		rc := newReceiver(t)
		p := e.pusher(rc, wechattest.PushSafe, wechattest.PushJSON)
		e.push(p, wechattest.EnterTempSession(alice, ""))
		if got := fmt.Sprint(sendN(e, alice, 3)); got != "[0 0 45047]" {
			t.Errorf("after user_enter_tempsession: %s", got)
		}
		e.push(p, wechattest.Text(alice, "hi"))
		if left := e.srv.RepliesLeft(alice); left != 5 {
			t.Errorf("after a message: %d left", left)
		}
	})
}

// A menu tap answers a msgmenu the account sent: text with the item's Content and
// bizmsgmenuid (lower case, after MsgId).
func TestPushMenuAnswer(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	p := e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML)
	if _, err := p.Push(context.Background(), wechattest.MenuAnswer(alice, "101")); err == nil {
		t.Fatal("a menu answer without a menu")
	}
	e.push(p, wechattest.Text(alice, "评价"))
	e.send(map[string]any{"touser": alice, "msgtype": "msgmenu", "msgmenu": map[string]any{"head_content": "您对本次服务是否满意呢？",
		"list": []any{map[string]any{"id": "101", "content": "满意"}, map[string]any{"id": "102", "content": "不满意"}}, "tail_content": "欢迎再次光临"}}).ok()
	d := e.push(p, wechattest.MenuAnswer(alice, "102"))
	want := "<Content><![CDATA[不满意]]></Content>\n<MsgId>" + d.Message.MsgID + "</MsgId>\n<bizmsgmenuid>102</bizmsgmenuid>\n</xml>"
	if !strings.HasSuffix(string(rc.last().plain), want) {
		t.Errorf("menu answer %q, want suffix %q", rc.last().plain, want)
	}
	if _, err := p.Push(context.Background(), wechattest.MenuAnswer(alice, "103")); err == nil {
		t.Error("an item the menu did not have")
	}
	if _, err := p.Push(context.Background(), wechattest.MenuAnswer(bob, "101")); err == nil {
		t.Error("a menu sent to someone else")
	}
}

// A receiver that decides the format from the Content-Type would misread this push.
func TestPushContentTypeOverride(t *testing.T) {
	e := newEnv(t, func(c *wechattest.Config) { c.Kind = wechattest.MiniProgram })
	rc := newReceiver(t)
	e.push(e.pusher(rc, wechattest.PushPlaintext, wechattest.PushJSON, func(c *wechattest.PushConfig) { c.ContentType = "text/xml" }),
		wechattest.Text(alice, "hi"))
	if g := rc.last(); g.ct != "text/xml" || !bytes.HasPrefix(g.body, []byte("{")) {
		t.Errorf("content-type %q body %s", g.ct, g.body)
	}
}

// The demo pushes from several goroutines: every push is delivered once, with its own MsgId.
func TestPushConcurrent(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	p := e.pusher(rc, wechattest.PushSafe, wechattest.PushXML)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Push(context.Background(), wechattest.Text(fmt.Sprintf("oConcurrent%017d", i), "hi")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, d := range p.Deliveries() {
		if d.Verdict != wechattest.Accepted {
			t.Errorf("%s %s", d.Verdict, d.Reason)
		}
		ids[d.Message.MsgID] = true
	}
	if len(ids) != 20 || rc.count() != 20 {
		t.Errorf("%d distinct MsgIds, %d received", len(ids), rc.count())
	}
}

func TestPushCancelledAndBoundedLog(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	p := e.pusher(rc, wechattest.PushPlaintext, wechattest.PushXML, func(c *wechattest.PushConfig) { c.KeepDeliveries = 4 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := p.Push(ctx, wechattest.Text(alice, "x"))
	if err != nil || d.Verdict != wechattest.NoAnswer || len(d.Attempts) != 0 || rc.count() != 0 {
		t.Fatalf("cancelled push: %v %s %d attempts", err, d.Verdict, len(d.Attempts))
	}
	for range 5 {
		e.push(p, wechattest.Text(alice, "x"))
	}
	ds := p.Deliveries()
	first, _ := strconv.ParseUint(d.Message.MsgID, 10, 64)
	last, _ := strconv.ParseUint(ds[len(ds)-1].Message.MsgID, 10, 64)
	if len(ds) > 4 || last != first+5 {
		t.Errorf("%d deliveries kept, last MsgId %d (the cancelled one was %d)", len(ds), last, first)
	}
}
