// Package identity holds people and their way in: identities (one per email, across organizations),
// memberships, password hashes, refresh-token sessions and login. It works on the directory store through
// the data library's named platform entry points, since an identity is not owned by any one tenant.
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
	"unicode/utf8"

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

// Service logs identities in and starts their sessions.
type Service struct {
	dir        *db.Directory
	params     Params
	refreshTTL time.Duration
	// dummyHash is checked against when an email is unknown, so the answer takes as long as a wrong password.
	dummyHash string
}

// New returns the identity service over the directory.
func New(dir *db.Directory, params Params, refreshTTL time.Duration) *Service {
	return &Service{dir: dir, params: params, refreshTTL: refreshTTL, dummyHash: HashPassword("not a password anyone has", params)}
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
func ValidateCredentials(errs *valid.Errors, prefix, email, password string) {
	_, ok := NormalizeEmail(email)
	errs.Check(ok, prefix+"email", "must be a valid email address")
	n := utf8.RuneCountInString(password)
	errs.Check(n >= MinPasswordLength, prefix+"password", fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	errs.Check(n <= MaxPasswordLength, prefix+"password", fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
}

// membership is one organization an identity belongs to, as login reads it.
type membership struct {
	tenant uuid.UUID
	slug   string
	role   string
}

// Login checks email and password and opens a session in the organization with slug tenantSlug, or in the
// identity's only organization when tenantSlug is empty.
func (s *Service) Login(ctx context.Context, email, password, tenantSlug string, now time.Time) (Session, error) {
	email, _ = NormalizeEmail(email)
	tenantSlug = strings.ToLower(strings.TrimSpace(tenantSlug))
	var (
		id      uuid.UUID
		hash    *string
		members []membership
	)
	err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error {
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
		return Session{}, ErrInvalidCredentials
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
		return Session{}, ErrInvalidCredentials
	}
	m := members[chosen]
	sess := Session{Principal: token.Principal{IdentityID: id, TenantID: m.tenant, Role: m.role}, TenantSlug: m.slug}
	err = s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) (err error) {
		sess.RefreshToken, sess.RefreshExpiresAt, err = s.StartSession(ctx, tx, id, m.tenant, now)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return sess, nil
}

// StartSession opens a new refresh-token family for identityID in tenantID inside tx, a directory transaction,
// and returns its first token and when it expires. Only the token's SHA-256 is stored.
func (s *Service) StartSession(ctx context.Context, tx pgx.Tx, identityID, tenantID uuid.UUID, now time.Time) (string, time.Time, error) {
	family, err := uuid.NewV7()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // never fails
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	expires := now.Add(s.refreshTTL).UTC().Truncate(time.Second)
	if _, err := tx.Exec(ctx, `INSERT INTO directory.refresh_token_families (id, identity_id, tenant_id, created_at) VALUES ($1, $2, $3, $4)`,
		family, identityID, tenantID, now); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO directory.refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sum[:], family, now, expires); err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return tok, expires, nil
}
