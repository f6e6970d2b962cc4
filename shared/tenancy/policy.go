package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/google/uuid"
)

// SessionPolicy is the identity.Policy of organizations' settings: what a session must have proved to act in
// an organization. An organization whose enabled SSO connection is Required admits only sessions opened
// through that connection (identity.AMRSSO of the organization); a password session, or one opened through
// another organization's provider, gets identity.ErrSSORequired.
type SessionPolicy struct {
	tenants *db.Tenants
}

// NewSessionPolicy returns the policy over the tenant store holding the settings.
func NewSessionPolicy(tenants *db.Tenants) *SessionPolicy { return &SessionPolicy{tenants: tenants} }

// Admit implements identity.Policy.
func (p *SessionPolicy) Admit(ctx context.Context, tenantID uuid.UUID, amr string) error {
	conn, err := sso.LoadConnection(ctx, p.tenants, tenantID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("admit session: %w", err)
	}
	if conn.Enabled && conn.Required && !identity.HasMethod(amr, identity.AMRSSO(tenantID)) {
		return identity.ErrSSORequired
	}
	// A second factor: when the settings carry require_mfa, refuse here with identity.ErrMFARequired unless
	// identity.HasMethod(amr, identity.AMRMFA); the auth function already answers it (403 mfa_required).
	return nil
}
