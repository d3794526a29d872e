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
				// t.Format("2006-…"): a time shown in some zone; FormatTime shows it in TimeZone.
				if call, ok := n.(*ast.CallExpr); ok && isTimeLayoutCall(call) {
					t.Errorf("%s: a time formatted around workspace.FormatTime (one zone everywhere)", fset.Position(call.Pos()))
				}
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				// x.DB.Method(…): a write to the database around the workspace.
				if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "DB" && isWrite(sel.Sel.Name) {
					t.Errorf("%s: %s writes storage directly; add a Workspace method", fset.Position(sel.Pos()), sel.Sel.Name)
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

// isTimeLayoutCall: call is x.Format with a time layout literal ("2006-01-02", "15:04"…) first.
func isTimeLayoutCall(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Format" || len(call.Args) == 0 {
		return false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	return ok && (strings.Contains(lit.Value, "2006") || strings.Contains(lit.Value, "15:04"))
}
