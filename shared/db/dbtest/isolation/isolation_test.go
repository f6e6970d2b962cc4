package isolation_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/jackc/pgx/v5"
)

// Every table of the tenant store has a package whose cases cover it, or a recorded reason it needs none; and
// the lists name no table that is gone.
func TestEveryTenantTableHasAnOwner(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	rows, err := d.Owner.Query(context.Background(), `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema = 'tenant' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		t.Fatalf("tenant tables %v, %v", tables, err)
	}
	for _, table := range tables {
		_, owned := isolation.TableOwners[table]
		_, exempt := isolation.ExemptTables[table]
		if owned == exempt {
			t.Errorf("tenant table %s: owned %v, exempt %v; name the package whose isolation cases cover it in TableOwners", table, owned, exempt)
		}
	}
	for _, m := range []map[string]string{isolation.TableOwners, isolation.ExemptTables} {
		for table := range m {
			if !slices.Contains(tables, table) {
				t.Errorf("%s is listed but is no tenant table", table)
			}
		}
	}
}

// Every package of the shared module that declares a store type runs the suite, which then requires a case
// for each of its stores: a new store package cannot ship without isolation cases.
func TestEveryStorePackageRunsTheSuite(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../../..") // shared/db/dbtest/isolation -> shared
	if err != nil {
		t.Fatal(err)
	}
	var packages []string
	err = filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil || !e.IsDir() {
			return err
		}
		if e.Name() == "testdata" {
			return filepath.SkipDir
		}
		stores, err := isolation.StoreTypes(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(root), path)
		pkg := filepath.ToSlash(rel)
		stores = slices.DeleteFunc(stores, func(s string) bool { _, ok := isolation.Exempt[pkg+"."+s]; return ok })
		if len(stores) == 0 {
			return nil
		}
		packages = append(packages, pkg)
		tests, _ := filepath.Glob(filepath.Join(path, "*_test.go"))
		for _, f := range tests {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "isolation.Suite(t)") {
				return nil
			}
		}
		t.Errorf("%s declares stores %v but no test of it calls isolation.Suite(t)", pkg, stores)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must have found the known store packages, or it checked nothing.
	for _, want := range []string{"shared/work", "shared/tenancy", "shared/members", "shared/idempotency"} {
		if !slices.Contains(packages, want) {
			t.Errorf("the walk found store packages %v, not %s", packages, want)
		}
	}
}

// settingsFixture is the self-test's fixture: tenant A has a settings row, B has none.
type settingsFixture struct {
	isolation.Tenants
	tenants *db.Tenants
}

func arrangeSettings(t *testing.T, d *dbtest.Database, w isolation.Wall) settingsFixture {
	f := settingsFixture{Tenants: isolation.NewTenants(), tenants: w.DB.Tenants}
	if _, err := d.Owner.Exec(context.Background(), `INSERT INTO tenant.settings (tenant_id, features) VALUES ($1, '{"a": true}')`, f.Tenant(isolation.A)); err != nil {
		t.Fatal(err)
	}
	return f
}

// readFeatures reads the features of tenant as's settings; leak drops the tenant filter from the query.
func readFeatures(leak bool) func(context.Context, settingsFixture, isolation.Side) (int, error) {
	return func(ctx context.Context, f settingsFixture, as isolation.Side) (int, error) {
		where := `WHERE tenant_id = $1`
		if leak {
			where = `WHERE $1::uuid IS NOT NULL`
		}
		return isolation.One(f.tenants.InTenant(ctx, f.Tenant(as), func(tx pgx.Tx) error {
			var features string
			return tx.QueryRow(ctx, `SELECT features::text FROM tenant.settings `+where, f.Tenant(as)).Scan(&features)
		}))
	}
}

// selfTests are cases that must fail the suite, each with the failure it must report.
var selfTests = map[string]struct {
	c    isolation.Case[settingsFixture]
	want string
}{
	"a read without its tenant filter": {
		c: isolation.Case[settingsFixture]{Name: "leak", Tables: []string{"tenant.settings"}, Arrange: arrangeSettings,
			Ops: []isolation.Op[settingsFixture]{{Name: "get", Run: readFeatures(true)}}},
		want: "owner_without_RLS/get",
	},
	"a write without its tenant filter": {
		c: isolation.Case[settingsFixture]{Name: "write", Tables: []string{"tenant.settings"}, Arrange: arrangeSettings,
			Ops: []isolation.Op[settingsFixture]{{Name: "touch", Want: isolation.Nothing, Run: func(ctx context.Context, f settingsFixture, as isolation.Side) (int, error) {
				err := f.tenants.InTenant(ctx, f.Tenant(as), func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `UPDATE tenant.settings SET updated_at = now() + interval '1 hour' WHERE $1::uuid IS NOT NULL`, f.Tenant(as))
					return err
				})
				// Reports nothing seen, as a careless store would: only the fingerprint of A's rows shows the write.
				return 0, err
			}}}},
		want: "tenant A's rows changed (in tenant.settings)",
	},
	"a fixture that leaves nothing of A": {
		c: isolation.Case[settingsFixture]{Name: "fixture", Tables: []string{"tenant.settings"},
			Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) settingsFixture {
				return settingsFixture{Tenants: isolation.NewTenants(), tenants: w.DB.Tenants}
			},
			Ops: []isolation.Op[settingsFixture]{{Name: "get", Run: readFeatures(false)}}},
		want: "fixture leaves no row of tenant A in tenant.settings",
	},
	"an operation that reaches nothing": {
		c: isolation.Case[settingsFixture]{Name: "control", Tables: []string{"tenant.settings"}, Arrange: arrangeSettings,
			Ops: []isolation.Op[settingsFixture]{{Name: "get", Run: func(context.Context, settingsFixture, isolation.Side) (int, error) {
				return 0, db.ErrNotFound
			}}}},
		want: "positive control as tenant A",
	},
}

// The suite passes a correct store, and fails each broken one with the reason: the self-tests run in a child
// process (a failing subtest cannot be contained in this one), selected by ISOLATION_SELF_TEST.
func TestSuiteFailsWhatLeaks(t *testing.T) {
	if name := os.Getenv("ISOLATION_SELF_TEST"); name != "" {
		isolation.Test(selfTests[name].c)(t)
		return
	}
	t.Parallel()
	t.Run("a correct store passes", isolation.Test(isolation.Case[settingsFixture]{
		Name: "settings", Tables: []string{"tenant.settings"}, Arrange: arrangeSettings,
		Ops: []isolation.Op[settingsFixture]{{Name: "get", Run: readFeatures(false)}},
	}))
	for name, st := range selfTests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteFailsWhatLeaks$", "-test.v")
			cmd.Env = append(os.Environ(), "ISOLATION_SELF_TEST="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed (%v); want it to fail:\n%s", err, out)
			}
			if !strings.Contains(string(out), st.want) {
				t.Fatalf("the suite failed without %q:\n%s", st.want, out)
			}
		})
	}
}
