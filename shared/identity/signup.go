package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SignUpCheck is the owner's credentials of one sign-up, to be checked by CheckSignUp.
type SignUpCheck struct {
	// Email and Password are the owner's, as sent; Email must already be a valid address.
	Email, Password string
	// Client is the caller's IP address, or "" when unknown.
	Client string
	// Throttled puts the check under the Service's limits; sign-ups from the network set it.
	Throttled bool
	// Before, when not nil, runs in the check's directory transaction after the throttle and before the email
	// is looked up, so that the caller's own refusals (a taken slug) come before any password work and say
	// nothing about the email.
	Before func(ctx context.Context, tx pgx.Tx) error
}

// SignUpOwner is the owner of a sign-up whose credentials CheckSignUp accepted.
type SignUpOwner struct {
	// Email is the owner's email, normalised.
	Email string
	// IdentityID is the identity that already has Email and whose password matched, or uuid.Nil when no
	// identity has Email.
	IdentityID uuid.UUID
	// Hash is the password hash to create the new identity with or, for an existing identity, its stored hash
	// that the password matched: the sign-up's transaction must still find it there.
	Hash string

	attempt *attempt // the login limits it was checked under; nil when unthrottled
	client  string
}

// CheckSignUp checks a sign-up's owner credentials with exactly one call of s.Hasher whatever the email: a new
// email's password is hashed (Hash), an existing one's is checked against its stored hash, or against the
// dummy hash for an identity without a password (Check), at the same cost parameters. The answer for an
// existing email whose password does not match is ErrInvalidCredentials, the answer a failed login gets.
//
// A throttled check is read first, under the login limits of the email from the client (its backoff and the
// client's count across accounts) and the client's sign-up limit, and refused with a *ThrottledError before
// anything else; a mismatching password counts as a failed login of the email from the client. So an
// existing email costs what a guessed password does, and emails cannot be probed through sign-up faster than
// passwords can be guessed through login.
func (s *Service) CheckSignUp(ctx context.Context, in SignUpCheck, now time.Time) (SignUpOwner, error) {
	email, ok := NormalizeEmail(in.Email)
	if !ok {
		return SignUpOwner{}, fmt.Errorf("check sign-up: malformed email %q", in.Email)
	}
	var login, gate *attempt
	if in.Throttled {
		l := s.Limits.login(email, in.Client)
		g := l
		g.rules = append(append([]rule(nil), l.rules...), s.Limits.signUp(in.Client).rules...)
		login, gate = &l, &g
	}
	var (
		id     uuid.UUID
		stored *string
		found  bool
	)
	err := s.dir.Platform(ctx, db.EntrySignUp, func(tx pgx.Tx) error {
		if err := check(ctx, tx, gate, now); err != nil {
			return err
		}
		if in.Before != nil {
			if err := in.Before(ctx, tx); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `SELECT id, password_hash FROM directory.identities WHERE email = $1`, email).Scan(&id, &stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return SignUpOwner{}, fmt.Errorf("check sign-up: %w", err)
	}
	o := SignUpOwner{Email: email, attempt: login, client: in.Client}
	if !found {
		o.Hash = s.Hasher.Hash(in.Password)
		return o, nil
	}
	against := s.dummyHash
	if stored != nil {
		against = *stored
	}
	match, err := s.Hasher.Check(in.Password, against)
	if err != nil {
		return SignUpOwner{}, fmt.Errorf("check sign-up: %w", err)
	}
	if !match || stored == nil {
		if err := s.fail(ctx, login, now); err != nil {
			return SignUpOwner{}, fmt.Errorf("check sign-up: %w", err)
		}
		return SignUpOwner{}, ErrInvalidCredentials
	}
	o.IdentityID, o.Hash = id, *stored
	return o, nil
}

// SignedUp records, inside tx (the sign-up's directory transaction), that o's sign-up created an
// organization: it counts under the client's sign-up limit and, for an existing identity, which just proved
// its password from the client, clears its login backoff there, as a login would. Unthrottled checks record
// nothing.
func (s *Service) SignedUp(ctx context.Context, tx pgx.Tx, o SignUpOwner, now time.Time) error {
	if o.attempt == nil {
		return nil
	}
	if err := s.record(ctx, tx, s.Limits.signUp(o.client), now); err != nil {
		return fmt.Errorf("record sign-up: %w", err)
	}
	if o.IdentityID != uuid.Nil {
		if err := forgetBackoff(ctx, tx, o.attempt.account, o.attempt.client); err != nil {
			return fmt.Errorf("record sign-up: %w", err)
		}
	}
	return nil
}
