package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// usedTexts finds every T("…") literal in the package's (non-test) sources, so a
// text added without a translation fails the build instead of showing English to a
// Chinese operator.
func usedTexts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "T" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				keys = append(keys, s)
			}
			return true
		})
	}
	if len(keys) < 20 {
		t.Fatalf("found only %d texts; the scan is broken", len(keys))
	}
	return keys
}

func TestTranslateFormats(t *testing.T) {
	SetLanguage("zh")
	if got := T("Data folder: %s", "/tmp/x"); got != "数据文件夹：/tmp/x" {
		t.Fatalf("zh: %q", got)
	}
	SetLanguage("en")
	if got := T("Data folder: %s", "/tmp/x"); got != "Data folder: /tmp/x" {
		t.Fatalf("en: %q", got)
	}
}
