package db

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/coditect/hyperscale/shared/obs"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Entry names one of the few audited doors to cross-tenant work (DESIGN.md rule 5). Its field is unexported,
// so the set below is the whole set: adding a door means adding it here, where review sees it.
type Entry struct{ name string }

// The platform entry points.
var (
	// EntrySignUp creates an organization, its owner identity and the owner's membership.
	EntrySignUp = Entry{"sign_up"}
	// EntryLogin looks an identity up by email and reads its memberships across organizations.
	EntryLogin = Entry{"login"}
	// EntrySession rotates, revokes and switches refresh-token sessions, which name their identity and tenant.
	EntrySession = Entry{"session"}
	// EntryPasswordReset issues and redeems password-reset tokens for an email, whatever its organizations.
	EntryPasswordReset = Entry{"password_reset"}
	// EntryInvitation looks an invitation up by its token, before anyone is a member.
	EntryInvitation = Entry{"invitation"}
	// EntrySSO completes a single sign-on: provisions the identity and its membership just in time.
	EntrySSO = Entry{"sso"}
	// EntryTenantStatus reads whether an organization is active, for every authenticated request.
	EntryTenantStatus = Entry{"tenant_status"}
	// EntrySessionCheck reads whether an access token's session is open and its membership unchanged, for
	// every authenticated request.
	EntrySessionCheck = Entry{"session_check"}
	// EntryIdempotency records and replays Idempotency-Key answers of requests made before sign-in.
	EntryIdempotency = Entry{"idempotency"}
	// EntryEmailVerification issues and redeems email-verification tokens of an identity.
	EntryEmailVerification = Entry{"email_verification"}
	// EntryMFA enrols, checks and removes an identity's second factor, and completes a login that owes one.
	EntryMFA = Entry{"mfa"}
	// EntryDomainClaim claims a custom domain for an organization, which asks whether any other organization
	// has verified that name (yes or no, never which).
	EntryDomainClaim = Entry{"domain_claim"}
)

// Directory is the handle on the control-plane store. It has no general query method: every use goes through
// a named entry point, which is logged.
type Directory struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// NewDirectory wraps pool as the directory handle.
func NewDirectory(pool *pgxpool.Pool, log *slog.Logger) *Directory {
	return &Directory{pool: pool, log: obs.OrDiscard(log)}
}

// Platform runs fn in one directory transaction on behalf of entry point e, and records that it did.
func (d *Directory) Platform(ctx context.Context, e Entry, fn func(pgx.Tx) error) error {
	d.log.DebugContext(ctx, "platform entry", "entry", e.name)
	if err := InTx(ctx, d.pool, pgx.TxOptions{}, fn); err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	return nil
}

// ForTenant runs fn in one directory transaction on behalf of tenant tenantID's own administration (its
// members, invitations, domains). The directory has no row-level security, so every query fn sends must name
// tenant_id itself; store tests check that another tenant sees nothing.
func (d *Directory) ForTenant(ctx context.Context, tenantID uuid.UUID, fn func(pgx.Tx) error) error {
	if tenantID == uuid.Nil {
		return fmt.Errorf("directory for tenant: %w", ErrNotFound)
	}
	if err := InTx(ctx, d.pool, pgx.TxOptions{}, fn); err != nil {
		return fmt.Errorf("directory for tenant %s: %w", tenantID, err)
	}
	return nil
}

// Ping checks that the directory answers, for health checks.
func (d *Directory) Ping(ctx context.Context) error {
	return d.pool.Ping(ctx)
}
