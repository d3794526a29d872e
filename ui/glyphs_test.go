package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"golang.org/x/image/font/sfnt"

	"kfdesk/assets"
)

// Every character the window's own texts use has a glyph in the fonts it draws with:
// the bundled Chinese font, or Fyne's font for what that lacks (cjkTheme). Linux
// fills gaps from the system's fonts, Windows does not: "≈" drew as "�" there.
func TestEveryTextCharacterHasAGlyph(t *testing.T) {
	fonts := []*sfnt.Font{parseFont(t, assets.CJKFont), parseFont(t, theme.DefaultTheme().Font(fyne.TextStyle{}))}
	var buf sfnt.Buffer
	drawn := func(r rune) bool {
		for _, f := range fonts {
			if i, err := f.GlyphIndex(&buf, r); err == nil && i != 0 {
				return true
			}
		}
		return false
	}
	missing := map[rune][]string{}
	check := func(where, s string) {
		for _, r := range s {
			if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\uFFFD' {
				continue
			}
			if !drawn(r) && len(missing[r]) < 3 {
				missing[r] = append(missing[r], where)
			}
		}
	}
	files, _ := filepath.Glob("translations/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(p, err)
		}
		for en, zh := range m {
			check(p, en)
			check(p, zh)
		}
	}
	srcs, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, p := range srcs {
		if strings.HasSuffix(p, "_test.go") || p == "wraplabel.go" { // wraplabel.go: line-break rules, not shown text
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					check(fset.Position(lit.Pos()).String(), s)
				}
			}
			return true
		})
	}
	var rs []rune
	for r := range missing {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	for _, r := range rs {
		t.Errorf("%q (U+%04X) has no glyph in the window's fonts; used at %v", r, r, missing[r])
	}
}

func parseFont(t *testing.T, r fyne.Resource) *sfnt.Font {
	t.Helper()
	f, err := sfnt.Parse(r.Content())
	if err != nil {
		t.Fatal(r.Name(), err)
	}
	return f
}
