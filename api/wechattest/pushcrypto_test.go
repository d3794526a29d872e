package wechattest

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Official test vectors of WeChat's push signing and WXBizMsgCrypt; each must match
// byte for byte. Sources: the Mini Program message-push doc (MP-JSON), the open
// platform message_push doc (E), the Java WXBizMsgCryptTest (pamtest A1, A2),
// EasyWeChat tests/Kernel/EncryptorTest.php and the Python Sample.py (C).

const (
	zeroKey    = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	pamtestKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

	mpEncrypt  = "+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="
	mpPlain    = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`
	mpReplyEnc = "ELGduP2YcVatjqIS+eZbp80MNLoAUWvzzyJxgGzxZO/5sAvd070Bs6qrLARC9nVHm48Y4hyRbtzve1L32tmxSQ=="

	eEncrypt  = "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg=="
	ePlain    = "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n<CreateTime>1715943329</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[debug_demo]]></Event>\n<debug_str><![CDATA[hello world]]></debug_str>\n</xml>"
	eReplyMsg = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>"
	eReplyEnc = "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7"

	a1Encrypt = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
	a2Msg     = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>"
	a2Encrypt = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb"

	ewEncrypt = "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA=="
	ewPlain   = "<xml><URL><![CDATA[http://wechat.laravel.so/server]]></URL><ToUserName><![CDATA[asdasdasd]]></ToUserName><FromUserName><![CDATA[asdasdasdsadasd]]></FromUserName><CreateTime>1234567898</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>12345</MsgId></xml>"

	cEncrypt = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)

func key(t *testing.T, k string) []byte {
	t.Helper()
	b, err := decodeAESKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPushSignatureVectors(t *testing.T) {
	cases := []struct {
		name  string
		parts []string
		want  string
	}{
		{"MP doc GET verification", []string{"AAAAA", "1714036504", "1514711492"}, "f464b24fc39322e44b38aa78f5edd27bd1441696"},
		{"MP doc plaintext JSON POST", []string{"AAAAA", "1714037059", "486452656"}, "899cf89e464efb63f54ddac96b0a0a235f53aa78"},
		{"MP-JSON signature", []string{"AAAAA", "1714112445", "415670741"}, "6c5c811b55cc85e0e1b54100749188c20beb3f5d"},
		{"MP-JSON msg_signature (Encrypt starts with +)", []string{"AAAAA", "1714112445", "415670741", mpEncrypt}, "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"},
		{"MP-JSON reply MsgSignature", []string{"AAAAA", "1713424427", "415670741", mpReplyEnc}, "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1"},
		{"E signature", []string{"AAAAA", "1715943329", "1590219412"}, "cc0c594499c1634947d5b502f158ee518947db27"},
		{"E msg_signature", []string{"AAAAA", "1715943329", "1590219412", eEncrypt}, "6c12a4205838198b8fa631b3220723bb07f1015c"},
		{"E reply MsgSignature", []string{"AAAAA", "1713424427", "415670741", eReplyEnc}, "03e0812039325c2712ef5f0f980fd14c70d6e307"},
		{"pamtest GET (derived)", []string{"pamtest", "1409304348", "xxxxxx"}, "76480565cbe296026c53aaacd1ad523a1ddba24f"},
		{"EasyWeChat decrypt msg_signature", []string{"pamtest", "1458300676", "260774613", ewEncrypt}, "4f3ad57b6989f09f4eb392acce4f9e93942ed890"},
		{"Python sample compatible msg_signature", []string{"spamtest", "1409735669", "1320562132", cEncrypt}, "5d197aaffba7e9b25a30732f161a50dee96bd5fa"},
	}
	for _, tc := range cases {
		if got := pushSignature(tc.parts...); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		// The order given must not matter: the parts are sorted bytewise.
		rev := append([]string(nil), tc.parts...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		if got := pushSignature(rev...); got != tc.want {
			t.Errorf("%s reversed: %s", tc.name, got)
		}
	}
}

func TestPushEncryptVectors(t *testing.T) {
	cases := []struct {
		name, key, random, msg, appid, want string
	}{
		{"MP-JSON push", zeroKey, "a8eedb185eb2fecf", mpPlain, "wxba5fad812f8e6fb9", mpEncrypt},
		{"MP-JSON reply", zeroKey, "707722b803182950", `{"demo_resp":"good luck"}`, "wxba5fad812f8e6fb9", mpReplyEnc},
		{"E push", zeroKey, "1205899eaf019bbd", ePlain, "wx134c8103faa5a59e", eEncrypt},
		{"E reply", zeroKey, "999951349e8ee746", eReplyMsg, "wx134c8103faa5a59e", eReplyEnc},
		{"pamtest A1", pamtestKey, "aaaabbbbccccdddd", "我是中文abcd123", "wxb11529c136998cb6", a1Encrypt},
		{"pamtest A2", pamtestKey, "aaaabbbbccccdddd", a2Msg, "wxb11529c136998cb6", a2Encrypt},
		{"EasyWeChat decrypt", pamtestKey, "d43123b161a4ba84", ewPlain, "wxb11529c136998cb6", ewEncrypt},
	}
	for _, tc := range cases {
		k := key(t, tc.key)
		if got := encryptPush(k, []byte(tc.random), []byte(tc.msg), tc.appid); got != tc.want {
			t.Errorf("%s: encrypt\n got %s\nwant %s", tc.name, got, tc.want)
		}
		msg, appid, err := decryptPush(k, tc.want)
		if err != nil || string(msg) != tc.msg || appid != tc.appid {
			t.Errorf("%s: decrypt = %q, %q, %v", tc.name, msg, appid, err)
		}
	}
	if n := len(ePlain); n != 292 {
		t.Errorf("E plaintext is %d bytes, the doc says 292", n)
	}
	if n := len(a2Msg); n != 435 {
		t.Errorf("A2 message is %d bytes, the doc says 435", n)
	}
}

// The MP doc's walk-through: Encrypt decodes to 224 bytes, decrypts to 205, msg_len 167.
func TestPushDecryptWalkThrough(t *testing.T) {
	ct, _ := base64.StdEncoding.DecodeString(mpEncrypt)
	if len(ct) != 224 {
		t.Fatalf("ciphertext %d bytes", len(ct))
	}
	msg, _, err := decryptPush(key(t, zeroKey), mpEncrypt)
	if err != nil || len(msg) != 167 || 16+4+len(msg)+len("wxba5fad812f8e6fb9") != 205 {
		t.Fatalf("msg %d bytes, %v", len(msg), err)
	}
}

func TestPushDecryptPythonCompatible(t *testing.T) {
	msg, appid, err := decryptPush(key(t, pamtestKey), cEncrypt)
	if err != nil || appid != "wx2c2769f8efd9abc2" {
		t.Fatalf("appid %q, %v", appid, err)
	}
	for _, want := range []string{"<![CDATA[abcdteT]]>", "<MsgId>6054768590064713728</MsgId>", ">\n<"} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("plaintext lacks %q: %q", want, msg)
		}
	}
}

func TestPushAESKeyDecoding(t *testing.T) {
	if _, err := base64.StdEncoding.Strict().DecodeString(pamtestKey + "="); err == nil {
		t.Fatal("the sample key was expected to fail strict base64 (the trap)")
	}
	k, err := decodeAESKey(pamtestKey)
	if err != nil || len(k) != 32 {
		t.Fatalf("sample key: %d bytes, %v", len(k), err)
	}
	if !bytes.Equal(key(t, zeroKey), make([]byte, 32)) {
		t.Error("A×43 must decode to 32 zero bytes")
	}
	for _, bad := range []string{"", pamtestKey[:42], pamtestKey + "=", pamtestKey[:42] + "!"} {
		if _, err := decodeAESKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Padding is PKCS#7 to 32 bytes: a whole 32-byte block when already aligned, and
// decryption refuses anything else.
func TestPushPadding(t *testing.T) {
	k := key(t, zeroKey)
	appid := "wx0123456789abcdef" // 18 bytes: 16 + 4 + 26 + 18 = 64, aligned
	enc := encryptPush(k, []byte("0123456789abcdef"), bytes.Repeat([]byte("x"), 26), appid)
	ct, _ := base64.StdEncoding.DecodeString(enc)
	if len(ct) != 96 {
		t.Fatalf("aligned plaintext gave %d bytes, want 64 + a 32-byte pad block", len(ct))
	}
	for _, n := range []int{0, 1, 11, 12, 13, 100} {
		msg := bytes.Repeat([]byte("y"), n)
		got, id, err := decryptPush(k, encryptPush(k, []byte("0123456789abcdef"), msg, appid))
		if err != nil || !bytes.Equal(got, msg) || id != appid {
			t.Errorf("round trip of %d bytes: %q %q %v", n, got, id, err)
		}
	}
	// A ciphertext whose last byte is not a valid pad: flip the last block.
	ct[len(ct)-1] ^= 0xff
	if _, _, err := decryptPush(k, base64.StdEncoding.EncodeToString(ct)); err == nil {
		t.Error("bad padding accepted")
	}
	if _, _, err := decryptPush(k, "not base64!"); err == nil {
		t.Error("bad base64 accepted")
	}
}

// digits makes a Rand whose bytes become exactly s in the ciphertext's random
// (the fake writes random bytes as hex digits).
func digits(s string) *bytes.Reader {
	b := make([]byte, len(s))
	for i, c := range []byte(s) {
		b[i] = byte(strings.IndexByte("0123456789abcdef", c))
	}
	return bytes.NewReader(b)
}

// vectorCatcher is a receiver that keeps the one request and answers answer.
type vectorCatcher struct {
	rawQuery, body, ct string
}

func catch(t *testing.T, answer string) (*vectorCatcher, string) {
	c := &vectorCatcher{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.rawQuery, c.body, c.ct = r.URL.RawQuery, string(b), r.Header.Get("Content-Type")
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(ts.Close)
	return c, ts.URL + "/wx"
}

// The documented safe-mode pushes, rebuilt by the Pusher from the message alone:
// query and body byte for byte, and the documented encrypted replies open.
func TestPushVectorsOverHTTP(t *testing.T) {
	const openid = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY"
	debug := Message{From: openid, MsgType: "event", Event: "debug_demo", Extra: [][2]string{{"debug_str", "hello world"}}}
	t.Run("MP-JSON safe", func(t *testing.T) {
		s := NewServer(Config{AppID: "wxba5fad812f8e6fb9", Kind: MiniProgram, Clock: NewFakeClock(time.Unix(1714112445, 0))})
		defer s.Close()
		c, u := catch(t, `{"Encrypt":"`+mpReplyEnc+`","MsgSignature":"1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1","TimeStamp":1713424427,"Nonce":"415670741"}`)
		p, err := s.NewPusher(PushConfig{URL: u, Token: "AAAAA", EncodingAESKey: zeroKey, Mode: PushSafe, Format: PushJSON,
			OriginalID: "gh_97417a04a28d", Rand: digits("a8eedb185eb2fecf")})
		if err != nil {
			t.Fatal(err)
		}
		m := debug
		m.Nonce = "415670741"
		d, err := p.Push(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		wantQ := "signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
		if c.rawQuery != wantQ {
			t.Errorf("query\n got %s\nwant %s", c.rawQuery, wantQ)
		}
		if want := `{"ToUserName":"gh_97417a04a28d","Encrypt":"` + mpEncrypt + `"}`; c.body != want {
			t.Errorf("body\n got %s\nwant %s", c.body, want)
		}
		if string(d.Plain) != mpPlain || c.ct != "application/json" {
			t.Errorf("plain %s, content-type %q", d.Plain, c.ct)
		}
		// The doc's reply verifies and decrypts; its content is no passive reply.
		if string(d.Reply) != `{"demo_resp":"good luck"}` || d.Verdict != Rejected || !strings.Contains(d.Reason, "ToUserName") {
			t.Errorf("reply %q verdict %s: %s", d.Reply, d.Verdict, d.Reason)
		}
	})
	t.Run("MP plaintext JSON signature", func(t *testing.T) {
		s := NewServer(Config{Kind: MiniProgram, Clock: NewFakeClock(time.Unix(1714037059, 0))})
		defer s.Close()
		c, u := catch(t, "success")
		p, _ := s.NewPusher(PushConfig{URL: u, Token: "AAAAA", Format: PushJSON})
		m := Text(openid, "hi")
		m.Nonce = "486452656"
		d, _ := p.Push(context.Background(), m)
		if !strings.HasPrefix(c.rawQuery, "signature=899cf89e464efb63f54ddac96b0a0a235f53aa78&timestamp=1714037059&nonce=486452656&openid=") ||
			strings.Contains(c.rawQuery, "msg_signature") || d.Verdict != Accepted {
			t.Errorf("query %s, verdict %s", c.rawQuery, d.Verdict)
		}
	})
	t.Run("E XML safe", func(t *testing.T) {
		s := NewServer(Config{AppID: "wx134c8103faa5a59e", Clock: NewFakeClock(time.Unix(1715943329, 0))})
		defer s.Close()
		c, u := catch(t, "<xml><Encrypt><![CDATA["+eReplyEnc+"]]></Encrypt><MsgSignature><![CDATA[03e0812039325c2712ef5f0f980fd14c70d6e307]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>")
		p, _ := s.NewPusher(PushConfig{URL: u, Token: "AAAAA", EncodingAESKey: zeroKey, Mode: PushSafe,
			OriginalID: "gh_97417a04a28d", Rand: digits("1205899eaf019bbd")})
		m := debug
		m.Nonce = "1590219412"
		d, _ := p.Push(context.Background(), m)
		wantQ := "signature=cc0c594499c1634947d5b502f158ee518947db27&timestamp=1715943329&nonce=1590219412&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=6c12a4205838198b8fa631b3220723bb07f1015c"
		if c.rawQuery != wantQ {
			t.Errorf("query\n got %s\nwant %s", c.rawQuery, wantQ)
		}
		if want := "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n<Encrypt><![CDATA[" + eEncrypt + "]]></Encrypt>\n</xml>"; c.body != want {
			t.Errorf("body\n got %q\nwant %q", c.body, want)
		}
		if string(d.Plain) != ePlain || c.ct != "text/xml" {
			t.Errorf("plain %q, content-type %q", d.Plain, c.ct)
		}
		if string(d.Reply) != eReplyMsg || d.Verdict != Rejected || !strings.Contains(d.Reason, "ToUserName") {
			t.Errorf("reply %q verdict %s: %s", d.Reply, d.Verdict, d.Reason)
		}
	})
}
