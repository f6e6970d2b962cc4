package tenancy_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/google/uuid"
)

func TestSessionPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	acme, bravo, plain, off := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	connection := func(enabled, required bool) []byte {
		c, _ := json.Marshal(sso.Connection{Enabled: enabled, Required: required, Issuer: "https://idp.test", ClientID: "c",
			ClientSecret: "s", AllowedDomains: []string{"acme.test"}, DefaultRole: "member"})
		return c
	}
	for i, tn := range []uuid.UUID{acme, bravo, plain, off} {
		if _, err := d.Owner.Exec(ctx, `INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, 'Org')`, tn, []string{"acme", "bravo", "plain", "off"}[i]); err != nil {
			t.Fatal(err)
		}
	}
	for tn, conn := range map[uuid.UUID][]byte{acme: connection(true, true), plain: connection(true, false), off: connection(false, true)} {
		if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.settings (tenant_id, sso) VALUES ($1, $2)`, tn, conn); err != nil {
			t.Fatal(err)
		}
	}
	p := tenancy.NewSessionPolicy(d.DB.Tenants)
	tests := []struct {
		name   string
		tenant uuid.UUID
		amr    string
		want   error
	}{
		{"required, password", acme, identity.AMRPassword, identity.ErrSSORequired},
		{"required, unknown", acme, "", identity.ErrSSORequired},
		{"required, another organization's provider", acme, identity.AMRSSO(bravo), identity.ErrSSORequired},
		{"required, its own provider", acme, identity.AMRSSO(acme), nil},
		{"required, its own provider and a second factor", acme, identity.AMRSSO(acme) + " " + identity.AMRMFA, nil},
		{"prefix of the method is not the method", acme, identity.AMRSSO(acme)[:20], identity.ErrSSORequired},
		// Bravo has no settings: acme's requirement is acme's alone.
		{"no settings", bravo, identity.AMRPassword, nil},
		{"connection not required", plain, identity.AMRPassword, nil},
		{"required on a disabled connection", off, identity.AMRPassword, nil},
	}
	for _, tc := range tests {
		if err := p.Admit(ctx, tc.tenant, tc.amr); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: Admit = %v, want %v", tc.name, err, tc.want)
		}
	}
}
