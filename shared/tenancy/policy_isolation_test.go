package tenancy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/google/uuid"
)

// policyFixture is tenant A requiring a second factor of its members; B has no settings of its own.
type policyFixture struct {
	isolation.Tenants
	mfa     *tenancy.MFAPolicy
	session *tenancy.SessionPolicy
}

// What A's settings require binds A's members only: B's members are asked nothing of it.
var _ = isolation.Register(isolation.Case[*policyFixture]{
	Name:   "session policies",
	Stores: []string{"MFAPolicy", "SessionPolicy"},
	Tables: []string{"tenant.settings"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *policyFixture {
		f := &policyFixture{Tenants: isolation.NewTenants(), mfa: tenancy.NewMFAPolicy(w.DB.Tenants, 0),
			session: tenancy.NewSessionPolicy(w.DB.Tenants)}
		store := tenancy.NewSettingsStore(d.DB.Tenants, true)
		if _, err := store.Replace(context.Background(), f.Tenant(isolation.A), uuid.New(), settingsInput(t, `{"require_mfa":true}`)); err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: []isolation.Op[*policyFixture]{
		// Run counts A's requirement seen.
		{Name: "mfa required", Want: isolation.Nothing, Run: func(ctx context.Context, f *policyFixture, as isolation.Side) (int, error) {
			required, err := f.mfa.Required(ctx, f.Tenant(as))
			return boolCount(required), err
		}},
		{Name: "admit a password session", Want: isolation.Nothing, Run: func(ctx context.Context, f *policyFixture, as isolation.Side) (int, error) {
			err := f.session.Admit(ctx, f.Tenant(as), identity.AMRPassword)
			if errors.Is(err, identity.ErrOrganizationRequiresMFA) {
				return 1, nil
			}
			return 0, err
		}},
	},
})
