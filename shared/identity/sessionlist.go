package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrSessionNotFound refuses revoking a session that is not one of the identity's open sessions: another
// identity's, an unknown one and an already ended one alike.
var ErrSessionNotFound = fault.New(fault.NotFound, "not_found", "the resource does not exist")

// MaxListedSessions bounds the session list: the most recently used ones.
const MaxListedSessions = 100

// SessionInfo is one open session of an identity, as the session list shows it.
type SessionInfo struct {
	ID         uuid.UUID     `json:"id"`
	Tenant     SessionTenant `json:"tenant"`
	CreatedAt  time.Time     `json:"created_at"`
	LastUsedAt time.Time     `json:"last_used_at"`
	Client     SessionClient `json:"client"`
	// Current marks the session the list was asked from.
	Current bool `json:"current"`
}

// SessionTenant is the organization a session acts in.
type SessionTenant struct {
	ID   uuid.UUID `json:"id"`
	Slug string    `json:"slug"`
}

// SessionClient is the client a session was last seen from: when it was opened or last refreshed.
type SessionClient struct {
	UserAgent string `json:"user_agent"`
	Address   string `json:"address"`
}

// Sessions lists the open sessions of identityID at now, in every organization, the most recently used first
// (at most MaxListedSessions), marking current. A session is open while it is not revoked and holds a refresh
// token that is neither spent nor expired.
func (s *Service) Sessions(ctx context.Context, identityID, current uuid.UUID, now time.Time) ([]SessionInfo, error) {
	out := []SessionInfo{}
	err := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT f.id, f.tenant_id, tn.slug, f.created_at, COALESCE(f.last_used_at, f.created_at), f.user_agent, f.client_address
			FROM directory.refresh_token_families f
			JOIN directory.tenants tn ON tn.id = f.tenant_id
			WHERE f.identity_id = $1 AND f.revoked_at IS NULL AND tn.status <> 'deleted'
				AND EXISTS (SELECT 1 FROM directory.refresh_tokens t WHERE t.family_id = f.id AND t.used_at IS NULL AND t.expires_at > $2)
			ORDER BY COALESCE(f.last_used_at, f.created_at) DESC, f.id DESC
			LIMIT $3`, identityID, now, MaxListedSessions)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var si SessionInfo
			if err := rows.Scan(&si.ID, &si.Tenant.ID, &si.Tenant.Slug, &si.CreatedAt, &si.LastUsedAt, &si.Client.UserAgent, &si.Client.Address); err != nil {
				return err
			}
			si.Current = si.ID == current
			out = append(out, si)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", identityID, err)
	}
	return out, nil
}

// RevokeSession ends the session id of identityID at now: its refresh tokens stop working at once and its
// access tokens within the session-check bound. Anything but an open session of identityID is
// ErrSessionNotFound, so no one learns of another identity's sessions.
func (s *Service) RevokeSession(ctx context.Context, identityID, id uuid.UUID, now time.Time) error {
	err := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE directory.refresh_token_families SET revoked_at = $3
			WHERE id = $1 AND identity_id = $2 AND revoked_at IS NULL`, id, identityID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrSessionNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke session %s: %w", id, err)
	}
	return nil
}

// LogoutAll revokes every session of identityID, in every organization, the caller's own included.
func (s *Service) LogoutAll(ctx context.Context, identityID uuid.UUID, now time.Time) error {
	err := s.dir.Platform(ctx, db.EntrySession, func(tx pgx.Tx) error { return revokeAll(ctx, tx, identityID, now) })
	if err != nil {
		return fmt.Errorf("logout all: %w", err)
	}
	return nil
}
