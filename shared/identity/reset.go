package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/events"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ResetTTL is how long a password-reset token stays valid.
const ResetTTL = time.Hour

// ErrInvalidResetToken refuses a reset token that is unknown, expired or already used, alike.
var ErrInvalidResetToken = fault.New(fault.Unauthenticated, "invalid_reset_token", "the reset link is unknown, expired or already used; ask for a new one")

// RequestReset starts a password reset for email, asked from client (its IP address, or "" when unknown).
//
// The answer is the same whether or not an identity has the email, and so is the work: the throttle, a fresh
// token and the same statements run either way. For a known identity the token's SHA-256 is stored in
// directory.password_resets (valid ResetTTL) and an auth.password_reset_requested event carrying the raw token
// is written to the directory outbox in the same transaction, for the notifier to email; the raw token sits in
// that outbox row until it is published. Each request counts against s.Limits' reset limits, known email or
// not; past them RequestReset returns a *ThrottledError. A malformed email is a validation error.
func (s *Service) RequestReset(ctx context.Context, client, email string, now time.Time) error {
	e, ok := NormalizeEmail(email)
	if !ok {
		return valid.Errors{{Field: "email", Message: "must be a valid email address"}}
	}
	tok, sum := newSecret()
	expires := now.Add(ResetTTL).UTC().Truncate(time.Second)
	a := s.Limits.reset(e, client)
	err := s.dir.Platform(ctx, db.EntryPasswordReset, func(tx pgx.Tx) error {
		if err := throttled(ctx, tx, a, now); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, now); err != nil {
			return err
		}
		var id uuid.UUID
		err := tx.QueryRow(ctx, `WITH ident AS (SELECT id FROM directory.identities WHERE email = $1),
			ins AS (
				INSERT INTO directory.password_resets (token_hash, identity_id, created_at, expires_at)
				SELECT $2, id, $3, $4 FROM ident RETURNING identity_id
			)
			SELECT identity_id FROM ins`, e, sum, now, expires).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			// Unknown email: one round trip in place of the event's, so the two answers take as long.
			_, err = tx.Exec(ctx, `SELECT 1 FROM directory.outbox WHERE id = $1`, uuid.Nil)
			return err
		}
		if err != nil {
			return err
		}
		_, err = events.EmitPlatform(ctx, tx, pubsub.TypePasswordResetRequested, id.String(), pubsub.PasswordResetRequested{
			IdentityID: id, Email: e, Token: tok, ExpiresAt: expires,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	return nil
}

// ConfirmReset sets a new password with the reset token raw. The token works once and within ResetTTL; every
// other reset token of the identity is spent with it, every session (refresh-token family) of the identity
// is revoked, and the email's login backoffs are forgotten. The reset link was mailed, so redeeming it proves
// the email: an unverified identity is claimed (ClaimUnverified) and so marked verified. A token that is
// unknown, expired or used is ErrInvalidResetToken; a password the policy refuses is a validation error on
// "password", reported before the token is looked at. It is not throttled; requests from the network go
// through ConfirmResetFrom.
func (s *Service) ConfirmReset(ctx context.Context, raw, password string, now time.Time) error {
	return s.confirmReset(ctx, raw, password, nil, now)
}

// ConfirmResetFrom is ConfirmReset for a request from client (its IP address, or ""), throttled by
// s.Limits.ResetTokenPerClient: every ErrInvalidResetToken counts one failure for the client, and while it has
// too many it returns a *ThrottledError before the token is looked at or the password hashed.
func (s *Service) ConfirmResetFrom(ctx context.Context, client, raw, password string, now time.Time) error {
	a := s.Limits.resetToken(client)
	return s.confirmReset(ctx, raw, password, &a, now)
}

func (s *Service) confirmReset(ctx context.Context, raw, password string, a *attempt, now time.Time) error {
	var errs valid.Errors
	errs.Check(raw != "", "token", "is required")
	ValidatePassword(&errs, "password", password)
	if err := errs.Err(); err != nil {
		return err
	}
	if a != nil {
		// Before the hash, so that a throttled caller costs no hashing.
		if err := s.dir.Platform(ctx, db.EntryPasswordReset, func(tx pgx.Tx) error { return throttled(ctx, tx, *a, now) }); err != nil {
			return fmt.Errorf("confirm password reset: %w", err)
		}
	}
	if len(raw) != secretLen {
		return s.invalidResetToken(ctx, a, now)
	}
	// Hashing happens before the transaction so that no row lock is held across it.
	hash := s.HashPassword(password)
	err := s.dir.Platform(ctx, db.EntryPasswordReset, func(tx pgx.Tx) error {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE directory.password_resets SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING identity_id`, digest(raw), now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrInvalidResetToken
		}
		if err != nil {
			return err
		}
		// The token came by mail, so its holder owns the email: an unverified identity is theirs now, and
		// whatever its creator set up beyond the password (a second factor) goes with the old password.
		if _, err := ClaimUnverified(ctx, tx, id, now); err != nil {
			return err
		}
		return s.setPassword(ctx, tx, id, hash, "", now)
	})
	if errors.Is(err, ErrInvalidResetToken) {
		return s.invalidResetToken(ctx, a, now)
	}
	if err != nil {
		return fmt.Errorf("confirm password reset: %w", err)
	}
	return nil
}

// invalidResetToken counts a wrong reset token under a and returns ErrInvalidResetToken, or the error of
// counting it.
func (s *Service) invalidResetToken(ctx context.Context, a *attempt, now time.Time) error {
	if err := s.fail(ctx, a, now); err != nil {
		return fmt.Errorf("confirm password reset: %w", err)
	}
	return ErrInvalidResetToken
}

// ChangePassword replaces the password of identityID, asked from client (its IP address, or ""), after
// checking current. A wrong current password (or an identity with none, signed in through SSO) is
// ErrInvalidCredentials and counts as a failed login for the identity's email from the client, under the login
// limits, so a stolen access token cannot be used to guess the password; past them it is a *ThrottledError.
// On success every session of the identity, the caller's included, is revoked, and open reset tokens are
// spent. Field errors name "current_password" and "new_password".
func (s *Service) ChangePassword(ctx context.Context, client string, identityID uuid.UUID, current, next string, now time.Time) error {
	var errs valid.Errors
	errs.Check(current != "", "current_password", "is required")
	ValidatePassword(&errs, "new_password", next)
	if len(errs) == 0 && current == next {
		errs.Add("new_password", "must differ from the current password")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	var (
		email  string
		stored *string
		a      attempt
	)
	err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT email, password_hash FROM directory.identities WHERE id = $1`, identityID).Scan(&email, &stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrInvalidCredentials
		}
		if err != nil {
			return err
		}
		a = s.Limits.login(email, client)
		return throttled(ctx, tx, a, now)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	check := s.dummyHash
	if stored != nil {
		check = *stored
	}
	ok, err := s.Hasher.Check(current, check)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok || stored == nil {
		if err := s.fail(ctx, &a, now); err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		return ErrInvalidCredentials
	}
	hash := s.HashPassword(next)
	err = s.dir.Platform(ctx, db.EntryPasswordReset, func(tx pgx.Tx) error {
		return s.setPassword(ctx, tx, identityID, hash, *stored, now)
	})
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// setPassword stores hash as identityID's password inside tx, spends its open reset tokens, revokes its
// sessions and clears its email's login backoffs from every address. When was is not empty the password must still be the one
// whose hash it is: a change checked against a password that a concurrent change or reset replaced is
// ErrInvalidCredentials.
func (s *Service) setPassword(ctx context.Context, tx pgx.Tx, identityID uuid.UUID, hash, was string, now time.Time) error {
	var email string
	err := tx.QueryRow(ctx, `UPDATE directory.identities SET password_hash = $2, updated_at = $3
		WHERE id = $1 AND ($4 = '' OR password_hash = $4) RETURNING email`, identityID, hash, now, was).Scan(&email)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrInvalidCredentials
	}
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE directory.password_resets SET used_at = $2 WHERE identity_id = $1 AND used_at IS NULL`,
		identityID, now); err != nil {
		return fmt.Errorf("spend reset tokens: %w", err)
	}
	if err := revokeAll(ctx, tx, identityID, now); err != nil {
		return err
	}
	return forgetBackoff(ctx, tx, emailKey("", email), "")
}
