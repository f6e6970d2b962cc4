package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Session errors a caller maps to answers.
var (
	// ErrInvalidGrant refuses a refresh token that is unknown, expired, spent or of a revoked family, or whose
	// identity is no longer an active member of the family's organization. One error covers them all, so the
	// answer tells an attacker nothing about which.
	ErrInvalidGrant = fault.New(fault.Unauthenticated, "invalid_grant", "the refresh token is not valid; log in again")
	// ErrRefreshReused is the ErrInvalidGrant of a spent token presented again: its family has just been
	// revoked, since either its holder or a thief holds a newer one. It matches ErrInvalidGrant.
	ErrRefreshReused = fmt.Errorf("%w: reused", ErrInvalidGrant)
	// ErrNotMember refuses a switch to an organization the identity does not belong to, that does not exist or
	// that is not active, alike.
	ErrNotMember = fault.New(fault.NotFound, "not_found", "the resource does not exist")
)

// Membership is one organization an identity belongs to.
type Membership struct {
	TenantID uuid.UUID `json:"tenant_id"`
	Slug     string    `json:"slug"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Status   string    `json:"status"`
}

// Refresh rotates the refresh token raw: it is spent, and a new token of the same family, valid for the
// refresh TTL from now, comes back in a Session whose principal carries the identity's current role in the
// family's organization (and the membership's current version).
//
// A spent token presented again within s.ReuseInterval of its rotation gets the same successor back (two tabs
// refreshing at once both stay in); presented later, it revokes the whole family (ErrRefreshReused). A family
// whose identity is no longer a member of its organization, or whose organization is not active, is revoked
// too (ErrInvalidGrant): a removed member's session ends at its next refresh. So does one that no longer meets
// what its organization requires (Policy): ErrSSORequired or ErrOrganizationRequiresMFA, its family revoked.
// The token's row and its family's are locked, so of concurrent uses of one token exactly one rotates and the
// others find it spent.
func (s *Service) Refresh(ctx context.Context, raw string, now time.Time) (Session, error) {
	if len(raw) != secretLen {
		return Session{}, ErrInvalidGrant
	}
	var (
		sess    Session
		outcome error
	)
	client := ClientFrom(ctx)
	err := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error {
		var (
			family, identityID, tenantID uuid.UUID
			expires                      time.Time
			used                         *time.Time
			successor                    []byte
			revoked                      bool
			status                       string
			role                         *string
			version                      *int64
			amr                          *string
		)
		err := tx.QueryRow(ctx, `SELECT t.family_id, t.expires_at, t.used_at, t.successor, f.identity_id, f.tenant_id,
				f.revoked_at IS NOT NULL, tn.slug, tn.status, m.role, m.version, f.amr
			FROM directory.refresh_tokens t
			JOIN directory.refresh_token_families f ON f.id = t.family_id
			JOIN directory.tenants tn ON tn.id = f.tenant_id
			LEFT JOIN directory.memberships m ON m.tenant_id = f.tenant_id AND m.identity_id = f.identity_id
			WHERE t.token_hash = $1
			FOR UPDATE OF t, f`, digest(raw)).
			Scan(&family, &expires, &used, &successor, &identityID, &tenantID, &revoked, &sess.TenantSlug, &status, &role, &version, &amr)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			outcome = ErrInvalidGrant
			return nil
		case err != nil:
			return err
		case revoked:
			outcome = ErrInvalidGrant
			return nil
		case role == nil || status != "active":
			outcome = ErrInvalidGrant
			return revokeFamily(ctx, tx, family, now)
		case used != nil && (successor == nil || now.Sub(*used) > s.ReuseInterval):
			outcome = ErrRefreshReused
			return revokeFamily(ctx, tx, family, now)
		case used == nil && !now.Before(expires):
			outcome = ErrInvalidGrant
			return nil
		}
		var method string
		if amr != nil {
			method = *amr
		}
		sess.ID, sess.MembershipVersion = family, *version
		sess.Principal = token.Principal{IdentityID: identityID, TenantID: tenantID, Role: *role, AMR: method}
		if used != nil {
			// A repeat within the reuse interval: the successor the first use made, not a new one.
			next, err := openSuccessor(raw, successor)
			if err != nil {
				return err
			}
			sess.RefreshToken = next
			return tx.QueryRow(ctx, `SELECT expires_at FROM directory.refresh_tokens WHERE token_hash = $1 AND family_id = $2`,
				digest(next), family).Scan(&sess.RefreshExpiresAt)
		}
		tok, sum := newSecret()
		sealed, err := sealSuccessor(raw, tok)
		if err != nil {
			return err
		}
		sess.RefreshToken, sess.RefreshExpiresAt = tok, now.Add(s.refreshTTL).UTC().Truncate(time.Second)
		_, err = tx.Exec(ctx, `WITH spent AS (
				UPDATE directory.refresh_tokens SET used_at = $2, successor = $6 WHERE token_hash = $1
			), seen AS (
				UPDATE directory.refresh_token_families
				SET last_used_at = $2, user_agent = COALESCE(NULLIF($7, ''), user_agent), client_address = COALESCE(NULLIF($8, ''), client_address)
				WHERE id = $4
			)
			INSERT INTO directory.refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($3, $4, $2, $5)`,
			digest(raw), now, sum, family, sess.RefreshExpiresAt, sealed, client.UserAgent, client.Address)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	if outcome != nil {
		// The transaction committed: a revocation decided above holds although the answer is a refusal.
		return Session{}, outcome
	}
	// An organization that came to require more than the session proved ends it at its next refresh.
	if err := s.admitOpened(ctx, sess, now); err != nil {
		return Session{}, fmt.Errorf("refresh: %w", err)
	}
	return sess, nil
}

// admitOpened asks the organization's policy about sess, a session just opened or rotated, and ends it when
// the policy refuses it. It runs after the transaction that opened the session has committed: the policy reads
// the tenant store, and asking it while the directory transaction holds its row locks and a pooled connection
// would let concurrent refreshes of one family, each holding a connection while waiting for the lock, starve
// the lock holder of the connection it needs.
func (s *Service) admitOpened(ctx context.Context, sess Session, now time.Time) error {
	p := sess.Principal
	err := s.admit(ctx, p.IdentityID, p.TenantID, p.AMR)
	if err == nil || (!errors.Is(err, ErrSSORequired) && !errors.Is(err, ErrOrganizationRequiresMFA)) {
		return err
	}
	if rerr := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error { return revokeFamily(ctx, tx, sess.ID, now) }); rerr != nil {
		return rerr
	}
	return err
}

// Logout revokes the family of the refresh token raw. An unknown token is no error, so the answer reveals
// nothing; revoking a revoked family keeps its first revocation time.
func (s *Service) Logout(ctx context.Context, raw string, now time.Time) error {
	if len(raw) != secretLen {
		return nil
	}
	err := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE directory.refresh_token_families SET revoked_at = $2
			WHERE revoked_at IS NULL AND id = (SELECT family_id FROM directory.refresh_tokens WHERE token_hash = $1)`,
			digest(raw), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// Switch opens a new session (a new refresh-token family) for identityID in the active organization with slug
// tenantSlug, with the identity's role there; ErrNotMember when there is no such membership. The session's
// authentication is unknown, so an organization with requirements (Policy) refuses it; SwitchFrom carries the
// current session's.
func (s *Service) Switch(ctx context.Context, identityID uuid.UUID, tenantSlug string, now time.Time) (Session, error) {
	return s.SwitchFrom(ctx, token.Principal{IdentityID: identityID}, tenantSlug, now)
}

// SwitchFrom opens a new session for from's identity in the active organization with slug tenantSlug, as
// Switch, authenticated as from was (from.AMR): how a person proved who they are does not change with the
// organization they act in. When the organization requires more than that (Policy), it returns
// ErrSSORequired or ErrOrganizationRequiresMFA and opens nothing.
func (s *Service) SwitchFrom(ctx context.Context, from token.Principal, tenantSlug string, now time.Time) (Session, error) {
	identityID := from.IdentityID
	tenantSlug = strings.ToLower(strings.TrimSpace(tenantSlug))
	// No slug is longer than 63 characters or holds a NUL, which PostgreSQL's text would refuse.
	if tenantSlug == "" || len(tenantSlug) > 63 || strings.ContainsRune(tenantSlug, 0) {
		return Session{}, ErrNotMember
	}
	var sess Session
	err := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error {
		var tenantID uuid.UUID
		var role string
		var unproven bool
		err := tx.QueryRow(ctx, `SELECT t.id, t.slug, m.role, i.email_verified_at IS NULL AND `+guardedSQL(`substring(i.email from '[^@]*$')`)+`
			FROM directory.memberships m
			JOIN directory.tenants t ON t.id = m.tenant_id
			JOIN directory.identities i ON i.id = m.identity_id
			WHERE m.identity_id = $1 AND t.slug = $2 AND t.status = 'active'`, identityID, tenantSlug).
			Scan(&tenantID, &sess.TenantSlug, &role, &unproven)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotMember
		}
		if err != nil {
			return err
		}
		if unproven {
			return ErrEmailUnverified
		}
		sess.Principal = token.Principal{IdentityID: identityID, TenantID: tenantID, Role: role, AMR: from.AMR}
		return nil
	})
	// Only a member learns what the organization requires: the membership was checked first. The policy reads
	// the tenant store, so it is asked between the directory's transactions rather than inside one.
	if err == nil {
		err = s.admit(ctx, identityID, sess.Principal.TenantID, from.AMR)
	}
	if err == nil {
		// StartSession reads the membership again, so one removed meanwhile opens nothing.
		err = s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error { return s.StartSession(ctx, tx, &sess, now) })
	}
	if err != nil {
		return Session{}, fmt.Errorf("switch to %s: %w", tenantSlug, err)
	}
	return sess, nil
}

// Memberships lists the organizations identityID belongs to, suspended ones included (with their status) and
// deleted ones left out, by slug.
func (s *Service) Memberships(ctx context.Context, identityID uuid.UUID) ([]Membership, error) {
	out := []Membership{}
	err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT t.id, t.slug, t.name, m.role, t.status FROM directory.memberships m
			JOIN directory.tenants t ON t.id = m.tenant_id
			WHERE m.identity_id = $1 AND t.status <> 'deleted' ORDER BY t.slug`, identityID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m Membership
			if err := rows.Scan(&m.TenantID, &m.Slug, &m.Name, &m.Role, &m.Status); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("memberships of %s: %w", identityID, err)
	}
	return out, nil
}

// revokeFamily revokes one refresh-token family inside tx.
func revokeFamily(ctx context.Context, tx pgx.Tx, family uuid.UUID, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE directory.refresh_token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, family, now)
	if err != nil {
		return fmt.Errorf("revoke family %s: %w", family, err)
	}
	return nil
}

// revokeAll revokes every refresh-token family of identityID inside tx: every session, in every organization.
func revokeAll(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE directory.refresh_token_families SET revoked_at = $2 WHERE identity_id = $1 AND revoked_at IS NULL`,
		identityID, now)
	if err != nil {
		return fmt.Errorf("revoke sessions of %s: %w", identityID, err)
	}
	return nil
}
