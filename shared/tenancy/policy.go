package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SessionPolicy is the identity.Policy of organizations' settings: what a session must have proved to act in
// an organization. An organization whose enabled SSO connection is Required admits only sessions opened
// through that connection (identity.AMRSSO of the organization); a password session, or one opened through
// another organization's provider, gets identity.ErrSSORequired. One whose require_mfa is set admits only
// sessions that passed a second factor or came through its own connection (identity.ErrOrganizationRequiresMFA).
type SessionPolicy struct {
	tenants *db.Tenants
}

// NewSessionPolicy returns the policy over the tenant store holding the settings.
func NewSessionPolicy(tenants *db.Tenants) *SessionPolicy { return &SessionPolicy{tenants: tenants} }

// Admit implements identity.Policy. The organization's SSO connection and its require_mfa setting are read
// in one statement.
func (p *SessionPolicy) Admit(ctx context.Context, tenantID uuid.UUID, amr string) error {
	var (
		raw        []byte
		requireMFA bool
	)
	err := p.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT sso, require_mfa FROM tenant.settings WHERE tenant_id = $1`, tenantID).Scan(&raw, &requireMFA)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("admit session: %w", err)
	}
	ownSSO := identity.HasMethod(amr, identity.AMRSSO(tenantID))
	if len(raw) > 0 && string(raw) != "null" {
		var conn sso.Connection
		if err := json.Unmarshal(raw, &conn); err != nil {
			return fmt.Errorf("admit session: decode sso connection: %w", err)
		}
		if conn.Enabled && conn.Required && !ownSSO {
			return identity.ErrSSORequired
		}
	}
	// A session through the organization's own provider carries whatever that provider demanded; any other
	// session must have passed a second factor here.
	if requireMFA && !ownSSO && !identity.HasMethod(amr, identity.AMRMFA) {
		return identity.ErrOrganizationRequiresMFA
	}
	return nil
}
