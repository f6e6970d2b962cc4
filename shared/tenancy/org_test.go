package tenancy_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// newOrg inserts an organization into the directory as the owner and returns its id.
func newOrg(t *testing.T, d *dbtest.Database, slug string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	if _, err := d.Owner.Exec(context.Background(), `INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, $3)`, id, slug, "Org "+slug); err != nil {
		t.Fatalf("fixture organization %s: %v", slug, err)
	}
	return id
}

// fields returns the failing field names of a validation error, or fails t when err is not one.
func fields(t *testing.T, err error) []string {
	t.Helper()
	var ve valid.Errors
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want validation errors", err)
	}
	var out []string
	for _, f := range ve {
		out = append(out, f.Field)
	}
	return out
}

// errorLog collects a store's log and fails the test if it logged an error.
func errorLog(t *testing.T) *slog.Logger {
	t.Helper()
	logs := &logBuffer{}
	t.Cleanup(func() {
		if s := logs.String(); strings.Contains(s, "level=ERROR") {
			t.Errorf("the store logged an error:\n%s", s)
		}
	})
	return slog.New(slog.NewTextHandler(logs, nil))
}

func TestTenantInputValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		fields         []string
	}{
		{"plain", "Acme", "Acme", nil},
		{"trimmed", "  Acme Inc \n", "Acme Inc", nil},
		{"200 multi-byte characters", strings.Repeat("ñ", 200), strings.Repeat("ñ", 200), nil},
		{"empty", "", "", []string{"name"}},
		{"only spaces", " \t ", "", []string{"name"}},
		{"201 characters", strings.Repeat("n", 201), strings.Repeat("n", 201), []string{"name"}},
		{"NUL", "Ac\x00me", "Ac\x00me", []string{"name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tenancy.TenantInput{Name: tc.in}
			err := in.Validate()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
			} else if got := fields(t, err); strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("failing fields %v, want %v", got, tc.fields)
			}
			if in.Name != tc.want {
				t.Fatalf("name %q, want %q", in.Name, tc.want)
			}
		})
	}
}

func TestOrganizationGetAndRename(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := tenancy.NewOrganizations(d.DB.Directory, d.DB.Tenants, errorLog(t))
	org, actor := newOrg(t, d, "acme"), uuid.New()

	got, err := s.Get(ctx, org)
	if err != nil || got.ID != org || got.Slug != "acme" || got.Name != "Org acme" || got.Status != "active" || got.Plan != "free" || got.CreatedAt.IsZero() {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	renamed, err := s.Rename(ctx, org, actor, tenancy.TenantInput{Name: "  Acme Corporation "})
	if err != nil || renamed.Name != "Acme Corporation" || renamed.Slug != "acme" || renamed.ID != org {
		t.Fatalf("Rename = %+v, %v", renamed, err)
	}
	if again, err := s.Get(ctx, org); err != nil || again != renamed {
		t.Fatalf("Get after rename = %+v, %v; want %+v", again, err, renamed)
	}
	// The same name again changes nothing and records nothing.
	if same, err := s.Rename(ctx, org, actor, tenancy.TenantInput{Name: "Acme Corporation"}); err != nil || same != renamed {
		t.Fatalf("no-op rename = %+v, %v", same, err)
	}
	if _, err := s.Rename(ctx, org, actor, tenancy.TenantInput{Name: " "}); strings.Join(fields(t, err), ",") != "name" {
		t.Fatalf("blank rename: %v", err)
	}
	if _, err := s.Get(ctx, uuid.New()); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("Get of an unknown organization: %v, want not found", err)
	}
	if _, err := s.Rename(ctx, uuid.New(), actor, tenancy.TenantInput{Name: "x"}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("Rename of an unknown organization: %v, want not found", err)
	}

	var changes, data string
	if err := d.Owner.QueryRow(ctx, `SELECT a.changes::text, o.data::text FROM tenant.activity a, tenant.outbox o
		WHERE a.tenant_id = $1 AND a.entity_type = 'tenant' AND a.entity_id = $1 AND a.action = 'updated' AND a.actor_id = $2
		AND o.tenant_id = $1 AND o.type = 'tenant.updated'`, org, actor).Scan(&changes, &data); err != nil {
		t.Fatalf("one activity row and one event: %v", err)
	}
	if changes != `{"name": {"new": "Acme Corporation", "old": "Org acme"}}` {
		t.Fatalf("activity changes %s", changes)
	}
	if want := `{"name": "Acme Corporation", "changed": ["name"], "actor_id": "` + actor.String() + `", "tenant_id": "` + org.String() + `"}`; data != want {
		t.Fatalf("event %s, want %s", data, want)
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox`); n != 1 {
		t.Fatalf("%d events, want 1 (the no-op and refused renames emit none)", n)
	}
}

// orgsFixture is two organizations.
type orgsFixture struct {
	isolation.Tenants
	s     *tenancy.Organizations
	slugs [2]string
}

// Each organization reads and renames only itself, through both walls of the isolation suite. Run counts
// A's organizations the call returned.
var _ = isolation.Register(isolation.Case[*orgsFixture]{
	Name:   "organizations",
	Stores: []string{"Organizations"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *orgsFixture {
		suffix := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
		f := &orgsFixture{s: tenancy.NewOrganizations(w.DB.Directory, w.DB.Tenants, errorLog(t)), slugs: [2]string{"alpha-" + suffix, "bravo-" + suffix}}
		f.Tenants = isolation.Tenants{newOrg(t, d, f.slugs[0]), newOrg(t, d, f.slugs[1])}
		return f
	},
	Ops: []isolation.Op[*orgsFixture]{
		{Name: "get", Want: isolation.Nothing, Run: func(ctx context.Context, f *orgsFixture, as isolation.Side) (int, error) {
			got, err := f.s.Get(ctx, f.Tenant(as))
			if err == nil && (got.ID != f.Tenant(as) || got.Slug != f.slugs[as]) {
				return 0, fmt.Errorf("%s reads %+v, want itself", as, got)
			}
			return boolCount(got.ID == f.Tenant(isolation.A)), err
		}},
		{Name: "rename", Want: isolation.Nothing, Run: func(ctx context.Context, f *orgsFixture, as isolation.Side) (int, error) {
			got, err := f.s.Rename(ctx, f.Tenant(as), uuid.New(), tenancy.TenantInput{Name: as.String() + " renamed"})
			return boolCount(got.ID == f.Tenant(isolation.A)), err
		}},
	},
	Check: func(t *testing.T, d *dbtest.Database, f *orgsFixture) {
		a := f.Tenant(isolation.A)
		if ga, err := f.s.Get(context.Background(), a); err != nil || ga.Name != "Org "+f.slugs[0] {
			t.Errorf("A after B's call: %+v, %v", ga, err)
		}
		if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 OR data->>'tenant_id' = $1::text`, a); n != 0 {
			t.Errorf("B's call left %d events with A", n)
		}
	},
})

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The directory's commit decides a rename; a tenant store that fails afterwards is logged, not reported.
func TestRenameTenantStoreFailureIsLogged(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	logs := &logBuffer{}
	s := tenancy.NewOrganizations(d.DB.Directory, db.NewTenants(failingResolver{}), slog.New(slog.NewTextHandler(logs, nil)))
	org := newOrg(t, d, "acme")
	if got, err := s.Rename(context.Background(), org, uuid.New(), tenancy.TenantInput{Name: "New name"}); err != nil || got.Name != "New name" {
		t.Fatalf("Rename = %+v, %v; want success despite the tenant store", got, err)
	}
	if out := logs.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, org.String()) || !strings.Contains(out, "tenant.updated") {
		t.Fatalf("log %q; want an error naming the tenant and the event", out)
	}
}
