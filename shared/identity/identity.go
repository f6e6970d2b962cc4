// Package identity holds people and their way in: identities (one per email, across organizations),
// memberships, the password policy and password hashes, login and its throttling, refresh-token sessions
// (rotation, reuse detection, logout, switching organization) and password change and reset. It works on the
// directory store through the data library's named platform entry points, since an identity is not owned by
// any one tenant.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Errors a caller maps to answers.
var (
	// ErrInvalidCredentials covers an unknown email, a wrong password and an organization the identity does
	// not belong to alike, so the answer reveals none of them.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrTenantRequired means the identity belongs to several organizations and the login named none.
	ErrTenantRequired = errors.New("tenant required")
)

// Password length bounds: long enough to resist guessing, short enough that hashing stays cheap.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// Session is what a successful login or sign-up yields: who is in, where, and the refresh token that keeps them
// in. The access token is minted from Principal by the caller's token issuer.
type Session struct {
	Principal        token.Principal
	TenantSlug       string
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// Service logs identities in, keeps their sessions (refresh, logout, switching organization) and their
// passwords (change and reset).
type Service struct {
	// Limits throttle LoginFrom, ChangePassword and RequestReset; New sets DefaultLimits. Change them before
	// the Service is used, not while it serves.
	Limits Limits

	dir        *db.Directory
	params     Params
	refreshTTL time.Duration
	// dummyHash is checked against when an email is unknown, so the answer takes as long as a wrong password.
	dummyHash string
}

// New returns the identity service over the directory.
func New(dir *db.Directory, params Params, refreshTTL time.Duration) *Service {
	return &Service{Limits: DefaultLimits, dir: dir, params: params, refreshTTL: refreshTTL, dummyHash: HashPassword("not a password anyone has", params)}
}

// HashPassword hashes password with the service's parameters.
func (s *Service) HashPassword(password string) string { return HashPassword(password, s.params) }

// NormalizeEmail returns email lower-cased and trimmed, and whether it is a plain address.
func NormalizeEmail(email string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	return e, err == nil && a.Address == e && len(e) <= 320
}

// ValidateCredentials checks an email and a new password, naming the fields under prefix (for nested input).
// The password must pass the password policy (ValidatePassword).
func ValidateCredentials(errs *valid.Errors, prefix, email, password string) {
	_, ok := NormalizeEmail(email)
	errs.Check(ok, prefix+"email", "must be a valid email address")
	ValidatePassword(errs, prefix+"password", password)
}

// membership is one organization an identity belongs to, as login reads it.
type membership struct {
	tenant uuid.UUID
	slug   string
	role   string
}

// LoginFrom checks email and password and opens a session in the organization with slug tenantSlug, or in the
// identity's only organization when tenantSlug is empty, for a request from client (its IP address; "" or
// anything else that does not parse as one leaves the per-client limit out), throttled by s.Limits: while the email or the client has too many
// recent failures it returns a *ThrottledError (errors.Is ErrThrottled) before looking at the password. Every
// ErrInvalidCredentials counts one failure for both, known email or not, so throttling reveals no more than
// the 401 does; a successful login clears the email's failures.
func (s *Service) LoginFrom(ctx context.Context, client, email, password, tenantSlug string, now time.Time) (Session, error) {
	return s.login(ctx, email, password, tenantSlug, s.Limits.loginRules(email, client), now)
}

// fail counts one failed attempt under rules, in its own transaction, since the attempt's own held no write.
func (s *Service) fail(ctx context.Context, rules []rule, now time.Time) error {
	if len(rules) == 0 {
		return nil
	}
	if err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error { return s.record(ctx, tx, rules, now) }); err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return nil
}

func (s *Service) login(ctx context.Context, email, password, tenantSlug string, rules []rule, now time.Time) (Session, error) {
	email, wellFormed := NormalizeEmail(email)
	tenantSlug = strings.ToLower(strings.TrimSpace(tenantSlug))
	var (
		id      uuid.UUID
		hash    *string
		members []membership
	)
	err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error {
		// The throttle is read before anything that depends on the email having an identity.
		if err := throttled(ctx, tx, rules, now); err != nil {
			return err
		}
		if !wellFormed {
			// No identity has such an email, and some malformed ones (a NUL) PostgreSQL would refuse to
			// compare; the dummy hash below still costs what a wrong password does.
			return nil
		}
		err := tx.QueryRow(ctx, `SELECT id, password_hash FROM directory.identities WHERE email = $1`, email).Scan(&id, &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT t.id, t.slug, m.role FROM directory.memberships m
			JOIN directory.tenants t ON t.id = m.tenant_id
			WHERE m.identity_id = $1 AND t.status = 'active' ORDER BY t.slug`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m membership
			if err := rows.Scan(&m.tenant, &m.slug, &m.role); err != nil {
				return err
			}
			members = append(members, m)
		}
		return rows.Err()
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	stored := s.dummyHash
	if hash != nil {
		stored = *hash
	}
	ok, err := CheckPassword(password, stored)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if !ok || hash == nil {
		return Session{}, s.invalid(ctx, rules, now)
	}
	chosen := -1
	switch {
	case tenantSlug != "":
		for i, m := range members {
			if m.slug == tenantSlug {
				chosen = i
			}
		}
	case len(members) == 1:
		chosen = 0
	case len(members) > 1:
		return Session{}, ErrTenantRequired
	}
	if chosen < 0 {
		return Session{}, s.invalid(ctx, rules, now)
	}
	m := members[chosen]
	sess := Session{Principal: token.Principal{IdentityID: id, TenantID: m.tenant, Role: m.role}, TenantSlug: m.slug}
	err = s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) (err error) {
		if len(rules) > 0 {
			// Only the email's failures: the client's stay, or one good account would wipe its guesses at others.
			if err := forget(ctx, tx, emailKey("", email)); err != nil {
				return err
			}
		}
		sess.RefreshToken, sess.RefreshExpiresAt, err = s.StartSession(ctx, tx, id, m.tenant, now)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return sess, nil
}

// invalid counts a failed login under rules and returns ErrInvalidCredentials, or the error of counting it.
func (s *Service) invalid(ctx context.Context, rules []rule, now time.Time) error {
	if err := s.fail(ctx, rules, now); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return ErrInvalidCredentials
}

// newSecret returns a fresh opaque token (32 random bytes, base64url) and the SHA-256 under which it is
// stored; the token itself never is.
func newSecret() (string, []byte) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails
	tok := base64.RawURLEncoding.EncodeToString(raw)
	return tok, digest(tok)
}

// digest is the stored form of an opaque token.
func digest(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// secretLen is the length of every token newSecret makes; anything else cannot be one.
const secretLen = 43

// StartSession opens a new refresh-token family for identityID in tenantID inside tx, a directory transaction,
// and returns its first token and when it expires. Only the token's SHA-256 is stored.
func (s *Service) StartSession(ctx context.Context, tx pgx.Tx, identityID, tenantID uuid.UUID, now time.Time) (string, time.Time, error) {
	family, err := uuid.NewV7()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	tok, sum := newSecret()
	expires := now.Add(s.refreshTTL).UTC().Truncate(time.Second)
	if _, err := tx.Exec(ctx, `INSERT INTO directory.refresh_token_families (id, identity_id, tenant_id, created_at) VALUES ($1, $2, $3, $4)`,
		family, identityID, tenantID, now); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO directory.refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sum, family, now, expires); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return tok, expires, nil
}
