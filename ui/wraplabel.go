package ui

import (
	"sort"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/segmenter"
)

// wrapLabel is a label for prose, wrapped the way Chinese text is set: between any two
// characters, never before closing punctuation (，。、；：！？）」』》…) or after opening
// punctuation, and Latin words and URLs kept whole where they fit. Fyne's TextWrapWord
// breaks only at spaces, so a Chinese run after a space jumps to the next line whole and
// leaves the line before it half empty; and no Fyne wrap mode knows punctuation rules.
// The break opportunities are those of Unicode line breaking (UAX #14,
// https://www.unicode.org/reports/tr14/), from go-text/typesetting's segmenter, which
// Fyne already uses for shaping.
//
// Text is the whole text; the label shows it with a line break at each wrap point,
// recomputed when the width changes.
type wrapLabel struct {
	widget.BaseWidget
	Text       string
	Importance widget.Importance
	TextStyle  fyne.TextStyle
	Alignment  fyne.TextAlign
}

func newWrapLabel(text string) *wrapLabel {
	l := &wrapLabel{Text: text}
	l.ExtendBaseWidget(l)
	return l
}

// SetText sets the text and redraws the label.
func (l *wrapLabel) SetText(text string) {
	l.Text = text
	l.Refresh()
}

func (l *wrapLabel) CreateRenderer() fyne.WidgetRenderer {
	r := &wrapLabelRenderer{l: l, shown: widget.NewLabel("")}
	// TextWrapBreak gives the inner label Fyne's wrapped-label size rules (it may be
	// narrower than its longest line); the lines set here fit, so it never breaks one.
	r.shown.Wrapping = fyne.TextWrapBreak
	r.sync()
	return r
}

type wrapLabelRenderer struct {
	l     *wrapLabel
	shown *widget.Label
	// text, style and width of the last wrap, to skip rewrapping on a layout that changed none
	text  string
	style fyne.TextStyle
	width float32
}

func (r *wrapLabelRenderer) sync() {
	r.shown.Importance = r.l.Importance
	r.shown.TextStyle = r.l.TextStyle
	r.shown.Alignment = r.l.Alignment
	r.rewrap(r.l.Size().Width)
}

// rewrap sets the shown text for a label width, measured as the inner label measures it.
func (r *wrapLabelRenderer) rewrap(width float32) {
	text, style := r.l.Text, r.l.TextStyle
	if text == r.text && style == r.style && width == r.width && r.shown.Text != "" {
		return
	}
	r.text, r.style, r.width = text, style, width
	th := r.l.Theme()
	avail := width - 2*th.Size(theme.SizeNameInnerPadding)
	size := th.Size(theme.SizeNameText)
	if avail <= 0 { // not laid out yet: one line per paragraph, as a Label shows it
		r.shown.Text = text
		return
	}
	r.shown.Text = strings.Join(breakLines(text, avail, func(s string) float32 {
		return fyne.MeasureText(s, size, style).Width
	}), "\n")
}

func (r *wrapLabelRenderer) Layout(size fyne.Size) {
	before := r.shown.Text
	r.rewrap(size.Width)
	r.shown.Resize(size)
	if r.shown.Text != before {
		r.shown.Refresh()
	}
}

func (r *wrapLabelRenderer) MinSize() fyne.Size { return r.shown.MinSize() }

func (r *wrapLabelRenderer) Refresh() {
	r.sync()
	r.shown.Refresh()
}

func (r *wrapLabelRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.shown} }

func (r *wrapLabelRenderer) Destroy() {}

// breakLines breaks text into lines no wider than width (as measure says), keeping the
// text's own line breaks. Lines break only at UAX #14 break opportunities, each line
// taking as much as fits; a piece wider than a whole line (a long URL) is broken between
// characters. Spaces at a break are dropped.
func breakLines(text string, width float32, measure func(string) float32) []string {
	var lines []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		lines = append(lines, wrapParagraph(para, width, measure)...)
	}
	return lines
}

func wrapParagraph(para string, width float32, measure func(string) float32) []string {
	if para == "" {
		return []string{""}
	}
	var seg segmenter.Segmenter
	seg.Init([]rune(para))
	var pieces []string // the text between two break opportunities
	for it := seg.LineIterator(); it.Next(); {
		p := string(it.Line().Text)
		if measure(strings.TrimRight(p, spaces)) <= width {
			pieces = append(pieces, p)
			continue
		}
		pieces = append(pieces, characters(it.Line().Text)...)
	}
	return fillLines(pieces, width, measure)
}

const spaces = " \t"

// Punctuation that may not start a line, and that may not end one:
// https://www.w3.org/TR/clreq/#prohibition_rules_for_line_start_and_end
const (
	noLineStart = "，。、；：！？）」』》〉】…—”’,.;:!?)]}"
	noLineEnd   = "（「『《〈【“‘([{"
)

// characters splits a piece wider than a line, which has no break opportunity inside
// (a long URL, a word in a narrow column), between characters: grapheme clusters, so
// an emoji stays whole, with punctuation kept on its character's side.
func characters(piece []rune) []string {
	var chars []string
	var g segmenter.Segmenter
	g.Init(piece)
	for it := g.GraphemeIterator(); it.Next(); {
		c := string(it.Grapheme().Text)
		if n := len(chars); n > 0 {
			first, _ := utf8.DecodeRuneInString(c)
			last, _ := utf8.DecodeLastRuneInString(chars[n-1])
			if strings.ContainsRune(noLineStart, first) || strings.ContainsRune(noLineEnd, last) {
				chars[n-1] += c
				continue
			}
		}
		chars = append(chars, c)
	}
	return chars
}

// fillLines puts pieces on lines greedily: each line takes the most pieces that fit,
// found by binary search (adding a piece never makes a line narrower).
func fillLines(pieces []string, width float32, measure func(string) float32) []string {
	var lines []string
	line := func(from, to int) string { return strings.TrimRight(strings.Join(pieces[from:to], ""), spaces) }
	for i := 0; i < len(pieces); {
		more := sort.Search(len(pieces)-i-1, func(k int) bool { return measure(line(i, i+k+2)) > width })
		lines = append(lines, line(i, i+1+more))
		i += 1 + more
	}
	return lines
}
