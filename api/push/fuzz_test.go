package push

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecrypt: no ciphertext panics Decrypt or gets past it unless it is a whole
// WXBizMsgCrypt frame for our appid; what it returns re-encrypts to itself. With
// plain set, raw is what decryption yields (encrypted here first, whole AES
// blocks), so the fuzzer reaches the padding, length and appid checks, which a
// random ciphertext almost never passes.
func FuzzDecrypt(f *testing.F) {
	v := mustVerifier(f, "pamtest", sampleKey, "wxb11529c136998cb6")
	for _, s := range []string{vA1, vA2, vEwEnc, vCEnc, vDEnc, vEEnc, ""} {
		raw, _ := base64.StdEncoding.DecodeString(s)
		f.Add(raw, false)
	}
	f.Add(make([]byte, 32), false)
	f.Add(bytes.Repeat([]byte{0xff}, 48), false)
	frame := append([]byte("0123456789abcdef\x00\x00\x00\x02hi"), "wxb11529c136998cb6"...)
	f.Add(pad32(frame), true)
	f.Add(frame, true)
	f.Fuzz(func(t *testing.T, raw []byte, plain bool) {
		enc := base64.StdEncoding.EncodeToString(raw)
		if plain {
			for len(raw)%16 != 0 {
				raw = append(raw, 0)
			}
			enc = rawEncrypt(t, raw)
		}
		msg, err := v.Decrypt(enc)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (!errors.Is(err, ErrPadding) && !errors.Is(err, ErrLength) && !errors.Is(err, ErrAppID)) {
				t.Fatalf("untyped or unexpected error %v", err)
			}
			return
		}
		again, err := v.Encrypt(strings.NewReader(strings.Repeat("r", 16)), msg)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := v.Decrypt(again); err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("round trip of a decrypted message failed: %v", err)
		}
	})
}

// FuzzParseMessage: no body panics ParseMessage; a body it accepts decodes the
// same once rewritten as JSON (the XML and JSON paths agree).
func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{vEPlain, vEwPlain, vMpPlain, vA2msg, vCBody, vDBody,
		`<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>`,
		`{"ToUserName":"gh","FromUserName":"o","CreateTime":1,"MsgType":"text","MsgId":18446744073709551615,"bizmsgmenuid":"101"}`,
		`<xml><a><b><c><d><e><f><g><h></h></g></f></e></d></c></b></a></xml>`} {
		f.Add([]byte(s))
	}
	for _, c := range [][]string{
		{"MsgType", "location", "Location_X", "23.1", "Location_Y", "113.3", "Scale", "20", "Label", "位置"},
		{"MsgType", "event", "Event", "subscribe", "EventKey", "qrscene_1", "Ticket", "T"},
		{"MsgType", "event", "Event", "kf_switch_session", "FromKfAccount", "a@x", "ToKfAccount", "b@x"},
	} {
		x, j := pushOf(append(append([]string(nil), head...), c...)...)
		f.Add(x)
		f.Add(j)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMessage(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if m.MsgType == "" || m.FromUserName == "" || m.ToUserName == "" {
			t.Fatalf("accepted without essentials: %+v", m)
		}
		j, err := json.Marshal(m.Fields)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseMessage(j)
		if err != nil {
			t.Fatalf("its fields as JSON do not parse: %v\n%s", err, j)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("XML/JSON disagree:\n%+v\n%+v", m, again)
		}
	})
}

// FuzzOpen: a correctly signed request with any body never panics Open, and
// whatever Open accepts in an encrypted mode was encrypted by us.
func FuzzOpen(f *testing.F) {
	v := testVerifier(f)
	good, _ := v.Encrypt(strings.NewReader("0123456789abcdef"), sampleText(FormatXML, "x"))
	f.Add(envelope(good), true)
	f.Add([]byte(`{"ToUserName":"gh","Encrypt":"`+good+`"}`), true)
	f.Add(sampleText(FormatJSON, "y"), false)
	f.Add([]byte(vCBody), true)
	f.Fuzz(func(t *testing.T, body []byte, encrypted bool) {
		enc := ""
		if encrypted {
			if format, err := DetectFormat(body); err == nil {
				if fl, err := parseFields(format, body); err == nil {
					enc = fl["Encrypt"]
				}
			}
		}
		q := signedQuery(v, enc, testNow)
		if !encrypted {
			q.Del("encrypt_type")
			q.Del("msg_signature")
		}
		p, err := v.Open(q, body, testNow, 0)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if encrypted && p.Mode == ModePlaintext || !encrypted && !bytes.Equal(p.Body, body) {
			t.Fatalf("Open = %+v", p)
		}
	})
}
