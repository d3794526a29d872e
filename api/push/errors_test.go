package push

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"math/rand"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"kfdesk/api"
)

const (
	testToken = "kfdeskToken1"
	testAppID = "wx0123456789abcdef"
)

var testNow = time.Unix(1764576000, 0) // 2025-12-01 08:00 UTC

func testVerifier(t testing.TB) *Verifier { return mustVerifier(t, testToken, sampleKey, testAppID) }

// rawEncrypt CBC-encrypts plain as is (no framing, no padding), for ciphertexts
// Encrypt would never produce.
func rawEncrypt(t testing.TB, plain []byte) string {
	t.Helper()
	key, _ := DecodeAESKey(sampleKey)
	block, _ := aes.NewCipher(key)
	buf := append([]byte(nil), plain...)
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// signedQuery is what WeChat sends with an encrypted body carrying enc.
func signedQuery(v *Verifier, enc string, ts time.Time) url.Values {
	t, n := strconv.FormatInt(ts.Unix(), 10), "123456789"
	return url.Values{"signature": {Signature(v.token, t, n)}, "timestamp": {t}, "nonce": {n}, "openid": {"oCustomer"},
		"encrypt_type": {"aes"}, "msg_signature": {Signature(v.token, t, n, enc)}}
}

func envelope(enc string) []byte {
	return []byte("<xml><ToUserName><![CDATA[gh_account]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
}

func pad32(b []byte) []byte {
	p := 32 - len(b)%32
	return append(b, bytes.Repeat([]byte{byte(p)}, p)...)
}

// TestOpenRefusals: every way a push can be wrong gives its typed, bilingual
// error, never a panic and never a body.
func TestOpenRefusals(t *testing.T) {
	v := testVerifier(t)
	text := []byte("<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oCustomer]]></FromUserName><CreateTime>1764576000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>1</MsgId></xml>")
	good, _ := v.Encrypt(strings.NewReader("0123456789abcdef"), text)
	other := mustVerifier(t, testToken, sampleKey, "wxSomeoneElse00000")
	foreign, _ := other.Encrypt(strings.NewReader("0123456789abcdef"), text)

	frame := func(n uint32, msg, appID string) []byte {
		b := append([]byte("0123456789abcdef"), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		return append(append(b, msg...), appID...)
	}
	badPad := func() string {
		b := pad32(frame(uint32(len(text)), string(text), testAppID))
		b[len(b)-2] ^= 1 // one pad byte differs from the others
		return rawEncrypt(t, b)
	}()
	zeroPad := func() string { // last byte 0: no valid padding
		b := pad32(frame(uint32(len(text)), string(text), testAppID))
		b[len(b)-1] = 0
		return rawEncrypt(t, b)
	}()
	longLen := rawEncrypt(t, pad32(frame(1<<31, string(text), testAppID)))
	short := rawEncrypt(t, pad32([]byte("0123456789")))
	goodRaw, _ := base64.StdEncoding.DecodeString(good)
	truncated := base64.StdEncoding.EncodeToString(goodRaw[:len(goodRaw)-5])
	truncatedBlock := base64.StdEncoding.EncodeToString(goodRaw[:len(goodRaw)-16])

	for _, c := range []struct {
		name string
		enc  string
		q    func(url.Values)
		body []byte
		want error
	}{
		{"wrong appid", foreign, nil, nil, ErrAppID},
		{"bad padding", badPad, nil, nil, ErrPadding},
		{"zero pad byte", zeroPad, nil, nil, ErrPadding},
		{"truncated ciphertext (not whole blocks)", truncated, nil, nil, ErrPadding},
		{"truncated by one AES block", truncatedBlock, nil, nil, nil}, // padding or length: checked below
		{"length field past the end", longLen, nil, nil, ErrLength},
		{"shorter than random+length", short, nil, nil, ErrLength},
		{"not base64", "@@@not base64@@@", nil, nil, ErrBase64},
		{"empty Encrypt", "", nil, nil, ErrPadding},
		{"forged msg_signature", good, func(q url.Values) { q.Set("msg_signature", strings.Repeat("0", 40)) }, nil, ErrSignature},
		{"missing msg_signature", good, func(q url.Values) { q.Del("msg_signature") }, nil, ErrSignature},
		{"signature given as msg_signature (the common bug)", good, func(q url.Values) { q.Set("msg_signature", q.Get("signature")) }, nil, ErrSignature},
		{"forged signature beside a good msg_signature", good, func(q url.Values) { q.Set("signature", strings.Repeat("f", 40)) }, nil, ErrSignature},
		{"replay: an hour old", good, func(q url.Values) { resign(v, q, testNow.Add(-time.Hour), good) }, nil, ErrTooOld},
		{"from the future", good, func(q url.Values) { resign(v, q, testNow.Add(10*time.Minute), good) }, nil, ErrTooOld},
		{"timestamp not a number", good, func(q url.Values) { q.Set("timestamp", "soon"); resignAt(v, q, good) }, nil, ErrMalformed},
		{"unknown encrypt_type", good, func(q url.Values) { q.Set("encrypt_type", "rsa") }, nil, ErrMalformed},
		{"no Encrypt field", good, nil, []byte("<xml><ToUserName>gh</ToUserName></xml>"), ErrMalformed},
		{"neither XML nor JSON", good, nil, []byte("Encrypt=abc"), ErrMalformed},
		{"empty body", good, nil, []byte(" \n"), ErrMalformed},
		{"over MaxBody", good, nil, append(envelope(good), bytes.Repeat([]byte(" "), MaxBody)...), ErrTooLarge},
		{"DOCTYPE in the envelope", good, nil, []byte(`<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + string(envelope(good))), ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := signedQuery(v, c.enc, testNow)
			if c.q != nil {
				c.q(q)
			}
			body := c.body
			if body == nil {
				body = envelope(c.enc)
			}
			p, err := v.Open(q, body, testNow, 0)
			if p != nil || err == nil {
				t.Fatalf("Open = %+v, %v; want a refusal", p, err)
			}
			if c.want == nil {
				if !errors.Is(err, ErrPadding) && !errors.Is(err, ErrLength) {
					t.Fatalf("Open: %v; want ErrPadding or ErrLength", err)
				}
			} else if !errors.Is(err, c.want) {
				t.Fatalf("Open: %v; want %v", err, c.want)
			}
			var b api.Bilingual
			if !errors.As(err, &b) || b.ZH() == "" || b.EN() == "" {
				t.Fatalf("%v is not explained in both languages", err)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "你好") {
				t.Fatalf("the error quotes the token or the message: %v", err)
			}
		})
	}
}

func resign(v *Verifier, q url.Values, ts time.Time, enc string) {
	q.Set("timestamp", strconv.FormatInt(ts.Unix(), 10))
	resignAt(v, q, enc)
}

func resignAt(v *Verifier, q url.Values, enc string) {
	q.Set("signature", Signature(v.token, q.Get("timestamp"), q.Get("nonce")))
	q.Set("msg_signature", Signature(v.token, q.Get("timestamp"), q.Get("nonce"), enc))
}

func TestOpenPlaintext(t *testing.T) {
	v := mustVerifier(t, testToken, "", "") // a 测试号: Token only
	body := []byte(`{"ToUserName":"gh_account","FromUserName":"oCustomer","CreateTime":1764576000,"MsgType":"text","Content":"hi","MsgId":1}`)
	ts := strconv.FormatInt(testNow.Unix(), 10)
	q := url.Values{"signature": {Signature(testToken, ts, "42")}, "timestamp": {ts}, "nonce": {"42"}, "openid": {"oCustomer"}}
	p, err := v.Open(q, body, testNow, 0)
	if err != nil || p.Mode != ModePlaintext || p.Format != FormatJSON || !bytes.Equal(p.Body, body) || p.OpenID != "oCustomer" {
		t.Fatalf("Open = %+v, %v", p, err)
	}
	// Seal leaves a plaintext reply alone.
	if r, err := v.Seal(nil, p, []byte("<xml/>"), testNow); err != nil || string(r) != "<xml/>" {
		t.Fatalf("Seal in plaintext mode = %q, %v", r, err)
	}
	for name, mod := range map[string]func(url.Values){
		"no signature":     func(q url.Values) { q.Del("signature") },
		"forged signature": func(q url.Values) { q.Set("signature", Signature("otherToken", ts, "42")) },
		"nonce changed":    func(q url.Values) { q.Set("nonce", "43") },
	} {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = append([]string(nil), v...)
		}
		mod(q2)
		if _, err := v.Open(q2, body, testNow, 0); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: Open = %v; want ErrSignature", name, err)
		}
	}
	// An encrypted push to an account with no EncodingAESKey says so.
	enc := "AAAA"
	if _, err := v.Open(signedQuery(v, enc, testNow), envelope(enc), testNow, 0); !errors.Is(err, ErrNoKey) {
		t.Fatalf("encrypted push without a key: %v; want ErrNoKey", err)
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := testNow
	for _, c := range []struct {
		ts   time.Time
		want error
	}{
		{now, nil},
		{now.Add(-DefaultWindow), nil},
		{now.Add(DefaultWindow), nil},
		{now.Add(-DefaultWindow - time.Second), ErrTooOld},
		{now.Add(DefaultWindow + time.Second), ErrTooOld},
	} {
		err := CheckTimestamp(strconv.FormatInt(c.ts.Unix(), 10), now, DefaultWindow)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("CheckTimestamp(%s from now) = %v; want %v", c.ts.Sub(now), err, c.want)
		}
	}
	if err := CheckTimestamp("", now, DefaultWindow); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty timestamp: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{Token: "ab"}, "token"},
		{Config{Token: strings.Repeat("a", 33)}, "token"},
		{Config{Token: "has space"}, "token"},
		{Config{Token: "good", EncodingAESKey: sampleKey + "="}, "encoding_aes_key"},
		{Config{Token: "good", EncodingAESKey: sampleKey}, "appid"},
	} {
		_, err := New(c.cfg)
		var ie *api.InputError
		if !errors.As(err, &ie) || ie.Field != c.field {
			t.Errorf("New(%+v) = %v; want an InputError on %s", c.cfg, err, c.field)
		}
	}
}

// TestRoundTrip: random messages of every length survive Encrypt → Decrypt and
// Encrypt → Seal-like envelope → Open, XML and JSON; and each encryption draws a
// fresh random.
func TestRoundTrip(t *testing.T) {
	v := testVerifier(t)
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 300; n++ {
		msg := make([]byte, n)
		r.Read(msg)
		enc, err := v.Encrypt(r, msg)
		if err != nil {
			t.Fatal(err)
		}
		if raw, _ := base64.StdEncoding.DecodeString(enc); len(raw)%32 != 0 {
			t.Fatalf("len %d: ciphertext of %d bytes is not padded to 32", n, len(raw))
		}
		got, err := v.Decrypt(enc)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("len %d: Decrypt = %v", n, err)
		}
	}
	for _, format := range []Format{FormatXML, FormatJSON} {
		msg := sampleText(format, "第"+strconv.Itoa(int(format))+"条 <&]]> \"quoted\"")
		enc, _ := v.Encrypt(r, msg)
		body := envelope(enc)
		if format == FormatJSON {
			body = []byte(`{"ToUserName":"gh_account","Encrypt":"` + enc + `"}`)
		}
		p, err := v.Open(signedQuery(v, enc, testNow), body, testNow, 0)
		if err != nil || !bytes.Equal(p.Body, msg) || p.Format != format || p.Mode != ModeSafe {
			t.Fatalf("%v: Open = %+v, %v", format, p, err)
		}
	}
	a, _ := v.Encrypt(r, []byte("same"))
	b, _ := v.Encrypt(r, []byte("same"))
	if a == b {
		t.Fatal("two encryptions of the same reply are identical: the random is reused")
	}
}

func sampleText(f Format, content string) []byte {
	if f == FormatJSON {
		c := strconv.Quote(content) // ASCII-safe JSON for this content
		return []byte(`{"ToUserName":"gh_account","FromUserName":"oCustomer","CreateTime":1764576000,"MsgType":"text","Content":` + c + `,"MsgId":9223372036854775807}`)
	}
	return []byte("<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oCustomer]]></FromUserName><CreateTime>1764576000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" +
		strings.ReplaceAll(content, "]]>", "]]]]><![CDATA[>") + "]]></Content><MsgId>9223372036854775807</MsgId></xml>")
}

// TestSealFreshRandomAndEnvelope: a sealed reply opens with the request's nonce
// and a fresh random, and "success" stays unencrypted.
func TestSealFreshRandomAndEnvelope(t *testing.T) {
	v := testVerifier(t)
	p := &Push{Mode: ModeCompatible, Format: FormatXML, Nonce: "n]]>once"}
	reply := []byte("<xml><Content>hi</Content></xml>")
	sealed, err := v.Seal(strings.NewReader("0123456789abcdefFEDCBA9876543210"), p, reply, testNow)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFields(FormatXML, sealed)
	if err != nil {
		t.Fatalf("the sealed envelope does not parse: %v\n%s", err, sealed)
	}
	ts := strconv.FormatInt(testNow.Unix(), 10)
	if f["Nonce"] != p.Nonce || f["TimeStamp"] != ts || f["MsgSignature"] != Signature(testToken, ts, p.Nonce, f["Encrypt"]) {
		t.Fatalf("envelope fields %v", f)
	}
	if got, err := v.Decrypt(f["Encrypt"]); err != nil || !bytes.Equal(got, reply) {
		t.Fatalf("Decrypt(envelope) = %q, %v", got, err)
	}
	again, _ := v.Seal(strings.NewReader("FEDCBA98765432100123456789abcdef"), p, reply, testNow)
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals with different randoms are identical")
	}
	for _, r := range []string{Success, ""} {
		if got, err := v.Seal(nil, p, []byte(r), testNow); err != nil || string(got) != r {
			t.Errorf("Seal(%q) = %q, %v; want it unencrypted", r, got, err)
		}
	}
	if _, err := v.Seal(strings.NewReader("short"), p, reply, testNow); err == nil {
		t.Fatal("Seal with a failing random source succeeded")
	}
}

// TestRequireEncryption: with it on, a correctly signed plaintext push is refused
// (its body is signed by nothing), while an encrypted one still opens.
func TestRequireEncryption(t *testing.T) {
	v, err := New(Config{Token: testToken, EncodingAESKey: sampleKey, AppID: testAppID, RequireEncryption: true})
	if err != nil {
		t.Fatal(err)
	}
	body := sampleText(FormatXML, "hi")
	ts := strconv.FormatInt(testNow.Unix(), 10)
	q := url.Values{"signature": {Signature(testToken, ts, "7")}, "timestamp": {ts}, "nonce": {"7"}}
	if p, err := v.Open(q, body, testNow, 0); !errors.Is(err, ErrPlaintext) || p != nil {
		t.Fatalf("plaintext push: %+v, %v; want ErrPlaintext", p, err)
	}
	if p, err := testVerifier(t).Open(q, body, testNow, 0); err != nil || p.Mode != ModePlaintext {
		t.Fatalf("without RequireEncryption the same push should open: %v", err)
	}
	enc, _ := v.Encrypt(strings.NewReader("0123456789abcdef"), body)
	if _, err := v.Open(signedQuery(v, enc, testNow), envelope(enc), testNow, 0); err != nil {
		t.Fatalf("encrypted push: %v", err)
	}
	if _, err := New(Config{Token: testToken, RequireEncryption: true}); err == nil {
		t.Fatal("RequireEncryption without a key was accepted")
	}
}

// TestOpenMPJSONCompatible: an MP JSON compatible-mode body (plaintext fields
// beside Encrypt) opens as compatible, and only the decrypted copy comes back.
func TestOpenMPJSONCompatible(t *testing.T) {
	v := testVerifier(t)
	real := []byte(`{"ToUserName":"gh_account","FromUserName":"oCustomer","CreateTime":1764576000,"MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"real"}`)
	enc, _ := v.Encrypt(strings.NewReader("0123456789abcdef"), real)
	body := []byte(`{"ToUserName":"gh_account","FromUserName":"oCustomer","CreateTime":1764576000,"MsgType":"event","Event":"user_enter_tempsession","SessionFrom":"forged","Encrypt":"` + enc + `"}`)
	p, err := v.Open(signedQuery(v, enc, testNow), body, testNow, 0)
	if err != nil || p.Mode != ModeCompatible || p.Format != FormatJSON || !bytes.Equal(p.Body, real) {
		t.Fatalf("Open = %+v, %v", p, err)
	}
}
