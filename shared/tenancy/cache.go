package tenancy

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// maxCachedTenants bounds a per-instance tenant cache: past it, the cache starts over rather than grow with the
// tenant count.
const maxCachedTenants = 100_000

// tenantCache keeps one value per tenant for ttl; a ttl of 0 keeps nothing, so every lookup misses. It is what
// StatusCache and MFAPolicy share: a value read for every authenticated request, trusted for a short bound.
type tenantCache[V any] struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[uuid.UUID]tenantEntry[V]
}

type tenantEntry[V any] struct {
	value   V
	expires time.Time
}

func newTenantCache[V any](ttl time.Duration) *tenantCache[V] {
	return &tenantCache[V]{ttl: ttl, now: time.Now, entries: map[uuid.UUID]tenantEntry[V]{}}
}

// lookup returns tenantID's fresh value, or reads it with load and keeps it. A failed read keeps nothing.
func (c *tenantCache[V]) lookup(ctx context.Context, tenantID uuid.UUID, load func(ctx context.Context, tenantID uuid.UUID) (V, error)) (V, error) {
	now := c.now()
	if v, ok := c.get(tenantID, now); ok {
		return v, nil
	}
	v, err := load(ctx, tenantID)
	if err != nil {
		return v, err
	}
	c.put(tenantID, v, now)
	return v, nil
}

// get returns tenantID's value when one was kept and is still fresh at now.
func (c *tenantCache[V]) get(tenantID uuid.UUID, now time.Time) (V, bool) {
	if c.ttl <= 0 {
		var zero V
		return zero, false
	}
	c.mu.Lock()
	e, ok := c.entries[tenantID]
	c.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// put keeps v for tenantID from now for the cache's ttl.
func (c *tenantCache[V]) put(tenantID uuid.UUID, v V, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTenants {
		c.entries = map[uuid.UUID]tenantEntry[V]{}
	}
	c.entries[tenantID] = tenantEntry[V]{value: v, expires: now.Add(c.ttl)}
}
