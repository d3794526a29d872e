package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
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

// Keys are shared by all screens: one English text must not get two Chinese texts in
// two files ("To" was 接收人 in the composer and 结束日期 in the chat records, and the
// file loaded last won on both screens).
func TestTranslationFilesAgree(t *testing.T) {
	files, err := fs.Glob(translationFS, "translations/*.zh_Hans.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("files %v, %v", files, err)
	}
	seen := map[string]string{} // key -> "file: text"
	for _, f := range files {
		b, _ := translationFS.ReadFile(f)
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range m {
			if prev, ok := seen[k]; ok && !strings.HasSuffix(prev, ": "+v) {
				t.Errorf("%q is %s and %s: %s", k, prev, f, v)
			}
			seen[k] = f + ": " + v
		}
	}
}
