package push

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The official test vectors, checked byte for byte. Sources:
//   MP:  https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html (JSON, safe mode)
//   E:   https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.md (XML debug_demo)
//   A1, A2: the official Java sample's WXBizMsgCryptTest (token pamtest)
//   EW:  EasyWeChat tests/Kernel/EncryptorTest.php::test_decrypt (pamtest)
//   C, D: the official Python (Sample.py) and C++ (main.cpp) samples (token spamtest)

const (
	sampleKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" // the official samples' EncodingAESKey
	zeroKey   = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // the MP doc's: 32 zero bytes
)

func mustVerifier(t testing.TB, token, key, appID string) *Verifier {
	t.Helper()
	v, err := New(Config{Token: token, EncodingAESKey: key, AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// at is the moment a vector's timestamp was signed, so the replay window passes.
func at(t testing.TB, q url.Values) time.Time {
	t.Helper()
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(ts, 0)
}

func TestSignatureVectors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		parts      []string
	}{
		{"MP GET verification", "f464b24fc39322e44b38aa78f5edd27bd1441696", []string{"AAAAA", "1714036504", "1514711492"}},
		{"MP plaintext JSON push", "899cf89e464efb63f54ddac96b0a0a235f53aa78", []string{"AAAAA", "1714037059", "486452656"}},
		{"MP safe signature", "6c5c811b55cc85e0e1b54100749188c20beb3f5d", []string{"AAAAA", "1714112445", "415670741"}},
		{"MP safe msg_signature (Encrypt starts with +)", "046e02f8204d34f8ba5fa3b1db94908f3df2e9b3", []string{"AAAAA", "1714112445", "415670741", jsonEncrypt(t)}},
		{"E signature", "cc0c594499c1634947d5b502f158ee518947db27", []string{"AAAAA", "1715943329", "1590219412"}},
		{"E msg_signature", "6c12a4205838198b8fa631b3220723bb07f1015c", []string{"AAAAA", "1715943329", "1590219412", vEEnc}},
		{"pamtest GET (derived)", "76480565cbe296026c53aaacd1ad523a1ddba24f", []string{"pamtest", "1409304348", "xxxxxx"}},
		{"EasyWeChat msg_signature", "4f3ad57b6989f09f4eb392acce4f9e93942ed890", []string{"pamtest", "1458300676", "260774613", vEwEnc}},
		{"Python sample msg_signature", "5d197aaffba7e9b25a30732f161a50dee96bd5fa", []string{"spamtest", "1409735669", "1320562132", vCEnc}},
		{"C++ sample msg_signature", "003fee52ecc56afb46c00b5c7721be87860ce785", []string{"spamtest", "1410349438", "298025754", vDEnc}},
		{"MP reply MsgSignature", "1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1", []string{"AAAAA", "1713424427", "415670741", vMpReplyEnc}},
		{"E reply MsgSignature", "03e0812039325c2712ef5f0f980fd14c70d6e307", []string{"AAAAA", "1713424427", "415670741", vEReplyEnc}},
	} {
		if got := Signature(c.parts...); got != c.want {
			t.Errorf("%s: Signature = %s, want %s", c.name, got, c.want)
		}
	}
}

// jsonEncrypt is the Encrypt of the MP vector's JSON body.
func jsonEncrypt(t testing.TB) string {
	f, err := parseFields(FormatJSON, []byte(vMpBody))
	if err != nil {
		t.Fatal(err)
	}
	return f["Encrypt"]
}

func TestVerifyURLOfficialExample(t *testing.T) {
	v := mustVerifier(t, "AAAAA", "", "")
	q := mustQuery(t, "signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504&nonce=1514711492&echostr=4375120948345356249")
	echo, err := v.Echo(q)
	if err != nil || echo != "4375120948345356249" {
		t.Fatalf("Echo = %q, %v; want the echostr unchanged", echo, err)
	}
	q.Set("signature", "f464b24fc39322e44b38aa78f5edd27bd1441697")
	if echo, err := v.Echo(q); !errors.Is(err, ErrSignature) || echo != "" {
		t.Fatalf("forged GET: Echo = %q, %v; want no echo and ErrSignature", echo, err)
	}
	if v.VerifyURL("", "1714036504", "1514711492") {
		t.Fatal("an empty signature verified")
	}
}

// TestOpenMPJSONSafe: the MP doc's JSON safe-mode push, both directions.
func TestOpenMPJSONSafe(t *testing.T) {
	v := mustVerifier(t, "AAAAA", zeroKey, "wxba5fad812f8e6fb9")
	q := mustQuery(t, vMpQuery)
	p, err := v.Open(q, []byte(vMpBody), at(t, q), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeSafe || p.Format != FormatJSON || string(p.Body) != vMpPlain {
		t.Fatalf("Open = %v %v %q; want safe, json, the doc's plaintext", p.Mode, p.Format, p.Body)
	}
	// The plaintext's random is the doc's: re-encrypting with it gives the doc's Encrypt.
	enc, err := v.Encrypt(strings.NewReader("a8eedb185eb2fecf"), p.Body)
	if err != nil || enc != jsonEncrypt(t) {
		t.Fatalf("Encrypt with the doc's random = %s, %v; want the push's Encrypt", enc, err)
	}
	m, err := ParseMessage(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	if m.MsgType != TypeEvent || m.Event != EventDebugDemo || m.CreateTime != 1714112445 || m.Fields["debug_str"] != "hello world" {
		t.Fatalf("ParseMessage = %+v", m)
	}
	// The reply: the doc's random, timestamp and nonce give its envelope exactly.
	got, err := v.Seal(strings.NewReader("707722b803182950"), p, []byte(`{"demo_resp":"good luck"}`), time.Unix(1713424427, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Encrypt":"` + vMpReplyEnc + `","MsgSignature":"1b9339964ed2e271e7c7b6ff2b0ef902fc94dea1","TimeStamp":1713424427,"Nonce":"415670741"}`
	if string(got) != want {
		t.Fatalf("Seal =\n%s\nwant\n%s", got, want)
	}
}

// TestOpenXMLDebugDemo: the open-platform doc's XML debug_demo, both directions.
func TestOpenXMLDebugDemo(t *testing.T) {
	v := mustVerifier(t, "AAAAA", zeroKey, "wx134c8103faa5a59e")
	q := mustQuery(t, vEQuery)
	body := "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[" + vEEnc + "]]></Encrypt></xml>"
	p, err := v.Open(q, []byte(body), at(t, q), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeSafe || p.Format != FormatXML || string(p.Body) != vEPlain || len(p.Body) != 292 {
		t.Fatalf("Open = %v %v %q; want safe, xml, the doc's 292 bytes (untrimmed)", p.Mode, p.Format, p.Body)
	}
	if enc, _ := v.Encrypt(strings.NewReader("1205899eaf019bbd"), p.Body); enc != vEEnc {
		t.Fatalf("Encrypt with the doc's random = %s; want the push's Encrypt", enc)
	}
	// The doc's reply example uses nonce 415670741 (the MP example's), not this
	// push's 1590219412: seal as if the push had carried it.
	p.Nonce = "415670741"
	got, err := v.Seal(strings.NewReader("999951349e8ee746"), p, []byte("<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>"), time.Unix(1713424427, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := "<xml><Encrypt><![CDATA[" + vEReplyEnc + "]]></Encrypt><MsgSignature><![CDATA[03e0812039325c2712ef5f0f980fd14c70d6e307]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>"
	if string(got) != want {
		t.Fatalf("Seal =\n%s\nwant\n%s", got, want)
	}
}

// TestEncryptPamtest: the official Java sample's fixed-random encryptions.
func TestEncryptPamtest(t *testing.T) {
	v := mustVerifier(t, "pamtest", sampleKey, "wxb11529c136998cb6")
	for name, c := range map[string]struct{ msg, want string }{
		"A1": {"我是中文abcd123", vA1},
		"A2": {vA2msg, vA2},
	} {
		got, err := v.Encrypt(strings.NewReader("aaaabbbbccccdddd"), []byte(c.msg))
		if err != nil || got != c.want {
			t.Errorf("%s: Encrypt = %s, %v; want %s", name, got, err, c.want)
		}
		back, err := v.Decrypt(c.want)
		if err != nil || string(back) != c.msg {
			t.Errorf("%s: Decrypt = %q, %v", name, back, err)
		}
	}
}

// TestOpenEasyWeChatDecrypt: EasyWeChat's pamtest decrypt, through Open.
func TestOpenEasyWeChatDecrypt(t *testing.T) {
	v := mustVerifier(t, "pamtest", sampleKey, "wxb11529c136998cb6")
	q := url.Values{"msg_signature": {"4f3ad57b6989f09f4eb392acce4f9e93942ed890"}, "timestamp": {"1458300676"}, "nonce": {"260774613"}, "encrypt_type": {"aes"}}
	body := "<xml><ToUserName><![CDATA[asdasdasd]]></ToUserName><Encrypt><![CDATA[" + vEwEnc + "]]></Encrypt></xml>"
	p, err := v.Open(q, []byte(body), at(t, q), 0)
	if err != nil || string(p.Body) != vEwPlain {
		t.Fatalf("Open = %q, %v", p, err)
	}
	if enc, _ := v.Encrypt(strings.NewReader("d43123b161a4ba84"), p.Body); enc != vEwEnc {
		t.Fatal("re-encrypting with EasyWeChat's random differs")
	}
	m, err := ParseMessage(p.Body)
	if err != nil || m.Content != "hello" || m.MsgID != "12345" || m.Fields["URL"] != "http://wechat.laravel.so/server" {
		t.Fatalf("ParseMessage = %+v, %v", m, err)
	}
}

// TestOpenCompatiblePythonSample: the body carries plaintext fields and Encrypt;
// only the decrypted copy is returned.
func TestOpenCompatiblePythonSample(t *testing.T) {
	v := mustVerifier(t, "spamtest", sampleKey, "wx2c2769f8efd9abc2")
	q := url.Values{"msg_signature": {"5d197aaffba7e9b25a30732f161a50dee96bd5fa"}, "timestamp": {"1409735669"}, "nonce": {"1320562132"}, "encrypt_type": {"aes"}}
	p, err := v.Open(q, []byte(vCBody), at(t, q), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
	if p.Mode != ModeCompatible || string(p.Body) != want {
		t.Fatalf("Open = %v %q", p.Mode, p.Body)
	}
	m, err := ParseMessage(p.Body)
	if err != nil || m.Content != "abcdteT" || m.MsgID != "6054768590064713728" {
		t.Fatalf("ParseMessage = %+v, %v", m, err)
	}

	// A forged plaintext copy beside the same signed Encrypt changes nothing.
	forged := strings.Replace(vCBody, "abcdteT", "transfer me 100 yuan", 1)
	p, err = v.Open(q, []byte(forged), at(t, q), 0)
	if err != nil || string(p.Body) != want {
		t.Fatalf("forged plaintext copy: Open = %q, %v; want the decrypted copy", p.Body, err)
	}
}

// TestOpenCppSample: the official C++ sample's safe-mode decrypt.
func TestOpenCppSample(t *testing.T) {
	v := mustVerifier(t, "spamtest", sampleKey, "wx2c2769f8efd9abc2")
	q := url.Values{"msg_signature": {"003fee52ecc56afb46c00b5c7721be87860ce785"}, "timestamp": {"1410349438"}, "nonce": {"298025754"}, "encrypt_type": {"aes"}}
	p, err := v.Open(q, []byte(vDBody), at(t, q), 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseMessage(p.Body)
	// The sample prints the plaintext rather than stating it; the signature and
	// the appid check above are what make this a vector.
	if err != nil || p.Mode != ModeSafe || m.MsgType != TypeText || m.Content != "abcdteT" || m.MsgID != "6057404712141979648" || m.CreateTime != 1410349438 {
		t.Fatalf("ParseMessage = %+v, %v (body %q)", m, err, p.Body)
	}
}

// TestDecodeAESKeyOfficialSampleFailsStrict is the trap: the official sample key
// is not canonical base64 (its last character carries non-zero spare bits), so
// strict decoding refuses it; DecodeAESKey decodes it as WeChat does.
func TestDecodeAESKeyOfficialSampleFailsStrict(t *testing.T) {
	if _, err := base64.StdEncoding.Strict().DecodeString(sampleKey + "="); err == nil {
		t.Fatal("strict base64 accepted the sample key: the trap this test documents is gone")
	}
	key, err := DecodeAESKey(sampleKey)
	if err != nil || len(key) != 32 {
		t.Fatalf("DecodeAESKey(sample) = %x, %v; want 32 bytes", key, err)
	}
	if zero, err := DecodeAESKey(zeroKey); err != nil || string(zero) != string(make([]byte, 32)) {
		t.Fatalf("DecodeAESKey(A×43) = %x, %v; want 32 zero bytes", zero, err)
	}
	for _, bad := range []string{"", sampleKey + "=", sampleKey[:42], " " + sampleKey[1:], sampleKey[:42] + "!", sampleKey[:20] + "\n" + sampleKey[21:]} {
		if _, err := DecodeAESKey(bad); !errors.Is(err, ErrAESKey) {
			t.Errorf("DecodeAESKey(%q) = %v; want ErrAESKey", bad, err)
		}
	}
}
