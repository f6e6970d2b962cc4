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
	dir *db.Directory
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[uuid.UUID]statusEntry
}

type statusEntry struct {
	status  string
	expires time.Time
}

// maxStatusEntries bounds the cache: past it, the cache starts over rather than grow with the tenant count.
const maxStatusEntries = 100_000

// NewStatusCache returns a cache over the directory.
func NewStatusCache(dir *db.Directory, ttl time.Duration) *StatusCache {
	return &StatusCache{dir: dir, ttl: ttl, now: time.Now, entries: map[uuid.UUID]statusEntry{}}
}

// Status returns tenantID's status; an organization the directory does not have is StatusDeleted.
func (c *StatusCache) Status(ctx context.Context, tenantID uuid.UUID) (string, error) {
	now := c.now()
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.entries[tenantID]
		c.mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.status, nil
		}
	}
	var status string
	err := c.dir.Platform(ctx, db.EntryTenantStatus, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT status FROM directory.tenants WHERE id = $1`, tenantID).Scan(&status)
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		status = StatusDeleted
	case err != nil:
		return "", fmt.Errorf("tenant %s status: %w", tenantID, err)
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= maxStatusEntries {
			c.entries = map[uuid.UUID]statusEntry{}
		}
		c.entries[tenantID] = statusEntry{status: status, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return status, nil
}
