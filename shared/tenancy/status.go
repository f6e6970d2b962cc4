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

// Organization statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusDeleted   = "deleted"
)

// StatusCache answers an organization's status for every authenticated request. Entries live for ttl, so a
// suspension reaches every instance within ttl at the cost of one directory read per tenant and instance per
// ttl; ttl 0 reads every time.
type StatusCache struct {
	dir   *db.Directory
	cache *tenantCache[string]
}

// NewStatusCache returns a cache over the directory.
func NewStatusCache(dir *db.Directory, ttl time.Duration) *StatusCache {
	return &StatusCache{dir: dir, cache: newTenantCache[string](ttl)}
}

// Status returns tenantID's status; an organization the directory does not have is StatusDeleted.
func (c *StatusCache) Status(ctx context.Context, tenantID uuid.UUID) (string, error) {
	return c.cache.lookup(ctx, tenantID, c.read)
}

func (c *StatusCache) read(ctx context.Context, tenantID uuid.UUID) (string, error) {
	var status string
	err := c.dir.Platform(ctx, db.EntryTenantStatus, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT status FROM directory.tenants WHERE id = $1`, tenantID).Scan(&status)
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return StatusDeleted, nil
	case err != nil:
		return "", fmt.Errorf("tenant %s status: %w", tenantID, err)
	}
	return status, nil
}
