package tenancy

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[uuid.UUID]mfaEntry
}

type mfaEntry struct {
	required bool
	expires  time.Time
}

// NewMFAPolicy returns a cache over the tenant store.
func NewMFAPolicy(tenants *db.Tenants, ttl time.Duration) *MFAPolicy {
	return &MFAPolicy{tenants: tenants, ttl: ttl, now: time.Now, entries: map[uuid.UUID]mfaEntry{}}
}

// Required reports whether tenantID requires a second factor of every member; an organization without stored
// settings does not.
func (c *MFAPolicy) Required(ctx context.Context, tenantID uuid.UUID) (bool, error) {
	now := c.now()
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[tenantID]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.required, nil
		}
	}
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
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= maxStatusEntries {
			c.entries = map[uuid.UUID]mfaEntry{}
		}
		c.entries[tenantID] = mfaEntry{required: required, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return required, nil
}
