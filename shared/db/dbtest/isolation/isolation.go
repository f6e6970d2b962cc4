// Package isolation is the one conformance suite of tenant isolation: "another tenant sees nothing", written
// once and run for every store. A store's test file registers a Case (how to create tenant A's data, and the
// operations tenant B tries on it); the package's TestIsolation calls Suite, which checks that every store
// type of the package and every tenant table the package owns has a case, then runs each case.
//
// Every operation runs twice: through the application role (the query's tenant filter and row-level security)
// and through the owner, which bypasses row-level security, so the query's explicit tenant_id filter is shown
// to hold on its own. As tenant B an operation must find or change nothing (db.ErrNotFound, an empty list,
// zero rows), and no row of tenant A, in any table with a tenant_id, may differ afterwards. Then the same
// operation runs as tenant A and must see A's data: the positive control, so a fixture that reaches nothing
// cannot pass. The shape follows Kratos' persister test suites: the suite is a function of a registration.
package isolation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Side names one of a case's two tenants.
type Side int

const (
	// A owns the data the operations reach for.
	A Side = iota
	// B tries the operations on A's data and must see and change none of it.
	B
)

func (s Side) String() string { return [...]string{"A", "B"}[s] }

// Fixture is what a case's Arrange returns: it knows the two tenants' ids.
type Fixture interface {
	Tenant(Side) uuid.UUID
}

// Tenants is a Fixture of two fresh tenant ids, for embedding in a case's fixture.
type Tenants [2]uuid.UUID

// NewTenants returns two fresh tenant ids.
func NewTenants() Tenants { return Tenants{uuid.New(), uuid.New()} }

// Tenant returns side's tenant id.
func (t Tenants) Tenant(s Side) uuid.UUID { return t[s] }

// Wall is one of the two connections every operation runs through.
type Wall struct {
	// Name is "application role" or "owner without RLS".
	Name string
	// DB holds the handles the case's store must be built on.
	DB *db.DB
	// RLS is false for the owner, whose connections bypass row-level security.
	RLS bool
}

// Want is the outcome an operation must have as tenant B.
type Want int

const (
	// NotFound: the operation fails with db.ErrNotFound.
	NotFound Want = iota
	// Nothing: the operation succeeds and reports zero of A's things seen or changed (an empty list).
	Nothing
)

// Op is one store operation on tenant A's data, run as either tenant.
type Op[F Fixture] struct {
	Name string
	// Run performs the operation acting as tenant as (with that tenant's actors) on A's data, and returns how
	// many of A's things it saw or changed: 1 for a single read or a write that succeeded (see One), the
	// number of A's rows for a list (see Len).
	Run func(ctx context.Context, f F, as Side) (int, error)
	// Want is what Run must come to as B; ignored when WantErr or Judge is set.
	Want Want
	// WantErr, when set, is the error B's Run must fail with (errors.Is): a refusal other than not found.
	WantErr error
	// Judge, when set, decides B's outcome: it returns why the outcome is a leak, or nil.
	Judge func(n int, err error) error
}

// Case is one store's isolation case.
type Case[F Fixture] struct {
	// Name names the case in test output.
	Name string
	// Stores names the exported store types (of the registering package) the case covers.
	Stores []string
	// Tables names the tables ("tenant.projects") the case covers. Arrange must leave rows of tenant A in each,
	// which the suite checks.
	Tables []string
	// Arrange creates, as tenant A, the data the operations reach for (and whatever tenant B needs of its
	// own), building the store on w.DB. It runs afresh for every operation and wall, in one test database.
	Arrange func(t *testing.T, d *dbtest.Database, w Wall) F
	// Ops are the operations tenant B tries.
	Ops []Op[F]
	// Check, when set, runs after each of B's operations, before the positive control: the case's own checks
	// that A's data is intact or that B's attempt left no trace (events, objects).
	Check func(t *testing.T, d *dbtest.Database, f F)
}

// One turns an error into Run's result for a single read or write: 1 on success.
func One(err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// Len turns a list and its error into Run's result: the list's length on success.
func Len[T any](items []T, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return len(items), nil
}

// runner is a Case with its fixture type erased, for the registry.
type runner interface {
	name() string
	stores() []string
	tables() []string
	run(t *testing.T)
}

func (c Case[F]) name() string     { return c.Name }
func (c Case[F]) stores() []string { return c.Stores }
func (c Case[F]) tables() []string { return c.Tables }
func (c Case[F]) run(t *testing.T) { Test(c)(t) }

var registry struct {
	mu    sync.Mutex
	cases []runner
}

// Register adds c to the registry Suite runs, and returns true, so that a test file registers its cases with
// a package-level `var _ = isolation.Register(...)`.
func Register[F Fixture](c Case[F]) bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	registry.cases = append(registry.cases, c)
	return true
}

// Test returns the test that runs c: for each wall and operation, a fresh Arrange, the operation as B, the
// check that none of A's rows changed, the case's Check, and the operation as A.
func Test[F Fixture](c Case[F]) func(*testing.T) {
	return func(t *testing.T) {
		t.Parallel()
		if len(c.Ops) == 0 {
			t.Fatalf("case %s has no operations", c.Name)
		}
		d := dbtest.New(t)
		snap := snapshotter(t, d.Owner)
		for _, w := range []Wall{{"application role", d.DB, true}, {"owner without RLS", d.OwnerDB, false}} {
			t.Run(w.Name, func(t *testing.T) {
				for _, op := range c.Ops {
					t.Run(op.Name, func(t *testing.T) {
						ctx := context.Background()
						f := c.Arrange(t, d, w)
						a, b := f.Tenant(A), f.Tenant(B)
						if a == b || a == uuid.Nil || b == uuid.Nil {
							t.Fatalf("fixture tenants A %s and B %s must be two tenants", a, b)
						}
						for _, table := range c.Tables {
							if n := countRows(t, d.Owner, table, a); n == 0 {
								t.Fatalf("fixture leaves no row of tenant A in %s, which the case claims to cover", table)
							}
						}
						before := snap(a)
						n, err := op.Run(ctx, f, B)
						if why := op.judge(n, err); why != nil {
							t.Errorf("as tenant B: %v", why)
						}
						if after := snap(a); after != before {
							t.Errorf("as tenant B: tenant A's rows changed (%s)", diffTables(before, after))
						}
						if c.Check != nil {
							c.Check(t, d, f)
						}
						if n, err := op.Run(ctx, f, A); err != nil || n == 0 {
							t.Errorf("positive control as tenant A: saw %d of its own (%v), want some: the fixture or the operation reaches nothing", n, err)
						}
					})
				}
			})
		}
	}
}

func (op Op[F]) judge(n int, err error) error {
	switch {
	case op.Judge != nil:
		return op.Judge(n, err)
	case op.WantErr != nil:
		if !errors.Is(err, op.WantErr) {
			return fmt.Errorf("got %d, %v; want %v", n, err, op.WantErr)
		}
	case op.Want == Nothing:
		if err != nil || n != 0 {
			return fmt.Errorf("saw %d of A's (%v), want none", n, err)
		}
	default:
		if !errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("got %d, %v; want not found", n, err)
		}
	}
	return nil
}

// Suite checks that the calling package's store types and owned tenant tables all have a registered case,
// then runs every registered case as a parallel subtest. Call it from one TestIsolation per package.
func Suite(t *testing.T) {
	registry.mu.Lock()
	cases := slices.Clone(registry.cases)
	registry.mu.Unlock()
	pkg, dir := callerPackage(t)
	t.Run("every store and table has a case", func(t *testing.T) {
		covered := map[string]bool{}
		tables := map[string]bool{}
		for _, c := range cases {
			for _, s := range c.stores() {
				covered[s] = true
			}
			for _, tb := range c.tables() {
				tables[tb] = true
			}
		}
		stores, err := StoreTypes(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stores {
			if _, ok := Exempt[pkg+"."+s]; !ok && !covered[s] {
				t.Errorf("store type %s.%s has no isolation case: register one with isolation.Register in its test file", pkg, s)
			}
		}
		for _, c := range cases {
			for _, s := range c.stores() {
				if !slices.Contains(stores, s) {
					t.Errorf("case %s covers %s, which is no store type of %s", c.name(), s, pkg)
				}
			}
		}
		for table, owner := range TableOwners {
			if owner == pkg && !tables[table] {
				t.Errorf("table %s belongs to %s's cases, and none covers it", table, pkg)
			}
		}
	})
	for _, c := range cases {
		t.Run(c.name(), c.run)
	}
}

// snapshotter returns a function that fingerprints every row of a tenant in every table with a tenant_id
// column, per table, so that a change to any of them shows.
func snapshotter(t *testing.T, owner *pgxpool.Pool) func(tenant uuid.UUID) string {
	t.Helper()
	ctx := context.Background()
	rows, err := owner.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.columns
		WHERE column_name = 'tenant_id' AND table_schema IN ('tenant', 'directory') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, s)
	}
	if rows.Err() != nil || len(tables) == 0 {
		t.Fatalf("list tables with a tenant_id: %v (%d)", rows.Err(), len(tables))
	}
	parts := make([]string, len(tables))
	for i, table := range tables {
		parts[i] = fmt.Sprintf(`SELECT '%s=' || md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM %s r WHERE tenant_id = $1`, table, table)
	}
	sql := `SELECT string_agg(x, ' ') FROM (` + strings.Join(parts, " UNION ALL ") + `) s(x)`
	return func(tenant uuid.UUID) string {
		var s string
		if err := owner.QueryRow(ctx, sql, tenant).Scan(&s); err != nil {
			t.Fatalf("snapshot tenant %s: %v", tenant, err)
		}
		return s
	}
}

func diffTables(before, after string) string {
	b, a := strings.Fields(before), strings.Fields(after)
	var changed []string
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			changed = append(changed, strings.SplitN(a[i], "=", 2)[0])
		}
	}
	return "in " + strings.Join(changed, ", ")
}

func countRows(t *testing.T, owner *pgxpool.Pool, table string, tenant uuid.UUID) int {
	t.Helper()
	var n int
	ident := pgx.Identifier(strings.Split(table, ".")).Sanitize()
	if err := owner.QueryRow(context.Background(), `SELECT count(*) FROM `+ident+` WHERE tenant_id = $1`, tenant).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
