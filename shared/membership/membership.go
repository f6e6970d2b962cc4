// Package membership owns directory.memberships, the rows that make an identity a member of an organization
// with a role: adding one and reading a member's role. Every package that writes or checks a membership calls
// it, so a membership has one shape and one conflict rule. Listing, changing and removing members, with their
// permission checks, are shared/members'.
package membership

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Add makes identityID a member of tenantID with role inside tx, a directory transaction, created at at (the
// transaction's time when at is zero). added is false, and nothing changes, when identityID is a member
// already: what that means (a conflict, or an existing member signing in) is the caller's to say.
func Add(ctx context.Context, tx pgx.Tx, tenantID, identityID uuid.UUID, role string, at time.Time) (added bool, err error) {
	var created *time.Time
	if !at.IsZero() {
		created = &at
	}
	tag, err := tx.Exec(ctx, `INSERT INTO directory.memberships (tenant_id, identity_id, role, created_at)
		VALUES ($1, $2, $3, COALESCE($4::timestamptz, now())) ON CONFLICT (tenant_id, identity_id) DO NOTHING`,
		tenantID, identityID, role, created)
	if err != nil {
		return false, fmt.Errorf("add membership of %s: %w", identityID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Role returns identityID's role in tenantID inside tx, or "" when it is not a member (no role is empty).
func Role(ctx context.Context, tx pgx.Tx, tenantID, identityID uuid.UUID) (string, error) {
	var role string
	err := tx.QueryRow(ctx, `SELECT role FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`,
		tenantID, identityID).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("role of %s: %w", identityID, err)
	}
	return role, nil
}
