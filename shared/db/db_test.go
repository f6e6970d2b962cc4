package db_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func insertProject(t *testing.T, d *dbtest.Database, tenant uuid.UUID, name string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	err := d.DB.Tenants.InTenant(context.Background(), tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(),
			`INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, $3, $4)`,
			tenant, id, name, uuid.New())
		return err
	})
	if err != nil {
		t.Fatalf("insert project: %v", err)
	}
	return id
}

// countAll counts projects with no tenant filter at all, so only row-level security stands between tenants.
func countAll(ctx context.Context, tx pgx.Tx) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM tenant.projects`).Scan(&n)
	return n, err
}

func TestRowLevelSecurityIsolatesTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	a, b := uuid.New(), uuid.New()
	insertProject(t, d, a, "a-1")
	insertProject(t, d, a, "a-2")
	insertProject(t, d, b, "b-1")

	// Control: the owner bypasses RLS and sees all three, so the filtering below comes from the policies.
	var total int
	if err := d.Owner.QueryRow(ctx, `SELECT count(*) FROM tenant.projects`).Scan(&total); err != nil || total != 3 {
		t.Fatalf("owner sees %d projects (err %v), want 3", total, err)
	}

	tests := []struct {
		name   string
		tenant uuid.UUID
		want   int
	}{
		{"tenant A sees its two", a, 2},
		{"tenant B sees only its one", b, 1},
		{"a tenant with no rows sees none", uuid.New(), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got int
			err := d.DB.Tenants.InTenant(ctx, tc.tenant, func(tx pgx.Tx) (err error) {
				got, err = countAll(ctx, tx)
				return err
			})
			if err != nil || got != tc.want {
				t.Fatalf("count = %d, %v; want %d", got, err, tc.want)
			}
		})
	}

	t.Run("no tenant context sees nothing", func(t *testing.T) {
		pool, err := d.DB.Tenants.Resolver().Backend(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		err = db.InTx(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) (err error) {
			got, err = countAll(ctx, tx)
			return err
		})
		if err != nil || got != 0 {
			t.Fatalf("count without context = %d, %v; want 0 and no error", got, err)
		}
	})

	t.Run("tenant B cannot write a row of tenant A", func(t *testing.T) {
		err := d.DB.Tenants.InTenant(ctx, b, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'x', $3)`,
				a, uuid.New(), uuid.New())
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "row-level security") {
			t.Fatalf("cross-tenant insert: got %v, want a row-level security refusal", err)
		}
	})

	t.Run("tenant B cannot change tenant A's rows", func(t *testing.T) {
		var tag pgconn.CommandTag
		err := d.DB.Tenants.InTenant(ctx, b, func(tx pgx.Tx) (err error) {
			tag, err = tx.Exec(ctx, `UPDATE tenant.projects SET name = 'taken' WHERE tenant_id = $1`, a)
			return err
		})
		if err != nil || tag.RowsAffected() != 0 {
			t.Fatalf("cross-tenant update touched %d rows (err %v), want 0", tag.RowsAffected(), err)
		}
	})
}

func TestAppRoleCannotEscapeRowLevelSecurity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	a := uuid.New()
	insertProject(t, d, a, "secret")
	var owner string
	if err := d.Owner.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE schemaname = 'tenant' AND tablename = 'projects'`).Scan(&owner); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		stmts []string
	}{
		{"disable RLS on the table", []string{`ALTER TABLE tenant.projects DISABLE ROW LEVEL SECURITY`}},
		{"drop the policy", []string{`DROP POLICY tenant_isolation ON tenant.projects`}},
		{"turn row_security off", []string{`SET LOCAL row_security = off`, `SELECT count(*) FROM tenant.projects`}},
		{"become the owner", []string{fmt.Sprintf(`SET LOCAL ROLE %q`, owner)}},
		{"become the owner by session authorization", []string{fmt.Sprintf(`SET SESSION AUTHORIZATION %q`, owner)}},
		{"grant itself BYPASSRLS", []string{`ALTER ROLE hyperscale_app BYPASSRLS`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := d.DB.Tenants.InTenant(ctx, uuid.New(), func(tx pgx.Tx) error {
				for _, s := range tc.stmts {
					if _, err := tx.Exec(ctx, s); err != nil {
						return err
					}
				}
				return nil
			})
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				t.Fatalf("got %v, want a PostgreSQL refusal", err)
			}
		})
	}

	var super, bypass bool
	if err := d.Owner.QueryRow(ctx, `SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'hyperscale_app'`).Scan(&super, &bypass); err != nil {
		t.Fatal(err)
	}
	if super || bypass {
		t.Fatalf("hyperscale_app has superuser=%v bypassrls=%v, want neither", super, bypass)
	}
	var owned int
	if err := d.Owner.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'hyperscale_app'`).Scan(&owned); err != nil || owned != 0 {
		t.Fatalf("hyperscale_app owns %d relations (err %v), want none", owned, err)
	}
}

func TestActivityIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	tenant := uuid.New()
	id := uuid.New()
	err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenant.activity (tenant_id, id, entity_type, entity_id, action) VALUES ($1, $2, 'project', $3, 'created')`, tenant, id, uuid.New())
		return err
	})
	if err != nil {
		t.Fatalf("insert activity: %v", err)
	}
	for _, stmt := range []string{
		`UPDATE tenant.activity SET action = 'forged' WHERE tenant_id = $1`,
		`DELETE FROM tenant.activity WHERE tenant_id = $1`,
	} {
		err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, stmt, tenant)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s: got %v, want permission denied", stmt, err)
		}
	}
}

// TestTenantTablesLeadWithTenantID is the catalogue check of DESIGN.md rule 1: in the tenant store every table
// carries tenant_id, and it leads the primary key, every unique constraint and every foreign key; every table
// has row-level security on with a policy. A table added without them fails here.
func TestTenantTablesLeadWithTenantID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)

	rows, err := d.Owner.Query(ctx, `
		SELECT c.relname, c.relrowsecurity,
		       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
		       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'tenant' AND c.relkind IN ('r', 'p') AND c.relname <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for rows.Next() {
		var name string
		var rls, hasTenant bool
		var policies int
		if err := rows.Scan(&name, &rls, &hasTenant, &policies); err != nil {
			t.Fatal(err)
		}
		tables++
		if !hasTenant {
			t.Errorf("tenant.%s has no tenant_id column", name)
		}
		if !rls || policies == 0 {
			t.Errorf("tenant.%s: row security %v with %d policies, want on with at least one", name, rls, policies)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if tables == 0 {
		t.Fatal("no tables found in the tenant schema")
	}

	// Every primary key, unique constraint and foreign key, with its first column and, for foreign keys, the
	// first referenced column.
	rows, err = d.Owner.Query(ctx, `
		SELECT c.conrelid::regclass::text, c.conname, c.contype,
		       (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]),
		       CASE WHEN c.contype = 'f' THEN (SELECT attname FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = c.confkey[1]) END,
		       CASE WHEN c.contype = 'f' THEN (SELECT nspname FROM pg_namespace n JOIN pg_class k ON k.relnamespace = n.oid WHERE k.oid = c.confrelid) END
		FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
		WHERE n.nspname = 'tenant' AND r.relname <> 'goose_db_version' AND c.contype IN ('p', 'u', 'f')
		UNION ALL
		-- Unique indexes made without a constraint count too.
		SELECT i.indrelid::regclass::text, x.relname, 'i',
		       (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]), NULL, NULL
		FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class r ON r.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = r.relnamespace
		WHERE n.nspname = 'tenant' AND r.relname <> 'goose_db_version' AND i.indisunique
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys := 0
	for rows.Next() {
		var table, name, kind string
		var first string
		var refFirst, refSchema *string
		if err := rows.Scan(&table, &name, &kind, &first, &refFirst, &refSchema); err != nil {
			t.Fatal(err)
		}
		keys++
		if first != "tenant_id" {
			t.Errorf("%s: %s (%s) leads with %q, want tenant_id", table, name, kind, first)
		}
		if kind == "f" && refSchema != nil && *refSchema == "tenant" && (refFirst == nil || *refFirst != "tenant_id") {
			t.Errorf("%s: foreign key %s does not reference tenant_id first", table, name)
		}
		if kind == "f" && refSchema != nil && *refSchema != "tenant" {
			t.Errorf("%s: foreign key %s crosses into schema %s; the stores are never joined", table, name, *refSchema)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if keys < tables {
		t.Fatalf("found %d keys for %d tables; every table needs a primary key", keys, tables)
	}
}

func TestInTxRollsBackAndKeepsTheCause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	tenant := uuid.New()
	cause := errors.New("handler refused")
	err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'gone', $3)`, tenant, uuid.New(), uuid.New()); err != nil {
			return err
		}
		return cause
	})
	if !errors.Is(err, cause) {
		t.Fatalf("got %v, want the cause kept", err)
	}
	var n int
	if err := d.Owner.QueryRow(ctx, `SELECT count(*) FROM tenant.projects`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows after rollback (err %v), want 0", n, err)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	tenant := uuid.New()
	id := insertProject(t, d, tenant, "first")

	tests := []struct {
		name string
		sql  string
		args []any
		want error
	}{
		{"duplicate key is a conflict", `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'again', $1)`, []any{tenant, id}, db.ErrConflict},
		{"check constraint", `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, '', $1)`, []any{tenant, uuid.New()}, db.ErrCheck},
		{"not null", `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, NULL, $1)`, []any{tenant, uuid.New()}, db.ErrCheck},
		{"no rows is not found", `SELECT name FROM tenant.projects WHERE tenant_id = $1 AND id = $2`, []any{tenant, uuid.New()}, db.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
				var s string
				return tx.QueryRow(ctx, tc.sql, tc.args...).Scan(&s)
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("foreign key", func(t *testing.T) {
		err := d.DB.Directory.Platform(ctx, db.EntrySignUp, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, 'owner')`, uuid.New(), uuid.New())
			return err
		})
		if !errors.Is(err, db.ErrForeignKey) || db.Constraint(err) == "" {
			t.Fatalf("got %v (constraint %q), want a foreign key error naming its constraint", err, db.Constraint(err))
		}
	})
	if db.Classify(nil) != nil {
		t.Fatal("Classify(nil) is not nil")
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := db.Config{URL: "", TenantURL: "postgres://%zz", MaxConns: 0, ExecMode: "fast"}
	err := c.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"DATABASE_URL is required", "TENANT_DATABASE_URL", "DB_MAX_CONNS", "DB_EXEC_MODE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	good := db.Config{URL: "postgres://u@localhost/db", MaxConns: 4, ExecMode: "exec"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}
