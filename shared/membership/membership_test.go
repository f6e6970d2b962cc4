package membership_test

import (
	"context"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/membership"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestAddAndRole adds a membership, adds it again (no change, reported as not added), reads the role, and
// shows that another tenant's role of the same identity is none.
func TestAddAndRole(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	tenant, other, ident := uuid.New(), uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{tenant, other} {
		if _, err := d.Owner.Exec(ctx, `INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, 'T')`, id, "t-"+id.String()[24:]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Owner.Exec(ctx, `INSERT INTO directory.identities (id, email, name) VALUES ($1, 'm@example.test', 'M')`, ident); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name      string
		tenant    uuid.UUID
		role      string
		wantAdded bool
		wantRole  string // the role read back afterwards
	}{
		{name: "first add", tenant: tenant, role: "admin", wantAdded: true, wantRole: "admin"},
		{name: "second add keeps the first role", tenant: tenant, role: "viewer", wantAdded: false, wantRole: "admin"},
	}
	for _, tc := range cases {
		var added bool
		var role string
		err := pgx.BeginFunc(ctx, d.Owner, func(tx pgx.Tx) (err error) {
			if added, err = membership.Add(ctx, tx, tc.tenant, ident, tc.role, at); err != nil {
				return err
			}
			role, err = membership.Role(ctx, tx, tc.tenant, ident)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if added != tc.wantAdded || role != tc.wantRole {
			t.Errorf("%s: added %v, role %q; want %v, %q", tc.name, added, role, tc.wantAdded, tc.wantRole)
		}
	}
	var created time.Time
	if err := d.Owner.QueryRow(ctx, `SELECT created_at FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`,
		tenant, ident).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(at) {
		t.Errorf("created_at = %v, want %v", created, at)
	}
	err := pgx.BeginFunc(ctx, d.Owner, func(tx pgx.Tx) error {
		role, err := membership.Role(ctx, tx, other, ident)
		if err == nil && role != "" {
			t.Errorf("role in another tenant = %q, want none", role)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
