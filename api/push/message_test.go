package push

import (
	"encoding/xml"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// pushOf writes one push in both formats from the same fields, as the docs show
// them (XML: CDATA for text, bare numbers; JSON: strings and bare numbers).
func pushOf(fields ...string) (xmlBody, jsonBody []byte) {
	var x, j strings.Builder
	x.WriteString("<xml>")
	j.WriteString("{")
	for i := 0; i < len(fields); i += 2 {
		k, v := fields[i], fields[i+1]
		number := k == "CreateTime" || k == "MsgId" || k == "Scale"
		if number {
			x.WriteString("<" + k + ">" + v + "</" + k + ">\n")
		} else {
			x.WriteString("<" + k + "><![CDATA[" + v + "]]></" + k + ">\n")
		}
		if i > 0 {
			j.WriteString(",")
		}
		if number {
			j.WriteString(`"` + k + `":` + v)
		} else {
			b, _ := jsonString(v)
			j.WriteString(`"` + k + `":` + b)
		}
	}
	x.WriteString("</xml>")
	j.WriteString("}")
	return []byte(x.String()), []byte(j.String())
}

func jsonString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String(), nil
}

var head = []string{"ToUserName", "gh_account", "FromUserName", "oCustomer", "CreateTime", "1764576000"}

// TestParseMessageTypes: every customer-service type and event of the docs,
// decoded from XML and from JSON into the same Message.
func TestParseMessageTypes(t *testing.T) {
	for _, c := range []struct {
		name   string
		fields []string
		check  func(m *Message) bool
	}{
		{"text", []string{"MsgType", "text", "Content", "你好 <b>&amp;", "MsgId", "23456789012345678"},
			func(m *Message) bool {
				return m.Content == "你好 <b>&amp;" && m.MsgID == "23456789012345678" && !m.IsEvent() && !m.IsMenuAnswer()
			}},
		{"menu answer", []string{"MsgType", "text", "Content", "满意", "MsgId", "1", "bizmsgmenuid", "101"},
			func(m *Message) bool { return m.IsMenuAnswer() && m.BizMsgMenuID == "101" && m.Content == "满意" }},
		{"image", []string{"MsgType", "image", "PicUrl", "http://mmbiz.qpic.cn/x", "MediaId", "media1", "MsgId", "2"},
			func(m *Message) bool { return m.PicURL == "http://mmbiz.qpic.cn/x" && m.MediaID == "media1" }},
		{"voice with Recognition", []string{"MsgType", "voice", "MediaId", "m", "Format", "amr", "Recognition", "腾讯微信团队", "MsgId", "3"},
			func(m *Message) bool {
				return m.Format == "amr" && m.Recognition == "腾讯微信团队" && m.MediaID == "m"
			}},
		{"video", []string{"MsgType", "video", "MediaId", "m", "ThumbMediaId", "t", "MsgId", "4"},
			func(m *Message) bool { return m.ThumbMediaID == "t" }},
		{"shortvideo", []string{"MsgType", "shortvideo", "MediaId", "m", "ThumbMediaId", "t", "MsgId", "5"},
			func(m *Message) bool { return m.MsgType == TypeShortVideo && m.ThumbMediaID == "t" }},
		{"location", []string{"MsgType", "location", "Location_X", "23.134521", "Location_Y", "113.358803", "Scale", "20", "Label", "位置信息", "MsgId", "6"},
			func(m *Message) bool {
				return m.LocationX == "23.134521" && m.LocationY == "113.358803" && m.Scale == "20" && m.Label == "位置信息"
			}},
		{"link", []string{"MsgType", "link", "Title", "公众平台官网链接", "Description", "公众平台官网链接", "Url", "https://mp.weixin.qq.com", "MsgId", "7"},
			func(m *Message) bool {
				return m.Title == "公众平台官网链接" && m.URL == "https://mp.weixin.qq.com"
			}},
		{"MP miniprogrampage", []string{"MsgType", "miniprogrampage", "MsgId", "8", "Title", "Title", "AppId", "wxapp", "PagePath", "pages/index", "ThumbUrl", "http://t", "ThumbMediaId", "tm"},
			func(m *Message) bool {
				return m.AppID == "wxapp" && m.PagePath == "pages/index" && m.ThumbURL == "http://t"
			}},
		{"subscribe", []string{"MsgType", "event", "Event", "subscribe", "EventKey", "not a scene"},
			func(m *Message) bool { return m.IsEvent() && m.Scene() == "" }},
		{"subscribe by scan", []string{"MsgType", "event", "Event", "subscribe", "EventKey", "qrscene_123123", "Ticket", "TICKET"},
			func(m *Message) bool { return m.Scene() == "123123" && m.Ticket == "TICKET" }},
		{"unsubscribe", []string{"MsgType", "event", "Event", "unsubscribe"},
			func(m *Message) bool { return m.Event == EventUnsubscribe }},
		{"SCAN", []string{"MsgType", "event", "Event", "SCAN", "EventKey", "SCENE_VALUE", "Ticket", "TICKET"},
			func(m *Message) bool { return m.Scene() == "SCENE_VALUE" }},
		{"CLICK", []string{"MsgType", "event", "Event", "CLICK", "EventKey", "EVENTKEY"},
			func(m *Message) bool { return m.EventKey == "EVENTKEY" && m.Scene() == "" }},
		{"VIEW", []string{"MsgType", "event", "Event", "VIEW", "EventKey", "www.qq.com"},
			func(m *Message) bool { return m.Event == EventView && m.EventKey == "www.qq.com" }},
		{"kf_create_session", []string{"MsgType", "event", "Event", "kf_create_session", "KfAccount", "test1@test"},
			func(m *Message) bool { return m.KfAccount == "test1@test" }},
		{"kf_close_session", []string{"MsgType", "event", "Event", "kf_close_session", "KfAccount", "test1@test"},
			func(m *Message) bool { return m.Event == EventKfCloseSession && m.KfAccount == "test1@test" }},
		{"kf_switch_session", []string{"MsgType", "event", "Event", "kf_switch_session", "FromKfAccount", "a@test", "ToKfAccount", "b@test"},
			func(m *Message) bool { return m.FromKfAccount == "a@test" && m.ToKfAccount == "b@test" }},
		{"MP user_enter_tempsession", []string{"MsgType", "event", "Event", "user_enter_tempsession", "SessionFrom", "sessionFrom"},
			func(m *Message) bool { return m.SessionFrom == "sessionFrom" && m.Event == EventUserEnterSession }},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, j := pushOf(append(append([]string(nil), head...), c.fields...)...)
			mx, err := ParseMessage(x)
			if err != nil {
				t.Fatalf("XML: %v\n%s", err, x)
			}
			mj, err := ParseMessage(j)
			if err != nil {
				t.Fatalf("JSON: %v\n%s", err, j)
			}
			if !reflect.DeepEqual(mx, mj) {
				t.Fatalf("XML and JSON decode differently:\n%+v\n%+v", mx, mj)
			}
			if mx.ToUserName != "gh_account" || mx.FromUserName != "oCustomer" || mx.CreateTime != 1764576000 || !c.check(mx) {
				t.Fatalf("decoded %+v", mx)
			}
			if got := sortedKeys(mx.Fields); len(got) != len(c.fields)/2+3 {
				t.Fatalf("Fields = %v", got)
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// TestMsgIDBeyondFloat64: a JSON MsgId above 2^53 keeps every digit (a float64
// would turn 6054768590064713729 into ...728), and a cloud function's string
// MsgId is kept as is.
func TestMsgIDBeyondFloat64(t *testing.T) {
	for raw, want := range map[string]string{
		`6054768590064713729`:  "6054768590064713729",
		`18446744073709551615`: "18446744073709551615",
		`"49d7a_1555684067"`:   "49d7a_1555684067",
	} {
		body := `{"ToUserName":"gh","FromUserName":"o","CreateTime":1,"MsgType":"text","Content":"x","MsgId":` + raw + `}`
		m, err := ParseMessage([]byte(body))
		if err != nil || m.MsgID != want {
			t.Errorf("MsgId %s: got %q, %v; want %q", raw, m.MsgID, err, want)
		}
	}
}

// TestParseMessageRefuses: entity tricks, deep nesting, repeated fields and
// missing essentials are ErrMalformed, never a panic.
func TestParseMessageRefuses(t *testing.T) {
	ok := "<ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
	deep := "<xml>" + ok + strings.Repeat("<a>", maxDepth) + strings.Repeat("</a>", maxDepth) + "</xml>"
	for name, body := range map[string]string{
		"XXE external entity":     `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml>` + ok + `<Content>&xxe;</Content></xml>`,
		"billion laughs":          `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml>` + ok + `<Content>&lol2;</Content></xml>`,
		"bare DOCTYPE":            `<!DOCTYPE xml><xml>` + ok + `</xml>`,
		"undeclared entity":       `<xml>` + ok + `<Content>&xxe;</Content></xml>`,
		"nested too deep":         deep,
		"two roots":               `<xml>` + ok + `</xml><xml></xml>`,
		"wrong root":              `<root>` + ok + `</root>`,
		"text after the root":     `<xml>` + ok + `</xml>junk`,
		"field twice (XML)":       `<xml>` + ok + `<Content>a</Content><Content>b</Content></xml>`,
		"field twice (JSON)":      `{"ToUserName":"gh","FromUserName":"o","CreateTime":1,"MsgType":"text","MsgType":"event"}`,
		"mismatched end tag":      `<xml>` + ok + `<Content>a</Tnetnoc></xml>`,
		"unclosed":                `<xml>` + ok,
		"other charset":           `<?xml version="1.0" encoding="GBK"?><xml>` + ok + `</xml>`,
		"no FromUserName":         `<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>`,
		"CreateTime not a number": `{"ToUserName":"gh","FromUserName":"o","CreateTime":"soon","MsgType":"text"}`,
		"CreateTime fractional":   `{"ToUserName":"gh","FromUserName":"o","CreateTime":1.5,"MsgType":"text"}`,
		"JSON array":              `[{"ToUserName":"gh"}]`,
		"JSON trailing data":      `{"ToUserName":"gh","FromUserName":"o","CreateTime":1,"MsgType":"text"} {}`,
		"JSON cut off":            `{"ToUserName":"gh","FromUserName":"o","CreateTime":1,"MsgType":"te`,
		"neither":                 `ToUserName=gh`,
	} {
		if m, err := ParseMessage([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseMessage = %+v, %v; want ErrMalformed", name, m, err)
		}
	}
	// Nesting up to the bound is fine (menu events nest 5 deep).
	okDeep := "<xml>" + ok + strings.Repeat("<a>", maxDepth-1) + strings.Repeat("</a>", maxDepth-1) + "</xml>"
	if _, err := ParseMessage([]byte(okDeep)); err != nil {
		t.Errorf("nesting of %d refused: %v", maxDepth, err)
	}
	if _, err := ParseMessage([]byte("<xml>" + ok + strings.Repeat(" ", MaxBody) + "</xml>")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxBody: %v; want ErrTooLarge", err)
	}
	// Go's own decoder would have quietly accepted the DOCTYPE: the refusal is ours.
	var v struct{ Content string }
	if err := xml.Unmarshal([]byte(`<!DOCTYPE xml><xml><Content>x</Content></xml>`), &v); err != nil {
		t.Fatalf("encoding/xml refused a DOCTYPE itself (%v): the test above proves nothing", err)
	}
}

// TestKey: messages by appid + sender + CreateTime + MsgId, events by appid +
// sender + CreateTime + Event + EventKey; and the text form cannot be forged by
// moving a separator between fields.
func TestKey(t *testing.T) {
	parse := func(fields ...string) *Message {
		x, _ := pushOf(append(append([]string(nil), head...), fields...)...)
		m, err := ParseMessage(x)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	msg := parse("MsgType", "text", "Content", "a", "MsgId", "77")
	if k := msg.Key("wxA"); k != (Key{AppID: "wxA", FromUser: "oCustomer", CreateTime: 1764576000, MsgID: "77"}) {
		t.Fatalf("message key %+v", k)
	}
	if msg.Key("wxA") == msg.Key("wxB") {
		t.Fatal("the same MsgId in two accounts collides")
	}
	// WxJava#333: one MsgId for many senders at once.
	other := parse("MsgType", "voice", "MediaId", "m", "MsgId", "77")
	other.FromUserName = "oSomeoneElse"
	if msg.Key("wxA") == other.Key("wxA") {
		t.Fatal("the same MsgId from two senders collides")
	}
	click := parse("MsgType", "event", "Event", "CLICK", "EventKey", "menu1")
	click2 := parse("MsgType", "event", "Event", "CLICK", "EventKey", "menu2")
	if k := click.Key("wxA"); k.Event != "CLICK" || k.EventKey != "menu1" || k.MsgID != "" {
		t.Fatalf("event key %+v", k)
	}
	if click.Key("wxA") == click2.Key("wxA") {
		t.Fatal("two menu taps in the same second collide")
	}
	a := Key{AppID: "wx", FromUser: "o|1", MsgID: "2"}
	b := Key{AppID: "wx", FromUser: "o", MsgID: "1|2"}
	if a.String() == b.String() {
		t.Fatalf("Key.String is ambiguous: %s", a)
	}
}
