package workspace

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// The window (ui), the command line (ui/cli) and the push server (ui/serve) reach WeChat and write data only
// through Workspace: neither may build a WeChat client, nor call a method of
// storage.DB that writes. (Workspace.client is unexported, so they cannot get the
// account's client either.) Reads of pages may stay direct.
func TestFrontEndsGoThroughTheWorkspace(t *testing.T) {
	writes := map[string]bool{}
	for _, name := range []string{"Add", "Set", "Save", "Delete", "Update", "Replace", "Log", "Clear", "Export", "Backup", "Write", "Store"} {
		writes[name] = true
	}
	isWrite := func(method string) bool {
		for prefix := range writes { // SetNote, SaveDraft… (but not Setting)
			if rest, ok := strings.CutPrefix(method, prefix); ok && (rest == "" || unicode.IsUpper(rune(rest[0]))) {
				return true
			}
		}
		return false
	}
	fset := token.NewFileSet()
	for _, dir := range []string{"..", "../cli", "../serve"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				// x.DB.Method(…): a write to the database around the workspace.
				if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "DB" && isWrite(sel.Sel.Name) {
					t.Errorf("%s: %s writes storage directly; add a Workspace method", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				// t.Format("2006-…"): a time shown in some zone; FormatTime shows it in TimeZone.
				if sel.Sel.Name == "Format" {
					if call, ok := n.(*ast.SelectorExpr); ok && call != nil && isTimeLayoutCall(f, sel) {
						t.Errorf("%s: a time formatted around workspace.FormatTime (one zone everywhere)", fset.Position(sel.Pos()))
					}
				}
				// api.New(…): a WeChat client of its own.
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "api" && sel.Sel.Name == "New" {
					t.Errorf("%s: a front-end builds a WeChat client; use Workspace", fset.Position(sel.Pos()))
				}
				return true
			})
		}
	}
}

// isTimeLayoutCall: sel is the Format of a call whose first argument is a time
// layout literal ("2006-01-02", "15:04"…).
func isTimeLayoutCall(f *ast.File, sel *ast.SelectorExpr) bool {
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || call.Fun != sel || len(call.Args) == 0 {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && (strings.Contains(lit.Value, "2006") || strings.Contains(lit.Value, "15:04")) {
			found = true
		}
		return true
	})
	return found
}
