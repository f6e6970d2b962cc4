// Package identity holds people and their way in: identities (one per email, across organizations),
// memberships, the password policy and password hashes, login and its throttling, refresh-token sessions
// (rotation with a reuse interval, reuse detection, logout, switching organization, the session list and the
// check every authenticated request makes against them) and password change and reset. It works on the
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
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Errors a caller maps to answers.
var (
	// ErrInvalidCredentials covers an unknown email, a wrong password and an organization the identity does
	// not belong to alike, so the answer reveals none of them.
	ErrInvalidCredentials = fault.New(fault.Unauthenticated, "invalid_credentials", "the email, password or organization is wrong")
	// ErrWrongPassword is the answer to a wrong password on an authenticated route (changing it, removing a
	// second factor): 403, not 401, since the access token is fine and a client that sees 401 would refresh
	// it and try again. Handlers choose it for those routes' ErrInvalidCredentials.
	ErrWrongPassword = fault.New(fault.Forbidden, "wrong_password", "the current password is wrong")
	// ErrWrongMFACode is ErrInvalidMFACode on an authenticated route, 403 for the same reason.
	ErrWrongMFACode = fault.New(fault.Forbidden, "invalid_mfa_code", "the code is wrong or was already used")
	// ErrTenantRequired means the identity belongs to several organizations and the login named none.
	ErrTenantRequired = fault.New(fault.Invalid, "tenant_required", "tenant is required: this account belongs to several organizations")
)

// Password length bounds: long enough to resist guessing, short enough that hashing stays cheap.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// Session is what a successful login or sign-up yields: who is in, where, and the refresh token that keeps them
// in. The access token is minted from Principal, ID and MembershipVersion by the caller's token issuer.
type Session struct {
	Principal token.Principal
	// ID is the refresh-token family, the sid of every access token minted in the session.
	ID uuid.UUID
	// MembershipVersion is the version of the membership Principal.Role was read from.
	MembershipVersion int64
	TenantSlug        string
	RefreshToken      string
	RefreshExpiresAt  time.Time
}

// DefaultReuseInterval is the refresh-token reuse interval New sets, TOKEN_REFRESH_REUSE_INTERVAL's default.
const DefaultReuseInterval = 10 * time.Second

// Service logs identities in, keeps their sessions (refresh, logout, switching organization) and their
// passwords (change and reset).
type Service struct {
	// Limits throttle LoginFrom, ChangePassword, RequestReset, ConfirmResetFrom and throttled sign-ups; New
	// sets DefaultLimits. Change them before the Service is used, not while it serves.
	Limits Limits
	// Hasher does every password hash and check; New sets Argon2 with the given parameters. Like Limits, it is
	// changed only before the Service is used (tests count its calls).
	Hasher Hasher
	// MFA seals and opens TOTP secrets. When nil, enrolment and the second step of a login answer
	// ErrMFAUnavailable; a login of an enrolled identity still owes its code, so a missing key never skips it.
	MFA *SecretBox
	// ReuseInterval is how long after its rotation a refresh token presented again still gets the same
	// successor (see Refresh); New sets DefaultReuseInterval. Like Limits, set it before the Service is used.
	ReuseInterval time.Duration

	dir        *db.Directory
	params     Params
	refreshTTL time.Duration
	// Policy, when set, may refuse a login or a switch into an organization that requires more than the
	// session proved (its own single sign-on, a second factor). Set it before the Service is used.
	Policy Policy

	// dummyHash is checked against when an email is unknown, so the answer takes as long as a wrong password.
	dummyHash string
}

// New returns the identity service over the directory.
func New(dir *db.Directory, params Params, refreshTTL time.Duration) *Service {
	return &Service{Limits: DefaultLimits, Hasher: Argon2{params}, ReuseInterval: DefaultReuseInterval, dir: dir, params: params, refreshTTL: refreshTTL, dummyHash: HashPassword("not a password anyone has", params)}
}

// HashPassword hashes password with the service's Hasher.
func (s *Service) HashPassword(password string) string { return s.Hasher.Hash(password) }

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
	// guarded: the organization verified the domain of the identity's email, so only a proven owner of the
	// email may log in to it with a password.
	guarded bool
}

// LoginFrom checks email and password and opens a session in the organization with slug tenantSlug, or in the
// identity's only organization when tenantSlug is empty, for a request from client (its IP address; "" or
// anything else that does not parse as one counts as one shared unknown address, under every limit),
// throttled by s.Limits: while this email from this client is in its backoff (LoginBackoff), or the client has
// too many recent failures across accounts (LoginPerClient), it returns a *ThrottledError (errors.Is
// ErrThrottled) before looking at the password. The same email from another address is not held back. Every
// ErrInvalidCredentials counts one failure for both, known email or not, so throttling reveals no more than
// the 401 does; a successful login clears the email's backoff from that client, never the client's count
// across accounts.
func (s *Service) LoginFrom(ctx context.Context, client, email, password, tenantSlug string, now time.Time) (Session, error) {
	a := s.Limits.login(email, client)
	return s.login(ctx, email, password, tenantSlug, &a, now)
}

// fail counts one failed attempt under a (nil: none), in its own transaction, since the attempt's own held no
// write.
func (s *Service) fail(ctx context.Context, a *attempt, now time.Time) error {
	if a == nil {
		return nil
	}
	if err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error { return s.record(ctx, tx, *a, now) }); err != nil {
		return fmt.Errorf("count failed attempt: %w", err)
	}
	return nil
}

// check returns a *ThrottledError when a (nil: none) admits no attempt at now.
func check(ctx context.Context, tx pgx.Tx, a *attempt, now time.Time) error {
	if a == nil {
		return nil
	}
	return throttled(ctx, tx, *a, now)
}

func (s *Service) login(ctx context.Context, email, password, tenantSlug string, a *attempt, now time.Time) (Session, error) {
	email, wellFormed := NormalizeEmail(email)
	tenantSlug = strings.ToLower(strings.TrimSpace(tenantSlug))
	var (
		id       uuid.UUID
		hash     *string
		verified bool
		enrolled bool
		members  []membership
	)
	err := s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error {
		// The throttle is read before anything that depends on the email having an identity.
		if err := check(ctx, tx, a, now); err != nil {
			return err
		}
		if !wellFormed {
			// No identity has such an email, and some malformed ones (a NUL) PostgreSQL would refuse to
			// compare; the dummy hash below still costs what a wrong password does.
			return nil
		}
		err := tx.QueryRow(ctx, `SELECT id, password_hash, email_verified_at IS NOT NULL,
				EXISTS (SELECT 1 FROM directory.mfa_totp WHERE identity_id = i.id AND confirmed_at IS NOT NULL)
			FROM directory.identities i WHERE email = $1`, email).Scan(&id, &hash, &verified, &enrolled)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT t.id, t.slug, m.role, `+guardedSQL("$2")+` FROM directory.memberships m
			JOIN directory.tenants t ON t.id = m.tenant_id
			WHERE m.identity_id = $1 AND t.status = 'active' ORDER BY t.slug`, id, emailDomain(email))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m membership
			if err := rows.Scan(&m.tenant, &m.slug, &m.role, &m.guarded); err != nil {
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
	ok, err := s.Hasher.Check(password, stored)
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	if !ok || hash == nil {
		return Session{}, s.invalid(ctx, a, now)
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
		return Session{}, s.invalid(ctx, a, now)
	}
	m := members[chosen]
	if m.guarded && !verified {
		// The password is right, so this is no failed guess; the refusal sends a fresh link, as far as the
		// resend limit allows, so that the person is pointed at their mailbox.
		if err := s.ResendVerification(ctx, id, now); err != nil && !errors.Is(err, ErrThrottled) && !errors.Is(err, ErrAlreadyVerified) {
			return Session{}, fmt.Errorf("login: %w", err)
		}
		return Session{}, ErrEmailUnverified
	}
	// An enrolled identity's session will have passed its second factor once the challenge is met, so the
	// organization's policy is asked about that session, before the code is asked for.
	amr := AMRPassword
	if enrolled {
		amr = AMRPassword + " " + AMRMFA
	}
	if err := s.admit(ctx, id, m.tenant, amr); err != nil {
		return Session{}, err
	}
	if enrolled {
		return Session{}, s.challenge(ctx, id, m.tenant, a, now)
	}
	sess := Session{Principal: token.Principal{IdentityID: id, TenantID: m.tenant, Role: m.role, AMR: amr}, TenantSlug: m.slug}
	err = s.dir.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) (err error) {
		if a != nil {
			// Only this email's backoff from this client: the client's count across accounts stays, or one good
			// account would wipe its guesses at others, and other clients' backoffs stay, or the owner logging
			// in would release an attacker.
			if err := forgetBackoff(ctx, tx, a.account, a.client); err != nil {
				return err
			}
		}
		return s.StartSession(ctx, tx, &sess, now)
	})
	if err != nil {
		return Session{}, fmt.Errorf("login: %w", err)
	}
	return sess, nil
}

// guardedSQL is the SQL truth that the organization t verified the email domain that the SQL expression
// domain yields, or a parent of it (the rule SSO provisioning applies).
func guardedSQL(domain string) string {
	return `EXISTS (SELECT 1 FROM directory.domains d WHERE d.tenant_id = t.id AND d.verified_at IS NOT NULL
		AND (` + domain + ` = d.domain OR right(` + domain + `, length(d.domain) + 1) = '.' || d.domain))`
}

// emailDomain is the domain part of a normalized email.
func emailDomain(email string) string { return email[strings.LastIndexByte(email, '@')+1:] }

// invalid counts a failed login under a and returns ErrInvalidCredentials, or the error of counting it.
func (s *Service) invalid(ctx context.Context, a *attempt, now time.Time) error {
	if err := s.fail(ctx, a, now); err != nil {
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

// StartSession opens a new refresh-token family for sess.Principal (its identity in its tenant, where it must
// be a member) inside tx, a directory transaction, and fills in sess's ID (the family), MembershipVersion,
// the role the membership has now, RefreshToken and RefreshExpiresAt. Only the token's SHA-256 is stored. The
// client the request came from (WithClient) is recorded for the session list, and so is how the session was
// authenticated (sess.Principal.AMR: AMRPassword, AMRSSO, with AMRMFA added; empty is stored as unknown),
// which the family keeps and its refreshes carry.
func (s *Service) StartSession(ctx context.Context, tx pgx.Tx, sess *Session, now time.Time) error {
	family, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	tok, sum := newSecret()
	expires := now.Add(s.refreshTTL).UTC().Truncate(time.Second)
	c := ClientFrom(ctx)
	p := sess.Principal
	var amr *string
	if m := strings.Join(strings.Fields(p.AMR), " "); m != "" {
		amr = &m
	}
	// One round trip: the family, its first token, and the membership the access token will name.
	err = tx.QueryRow(ctx, `WITH f AS (
			INSERT INTO directory.refresh_token_families (id, identity_id, tenant_id, created_at, last_used_at, user_agent, client_address, amr)
			VALUES ($1, $2, $3, $4, $4, $5, $6, $9)
		), t AS (
			INSERT INTO directory.refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($7, $1, $4, $8)
		)
		SELECT role, version FROM directory.memberships WHERE tenant_id = $3 AND identity_id = $2`,
		family, p.IdentityID, p.TenantID, now, c.UserAgent, c.Address, sum, expires, amr).Scan(&sess.Principal.Role, &sess.MembershipVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("start session: %s is not a member of %s", p.IdentityID, p.TenantID)
	}
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	sess.ID, sess.RefreshToken, sess.RefreshExpiresAt = family, tok, expires
	return nil
}
