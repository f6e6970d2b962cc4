package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/events"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// VerificationTTL is how long an email-verification link stays valid: long enough for a person who signs up in
// the evening to click it the next morning.
const VerificationTTL = 48 * time.Hour

// Email-ownership errors a caller maps to answers.
var (
	// ErrInvalidVerificationToken refuses a verification token that is unknown, expired, already used or sent
	// to an address the identity no longer has, alike.
	ErrInvalidVerificationToken = fault.New(fault.Unauthenticated, "invalid_verification_token", "the verification link is unknown, expired or already used; ask for a new one")
	// ErrAlreadyVerified refuses a new verification link for an identity whose email is proven.
	ErrAlreadyVerified = fault.New(fault.Conflict, "already_verified", "this email address is already verified")
	// ErrEmailUnverified refuses a password login (or a switch) into an organization that verified the domain of
	// the identity's email while the identity has not proven it owns that email: anyone could have signed up
	// with it. A fresh verification link is on its way when the refusal comes from a login.
	ErrEmailUnverified = fault.New(fault.Forbidden, "email_unverified", "this organization verified the domain of your email address: follow the verification link sent to it (POST /v1/auth/verify-email), then log in again")
)

// RequestVerification starts proving that identityID owns its email, inside tx, a directory transaction: a
// fresh single-use token (valid VerificationTTL) is stored as its SHA-256, and an
// identity.email_verification_requested event carrying the raw token is written to the directory outbox for
// the notifier to email. An identity whose email is already verified, or that does not exist, is
// ErrAlreadyVerified and nothing is written. Sign-up paths call it in the transaction that creates the identity.
func RequestVerification(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, now time.Time) error {
	tok, sum := newSecret()
	expires := now.Add(VerificationTTL).UTC().Truncate(time.Second)
	var email string
	err := tx.QueryRow(ctx, `INSERT INTO directory.email_verifications (token_hash, identity_id, email, created_at, expires_at)
		SELECT $2, id, email, $3, $4 FROM directory.identities WHERE id = $1 AND email_verified_at IS NULL
		RETURNING email`, identityID, sum, now, expires).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrAlreadyVerified
	}
	if err != nil {
		return fmt.Errorf("request email verification: %w", err)
	}
	if _, err := events.EmitPlatform(ctx, tx, pubsub.TypeEmailVerificationRequested, identityID.String(), pubsub.EmailVerificationRequested{
		IdentityID: identityID, Email: email, Token: tok, ExpiresAt: expires,
	}); err != nil {
		return fmt.Errorf("request email verification: %w", err)
	}
	return nil
}

// ResendVerification sends identityID a new verification link (RequestVerification), throttled like password
// resets under s.Limits.ResetPerEmail for the identity, since each request sends an email: past it, a
// *ThrottledError. An identity whose email is verified is ErrAlreadyVerified, and that asks nothing of the
// throttle. Earlier links stay valid until they expire or one of them is used.
func (s *Service) ResendVerification(ctx context.Context, identityID uuid.UUID, now time.Time) error {
	a := attempt{rules: []rule{{key: "verify:id:" + identityID.String(), limit: s.Limits.ResetPerEmail}}}
	err := s.dir.Platform(ctx, db.EntryEmailVerification, func(tx pgx.Tx) error {
		var verified bool
		err := tx.QueryRow(ctx, `SELECT email_verified_at IS NOT NULL FROM directory.identities WHERE id = $1`, identityID).Scan(&verified)
		if errors.Is(err, pgx.ErrNoRows) || verified {
			return ErrAlreadyVerified
		}
		if err != nil {
			return err
		}
		if err := throttled(ctx, tx, a, now); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, now); err != nil {
			return err
		}
		return RequestVerification(ctx, tx, identityID, now)
	})
	if err != nil {
		return fmt.Errorf("resend email verification: %w", err)
	}
	return nil
}

// VerifyEmail redeems the verification token raw: the identity it was sent to is marked as owning its email,
// and every open verification token of that identity is spent. A token that is unknown, expired, used, or
// sent to an address the identity no longer has is ErrInvalidVerificationToken.
func (s *Service) VerifyEmail(ctx context.Context, raw string, now time.Time) error {
	raw = strings.TrimSpace(raw)
	if len(raw) != secretLen {
		return ErrInvalidVerificationToken
	}
	err := s.dir.Platform(ctx, db.EntryEmailVerification, func(tx pgx.Tx) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `WITH v AS (
				UPDATE directory.email_verifications SET used_at = $2
				WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING identity_id, email
			)
			UPDATE directory.identities i SET email_verified_at = COALESCE(i.email_verified_at, $2), updated_at = $2
			FROM v WHERE i.id = v.identity_id AND i.email = v.email RETURNING i.id`, digest(raw), now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Returning an error rolls back the spending of a token whose address no longer matches, too.
			return ErrInvalidVerificationToken
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE directory.email_verifications SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL`, id, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	return nil
}

// MarkVerified records inside tx, a directory transaction, that identityID proved it owns its email (it
// accepted an invitation mailed to it while signed in, or an identity provider of an organization that
// verified the email's domain vouched for it). An identity already verified keeps its first time.
func MarkVerified(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE directory.identities SET email_verified_at = $2, updated_at = $2
		WHERE id = $1 AND email_verified_at IS NULL`, identityID, now); err != nil {
		return fmt.Errorf("mark %s verified: %w", identityID, err)
	}
	return nil
}

// ClaimUnverified hands identityID to the person who just proved they own its email through another channel
// (the mailed invitation link, a first SSO sign-in), inside tx, a directory transaction. When the identity
// was unverified, whoever created it never proved the email was theirs, so everything they could have set up
// goes: its password hash is dropped, its sessions are revoked, its open password-reset and verification
// tokens are spent and its second factor (TOTP and recovery codes) is removed; the email is then marked
// verified. It reports whether the identity was unverified (and so was claimed). A verified identity, or none,
// is left as it is and reports false: its owner already proved the email, and the caller must authenticate
// them in the ordinary way.
func ClaimUnverified(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE directory.identities SET password_hash = NULL, email_verified_at = $2, updated_at = $2
		WHERE id = $1 AND email_verified_at IS NULL`, identityID, now)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", identityID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := revokeAll(ctx, tx, identityID, now); err != nil {
		return false, fmt.Errorf("claim %s: %w", identityID, err)
	}
	for _, q := range []string{
		`UPDATE directory.password_resets SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL`,
		`UPDATE directory.email_verifications SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL`,
		`UPDATE directory.mfa_challenges SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL`,
		`DELETE FROM directory.mfa_recovery_codes WHERE identity_id = $1 AND $2::timestamptz IS NOT NULL`,
		`DELETE FROM directory.mfa_totp WHERE identity_id = $1 AND $2::timestamptz IS NOT NULL`,
	} {
		if _, err := tx.Exec(ctx, q, identityID, now); err != nil {
			return false, fmt.Errorf("claim %s: %w", identityID, err)
		}
	}
	return true, nil
}
