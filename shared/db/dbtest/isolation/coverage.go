package isolation

import (
	"bufio"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TableOwners names, for every table of the tenant store, the package (module-relative, "shared/work") whose
// registered cases must cover it. TestEveryTenantTableHasAnOwner fails for a tenant table missing here, and
// the owner's Suite fails until one of its cases lists the table in Tables; a table no store reads for a
// tenant is named in ExemptTables instead.
var TableOwners = map[string]string{
	"tenant.activity":              "shared/work",
	"tenant.attachments":           "shared/work",
	"tenant.comments":              "shared/work",
	"tenant.idempotency_keys":      "shared/idempotency",
	"tenant.project_members":       "shared/work",
	"tenant.project_name_suffixes": "shared/work",
	"tenant.projects":              "shared/work",
	"tenant.search_terms":          "shared/work",
	"tenant.settings":              "shared/tenancy",
	"tenant.task_counts":           "shared/work",
	"tenant.task_labels":           "shared/work",
	"tenant.tasks":                 "shared/work",
	"tenant.usage_counters":        "shared/work",
}

// ExemptTables are tenant tables without an isolation case, with the reason. Every case still shows that B's
// operations change none of A's rows in them (the suite fingerprints every table with a tenant_id).
var ExemptTables = map[string]string{
	"tenant.outbox":           "written by the stores inside each change's transaction and read only by the relay, which publishes every tenant's events by design; no request reads it",
	"tenant.goose_db_version": "the migration tool's bookkeeping, no tenant data",
}

// Exempt are store-like types (exported structs holding database handles) that need no isolation case,
// keyed "shared/pkg.Type", with the reason.
var Exempt = map[string]string{
	"shared/identity.Service":    "identities are global, not tenant data; tenant memberships are covered by shared/members",
	"shared/tenancy.Service":     "sign-up creates a tenant; TestSignUpTenantIsolation shows row-level security hides its rows from other tenants",
	"shared/tenancy.StatusCache": "answers a tenant's own status by its id and holds no tenant's data",
	"shared/service.Env":         "the function's environment, holding the handles stores are built on",
	"shared/sso/signin.Options":  "the options of the sign-in handlers, holding the handles they build stores on",
	"shared/db/dbtest.Database":  "the test database itself",
}

// StoreTypes returns the exported struct types declared in the non-test Go files of dir that hold a database
// handle (*db.DB, *db.Tenants or *db.Directory): the package's stores.
func StoreTypes(dir string) ([]string, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if ok && ts.Name.IsExported() && holdsHandle(st) {
					out = append(out, ts.Name.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func holdsHandle(st *ast.StructType) bool {
	for _, field := range st.Fields.List {
		star, ok := field.Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		sel, ok := star.X.(*ast.SelectorExpr)
		if !ok {
			continue
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == "db" && slices.Contains([]string{"DB", "Tenants", "Directory"}, sel.Sel.Name) {
			return true
		}
	}
	return false
}

// callerPackage returns the running test's package, module-relative ("shared/work"), and its directory (a
// test binary runs in its package's directory).
func callerPackage(t *testing.T) (string, string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := modulePath(dir)
	if err != nil {
		t.Fatal(err)
	}
	return pkg, dir
}

// modulePath names dir as its module's last path element followed by dir's path inside the module:
// .../shared/work is "shared/work" (the module github.com/coditect/hyperscale/shared).
func modulePath(dir string) (string, error) {
	for root := dir; ; {
		if mod, err := moduleName(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				return "", err
			}
			base := mod[strings.LastIndex(mod, "/")+1:]
			if rel == "." {
				return base, nil
			}
			return base + "/" + filepath.ToSlash(rel), nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		root = parent
	}
}

func moduleName(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s names no module", gomod)
}
