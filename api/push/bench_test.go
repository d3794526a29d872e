package push

import (
	"encoding/xml"
	"strings"
	"testing"
)

// A typical customer push: a safe-mode XML text of 20 Chinese characters.
func benchPush(b *testing.B) (*Verifier, []byte, []byte) {
	v := testVerifier(b)
	plain := sampleText(FormatXML, strings.Repeat("您好，请问订单什么时候发货？", 2))
	enc, err := v.Encrypt(strings.NewReader("0123456789abcdef"), plain)
	if err != nil {
		b.Fatal(err)
	}
	return v, plain, envelope(enc)
}

// BenchmarkOpenParseSafeText: what the push handler does before storing: verify
// msg_signature, check the time, decrypt, parse the message.
func BenchmarkOpenParseSafeText(b *testing.B) {
	v, _, body := benchPush(b)
	q := signedQuery(v, strings.TrimSuffix(strings.TrimPrefix(string(body), "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><Encrypt><![CDATA["), "]]></Encrypt></xml>"), testNow)
	b.ReportAllocs()
	for b.Loop() {
		p, err := v.Open(q, body, testNow, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseMessage(p.Body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePlainXML, the baseline: ParseMessage of the same message's plaintext.
func BenchmarkParsePlainXML(b *testing.B) {
	_, plain, _ := benchPush(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(plain); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibXMLUnmarshal, for scale: encoding/xml.Unmarshal of the same
// plaintext into a struct of its fields (no DOCTYPE, depth or duplicate checks).
func BenchmarkStdlibXMLUnmarshal(b *testing.B) {
	_, plain, _ := benchPush(b)
	var m struct {
		ToUserName, FromUserName, MsgType, Content, MsgId string
		CreateTime                                        int64
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := xml.Unmarshal(plain, &m); err != nil {
			b.Fatal(err)
		}
	}
}
