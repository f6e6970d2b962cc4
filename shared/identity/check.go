package identity

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Errors of SessionCache.Check, which the edge answers with 401.
var (
	// ErrSessionEnded refuses an access token whose session was revoked (logout, logout-all, a password change
	// or reset, a removal from the organization, reuse of a spent refresh token), does not exist, or is not
	// the token's identity's in the token's organization, and one whose identity is no longer a member there.
	ErrSessionEnded = fault.New(fault.Unauthenticated, "invalid_token", "the session of this access token has ended; log in again")
	// ErrMembershipChanged refuses an access token minted before its membership last changed (a role change):
	// a refresh mints one with the current role.
	ErrMembershipChanged = fault.New(fault.Unauthenticated, "token_stale", "your membership changed since this access token was issued; refresh it")
)

// DefaultSessionCacheSize is the number of sessions a SessionCache remembers per instance; past it the least
// recently used is forgotten (and read again when it returns).
const DefaultSessionCacheSize = 50_000

// SessionCache answers, for every authenticated request, whether the access token's session is still open and
// its membership unchanged. What it read of a session it trusts for ttl, so a revocation or role change
// reaches every instance within ttl of its commit, at the cost of one indexed directory read per session and
// instance per ttl; ttl 0 reads every time. It holds at most size sessions. It is safe for concurrent use.
type SessionCache struct {
	dir  *db.Directory
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	order   *list.List // of *sessionEntry, most recently used first
	entries map[uuid.UUID]*list.Element
}

// sessionState is what the directory says of one session, as of when it was read.
type sessionState struct {
	found             bool
	identity, tenant  uuid.UUID
	revoked           bool
	member            bool
	membershipVersion int64
}

type sessionEntry struct {
	id      uuid.UUID
	state   sessionState
	expires time.Time
}

// NewSessionCache returns a cache over the directory that trusts what it read for ttl, by the clock now, and
// remembers at most size sessions (DefaultSessionCacheSize when size is not positive).
func NewSessionCache(dir *db.Directory, ttl time.Duration, size int, now func() time.Time) *SessionCache {
	if size <= 0 {
		size = DefaultSessionCacheSize
	}
	return &SessionCache{dir: dir, ttl: ttl, size: size, now: now, order: list.New(), entries: map[uuid.UUID]*list.Element{}}
}

// Check returns nil when the access token of p minted in s may still be honoured: its session is open, is p's
// identity's in p's organization, and the membership there still has s's version. Otherwise ErrSessionEnded or
// ErrMembershipChanged; any other error is the directory's.
func (c *SessionCache) Check(ctx context.Context, p token.Principal, s token.Session) error {
	st, err := c.state(ctx, s.ID)
	if err != nil {
		return err
	}
	switch {
	case !st.found || st.revoked || st.identity != p.IdentityID || st.tenant != p.TenantID || !st.member:
		return ErrSessionEnded
	case st.membershipVersion != s.MembershipVersion:
		return ErrMembershipChanged
	}
	return nil
}

// Len returns how many sessions the cache holds.
func (c *SessionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *SessionCache) state(ctx context.Context, id uuid.UUID) (sessionState, error) {
	now := c.now()
	if st, ok := c.cached(id, now); ok {
		return st, nil
	}
	var st sessionState
	// Two primary-key lookups: the family, and the membership it names.
	err := c.dir.Platform(ctx, db.EntrySessionCheck, func(tx pgx.Tx) error {
		var version *int64
		err := tx.QueryRow(ctx, `SELECT f.identity_id, f.tenant_id, f.revoked_at IS NOT NULL, m.version
			FROM directory.refresh_token_families f
			LEFT JOIN directory.memberships m ON m.tenant_id = f.tenant_id AND m.identity_id = f.identity_id
			WHERE f.id = $1`, id).Scan(&st.identity, &st.tenant, &st.revoked, &version)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		st.found, st.member = true, version != nil
		if version != nil {
			st.membershipVersion = *version
		}
		return nil
	})
	if err != nil {
		return sessionState{}, fmt.Errorf("check session %s: %w", id, err)
	}
	c.store(id, st, now)
	return st, nil
}

// cached returns the state remembered for id if it is still fresh at now, and marks it recently used.
func (c *SessionCache) cached(id uuid.UUID, now time.Time) (sessionState, bool) {
	if c.ttl <= 0 {
		return sessionState{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return sessionState{}, false
	}
	e := el.Value.(*sessionEntry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.entries, id)
		return sessionState{}, false
	}
	c.order.MoveToFront(el)
	return e.state, true
}

// store remembers st for id from now on, forgetting the least recently used sessions past the size.
func (c *SessionCache) store(id uuid.UUID, st sessionState, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &sessionEntry{id: id, state: st, expires: now.Add(c.ttl)}
	if el, ok := c.entries[id]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.entries[id] = c.order.PushFront(e)
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*sessionEntry).id)
	}
}
