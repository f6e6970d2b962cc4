package tenancy

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTenantCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	id := uuid.New()

	off := newTenantCache[string](0)
	off.put(id, "active", now)
	if _, ok := off.get(id, now); ok {
		t.Fatal("a ttl of 0 kept a value")
	}

	c := newTenantCache[string](10 * time.Second)
	if _, ok := c.get(id, now); ok {
		t.Fatal("a value before any put")
	}
	c.put(id, "suspended", now)
	if v, ok := c.get(id, now.Add(9*time.Second)); !ok || v != "suspended" {
		t.Fatalf("within the ttl: %q, %v", v, ok)
	}
	if _, ok := c.get(id, now.Add(10*time.Second)); ok {
		t.Fatal("a value at the end of its ttl")
	}
	if _, ok := c.get(uuid.New(), now); ok {
		t.Fatal("another tenant's value")
	}

	// Past its bound the cache starts over instead of growing.
	for range maxCachedTenants {
		c.put(uuid.New(), "active", now)
	}
	if n := len(c.entries); n > maxCachedTenants {
		t.Fatalf("%d entries, bound %d", n, maxCachedTenants)
	}
	if _, ok := c.get(id, now); ok {
		t.Fatal("the first value survived a start-over")
	}
}
