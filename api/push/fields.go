package push

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
)

// Format is how a body is written: WeChat's XML, or a Mini Program's JSON.
type Format int

const (
	FormatXML  Format = iota + 1 // <xml>…</xml>: every Official Account, and Mini Programs set to XML
	FormatJSON                   // {…}: Mini Programs set to JSON (数据格式 JSON)
)

func (f Format) String() string {
	switch f {
	case FormatXML:
		return "xml"
	case FormatJSON:
		return "json"
	}
	return "unknown"
}

// DetectFormat decides XML or JSON from the first non-blank byte of body ('<' or
// '{'), not from Content-Type, which peers read differently.
func DetectFormat(body []byte) (Format, error) {
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 {
		return 0, ErrMalformed.with("empty body")
	}
	switch b[0] {
	case '<':
		return FormatXML, nil
	case '{':
		return FormatJSON, nil
	}
	return 0, ErrMalformed.with("body starts with neither '<' nor '{'")
}

// maxDepth bounds element nesting. The deepest documented push is a menu event's
// SendPicsInfo/PicList/item/PicMd5Sum, 5 levels with <xml>.
const maxDepth = 8

// fields is a push's top-level fields by name, each as sent: XML character data
// (CDATA or text, untrimmed) or a JSON string's value, or a JSON number's exact
// digits (so a 64-bit MsgId survives). Nested groups are skipped; the caller keeps
// the raw body.
type fields map[string]string

// parseFields reads a flat WeChat body in either format. It refuses what the docs
// never send: a DOCTYPE or other directive (entity tricks), a root other than
// <xml>, nesting deeper than maxDepth, a field given twice, trailing data.
func parseFields(format Format, body []byte) (fields, error) {
	if len(body) > MaxBody {
		return nil, ErrTooLarge.with("%d bytes", len(body))
	}
	if format == FormatJSON {
		return parseJSONFields(body)
	}
	return parseXMLFields(body)
}

func parseXMLFields(body []byte) (fields, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	f := fields{}
	depth := 0
	var name string     // the open top-level element
	var text []byte     // its character data
	var leaf, seen bool // it has no child elements; <xml> was opened
	for {
		tok, err := d.Token() // Token, not RawToken: it checks that end tags match
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, ErrMalformed.with("xml: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, ErrMalformed.with("xml: a DOCTYPE or other directive")
		case xml.ProcInst:
			if t.Target != "xml" || depth > 0 || seen {
				return nil, ErrMalformed.with("xml: processing instruction <?%s?>", t.Target)
			}
		case xml.StartElement:
			depth++
			switch {
			case depth > maxDepth:
				return nil, ErrMalformed.with("xml: nested deeper than %d", maxDepth)
			case depth == 1:
				if seen || t.Name.Local != "xml" || t.Name.Space != "" {
					return nil, ErrMalformed.with("xml: the root must be one <xml>")
				}
				seen = true
			case depth == 2:
				name, text, leaf = xmlName(t.Name), text[:0], true
			case depth == 3:
				leaf = false
			}
		case xml.EndElement:
			if depth == 2 && leaf {
				if _, dup := f[name]; dup {
					return nil, ErrMalformed.with("xml: field %s given twice", name)
				}
				f[name] = string(text)
			}
			depth--
		case xml.CharData:
			switch {
			case depth == 2:
				text = append(text, t...)
			case depth < 1 && len(bytes.TrimSpace(t)) > 0:
				return nil, ErrMalformed.with("xml: text outside <xml>")
			}
		}
	}
	if !seen || depth != 0 {
		return nil, ErrMalformed.with("xml: no complete <xml> element")
	}
	return f, nil
}

func xmlName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func parseJSONFields(body []byte) (fields, error) {
	d := json.NewDecoder(bytes.NewReader(body)) // values as RawMessage: a number keeps its digits
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, ErrMalformed.with("json: not an object")
	}
	f := fields{}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, ErrMalformed.with("json: %v", err)
		}
		key := tok.(string) // inside an object the decoder yields only string keys
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, ErrMalformed.with("json: %v", err)
		}
		if seen[key] {
			return nil, ErrMalformed.with("json: field %s given twice", key)
		}
		seen[key] = true
		switch raw[0] {
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, ErrMalformed.with("json: %v", err)
			}
			f[key] = s
		case '{', '[', 'n': // groups and null: not a flat field
		default: // a number's exact digits, or true/false
			f[key] = string(raw)
		}
	}
	if _, err := d.Token(); err != nil { // the closing '}'
		return nil, ErrMalformed.with("json: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, ErrMalformed.with("json: data after the object")
	}
	return f, nil
}
