package fault_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// domainPackages are the packages whose exported errors a handler may return; each must declare its kind.
var domainPackages = []string{"db", "identity", "members", "tenancy", "work", "sso", "sso/signin", "idempotency", "page", "access", "valid"}

// exempt are exported errors that never reach a handler as they are, each with the reason it may stay plain.
var exempt = map[string]string{
	// Dialling a blocked address fails inside the HTTP client; signin reports it as ErrProviderUnavailable.
	"sso.ErrBlockedAddress": "wrapped by signin.ErrProviderUnavailable before it leaves sso",
}

// TestDomainErrorsDeclareAKind fails on an exported Err... variable of a domain package that is not a
// fault.New declaration (or an alias or %w-wrapping of one), so a new error cannot ship without its answer.
func TestDomainErrorsDeclareAKind(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, pkg := range domainPackages {
		dir := filepath.Join("..", filepath.FromSlash(pkg))
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range errorVars(file) {
				checked++
				key := filepath.Base(pkg) + "." + v.name
				if _, ok := exempt[key]; ok {
					continue
				}
				if !declaresKind(v.value) {
					t.Errorf("%s/%s: %s is not declared with fault.New (nor an alias or %%w wrapping of such an error); give it a kind and a code, or exempt it with a reason", pkg, name, key)
				}
			}
		}
	}
	if checked < 40 {
		t.Fatalf("checked only %d error variables: the walk is not finding the declarations", checked)
	}
}

type errorVar struct {
	name  string
	value ast.Expr
}

// errorVars returns the package-level exported variables named Err... with their initial values.
func errorVars(f *ast.File) []errorVar {
	var out []errorVar
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Err") || !n.IsExported() {
					continue
				}
				var val ast.Expr
				if i < len(vs.Values) {
					val = vs.Values[i]
				}
				out = append(out, errorVar{n.Name, val})
			}
		}
	}
	return out
}

// declaresKind accepts fault.New(...), an alias of another package's or this package's Err... variable, and
// fmt.Errorf("%w: ...", ErrX), whose chain carries ErrX's kind.
func declaresKind(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.CallExpr:
		fn, ok := x.Fun.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		pkg, _ := fn.X.(*ast.Ident)
		switch {
		case pkg != nil && pkg.Name == "fault" && fn.Sel.Name == "New":
			return true
		case pkg != nil && pkg.Name == "fmt" && fn.Sel.Name == "Errorf" && len(x.Args) > 1:
			lit, ok := x.Args[0].(*ast.BasicLit)
			return ok && strings.HasPrefix(lit.Value, `"%w`) && declaresKindRef(x.Args[1])
		}
	case *ast.SelectorExpr, *ast.Ident:
		return declaresKindRef(x)
	}
	return false
}

// declaresKindRef accepts a reference to an Err... variable, which this test checks where it is declared.
func declaresKindRef(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Ident:
		return strings.HasPrefix(x.Name, "Err")
	case *ast.SelectorExpr:
		return strings.HasPrefix(x.Sel.Name, "Err")
	}
	return false
}
