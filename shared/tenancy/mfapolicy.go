package tenancy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MFAPolicy answers whether an organization requires its members to have a second factor (its require_mfa
// setting) for every authenticated request. Like StatusCache, entries live for ttl, so turning the setting on
// reaches every instance within ttl at the cost of one tenant-store read per tenant and instance per ttl; ttl
// 0 reads every time.
type MFAPolicy struct {
	tenants *db.Tenants
	cache   *tenantCache[bool]
}

// NewMFAPolicy returns a cache over the tenant store.
func NewMFAPolicy(tenants *db.Tenants, ttl time.Duration) *MFAPolicy {
	return &MFAPolicy{tenants: tenants, cache: newTenantCache[bool](ttl)}
}

// Required reports whether tenantID requires a second factor of every member; an organization without stored
// settings does not.
func (c *MFAPolicy) Required(ctx context.Context, tenantID uuid.UUID) (bool, error) {
	return c.cache.lookup(ctx, tenantID, c.read)
}

func (c *MFAPolicy) read(ctx context.Context, tenantID uuid.UUID) (bool, error) {
	var required bool
	err := c.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT require_mfa FROM tenant.settings WHERE tenant_id = $1`, tenantID).Scan(&required)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("tenant %s mfa policy: %w", tenantID, err)
	}
	return required, nil
}
