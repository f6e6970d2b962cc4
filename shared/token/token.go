// Package token mints and checks the platform's access tokens: short-lived ES256 JWTs that carry the
// identity, the tenant the identity acts in and its role there, and the session they were minted in (its id
// and the version of the membership), which every authenticated request checks against the directory.
//
// The auth function signs with an Issuer and publishes KeySet.JWKS at /.well-known/jwks.json so API Gateway
// can check tokens too; every other function checks them with a Verifier built on the public keys alone.
package token

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Leeway is the clock skew tolerated between the issuing and the verifying instance when checking exp, nbf
// and iat.
const Leeway = 30 * time.Second

// algorithm is the only signature algorithm issued or accepted; pinning it is what defeats alg=none and the
// HS256-with-the-public-key confusion.
const algorithm = "ES256"

var (
	// ErrInvalid is wrapped by every error Verify returns, so callers answer 401 with one errors.Is check.
	ErrInvalid = errors.New("invalid token")

	// ErrExpired is wrapped by Verify's error for a correctly signed token whose lifetime is over; it also
	// matches ErrInvalid. A client that sees it should refresh rather than log in again.
	ErrExpired = fmt.Errorf("%w: expired", ErrInvalid)
)

// Principal is who an access token speaks for: one identity acting in one tenant with one role there.
type Principal struct {
	IdentityID uuid.UUID
	TenantID   uuid.UUID
	Role       string
	// AMR says how the session behind the token was authenticated: method names in the manner of RFC 8176,
	// separated by spaces ("pwd", "sso:<tenant id>", "pwd mfa"). Empty when unknown (a session opened before
	// it was recorded), which meets no organization's requirement. A string rather than a slice keeps
	// Principal comparable; the token carries it as the amr array.
	AMR string
}

// Methods returns the authentication methods of p.AMR.
func (p Principal) Methods() []string { return strings.Fields(p.AMR) }

// Session is the session an access token was minted in: the refresh-token family's id (the sid claim) and the
// version of the membership the role was read from (mv). A token is honoured only while that family is not
// revoked and the membership still has that version (see identity.SessionCache).
type Session struct {
	ID                uuid.UUID
	MembershipVersion int64
}

// claims is the JWT body; sub carries Principal.IdentityID.
type claims struct {
	jwt.RegisteredClaims
	TenantID  string   `json:"tid"`
	Role      string   `json:"role"`
	AMR       []string `json:"amr,omitempty"`
	SessionID string   `json:"sid"`
	// MembershipVersion is a pointer so that a token without mv is told apart from one with mv 0.
	MembershipVersion *int64 `json:"mv"`
}

// Issuer signs access tokens with the signing key of a KeySet. It is safe for concurrent use.
type Issuer struct {
	keys     *KeySet
	issuer   string
	audience string
	ttl      time.Duration
}

// NewIssuer returns an Issuer whose tokens name issuer and audience and live for ttl.
func NewIssuer(keys *KeySet, issuer, audience string, ttl time.Duration) *Issuer {
	return &Issuer{keys: keys, issuer: issuer, audience: audience, ttl: ttl}
}

// Issue signs an access token for p in session s, valid from now for the Issuer's TTL, and returns it with its
// expiry. A token needs a session: Verify refuses one without.
//
// JWT times have one-second precision, so expiresAt is truncated to the second to match the token exactly.
func (i *Issuer) Issue(p Principal, s Session, now time.Time) (raw string, expiresAt time.Time, err error) {
	k, ok := i.keys.signingKey()
	if !ok {
		return "", time.Time{}, errors.New("issue token: key set has no signing key")
	}
	if err := errors.Join(p.validate(), s.validate()); err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	if i.ttl <= 0 {
		return "", time.Time{}, fmt.Errorf("issue token: non-positive lifetime %s", i.ttl)
	}
	jti, err := uuid.NewRandom()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: generate id: %w", err)
	}
	issuedAt := jwt.NewNumericDate(now)
	expires := jwt.NewNumericDate(now.Add(i.ttl))
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   p.IdentityID.String(),
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: expires,
			NotBefore: issuedAt,
			IssuedAt:  issuedAt,
			ID:        jti.String(),
		},
		TenantID:          p.TenantID.String(),
		Role:              p.Role,
		AMR:               p.Methods(),
		SessionID:         s.ID.String(),
		MembershipVersion: &s.MembershipVersion,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = k.kid
	raw, err = t.SignedString(k.priv)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: sign: %w", err)
	}
	return raw, expires.Time, nil
}

// Verifier checks access tokens against the keys of a KeySet. It is safe for concurrent use.
type Verifier struct {
	keys     *KeySet
	issuer   string
	audience string
}

// NewVerifier returns a Verifier that accepts tokens signed by any key in keys and naming issuer and audience.
func NewVerifier(keys *KeySet, issuer, audience string) *Verifier {
	return &Verifier{keys: keys, issuer: issuer, audience: audience}
}

// Verify checks raw as of now and returns the Principal it speaks for; see VerifySession.
func (v *Verifier) Verify(raw string, now time.Time) (Principal, error) {
	p, _, err := v.VerifySession(raw, now)
	return p, err
}

// VerifySession checks raw as of now and returns the Principal it speaks for and the Session it was minted in.
// The signature says only that the session was open when the token was minted; whether it still is, the
// caller asks the directory.
//
// The token must be ES256, carry the kid of a key in the set that is not past its retirement grace at now, be
// signed by that key, name the Verifier's issuer and audience, carry an exp, be inside its lifetime (give or
// take Leeway), carry a UUID sub, tid and sid, a non-empty role and a positive mv. Every error wraps
// ErrInvalid; one for an expired token also wraps ErrExpired.
func (v *Verifier) VerifySession(raw string, now time.Time) (Principal, Session, error) {
	// The library skips the iss and aud checks when they are empty; a misconfigured Verifier must fail
	// closed instead.
	if v.issuer == "" || v.audience == "" {
		return Principal{}, Session{}, fmt.Errorf("%w: verifier has no issuer or audience configured", ErrInvalid)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{algorithm}),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithStrictDecoding(),
	)
	var c claims
	keyAt := func(t *jwt.Token) (any, error) { return v.key(t, now) }
	if _, err := parser.ParseWithClaims(raw, &c, keyAt); err != nil {
		// The library checks the signature before the claims, so an expiry reported here is on a genuine
		// token and telling the caller to refresh is safe.
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Principal{}, Session{}, fmt.Errorf("%w: %w", ErrExpired, err)
		}
		return Principal{}, Session{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p, err := c.principal()
	if err != nil {
		return Principal{}, Session{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s, err := c.session()
	if err != nil {
		return Principal{}, Session{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return p, s, nil
}

// key is the jwt.Keyfunc at now: it picks the verification key by kid and never falls back to trying every
// key, so a token cannot choose which key checks it beyond naming one we hold, and a retired key past its
// grace checks nothing.
func (v *Verifier) key(t *jwt.Token, now time.Time) (any, error) {
	// WithValidMethods already pins the algorithm; checking the concrete method too keeps this function
	// safe even if the parser options are ever changed.
	if t.Method != jwt.SigningMethodES256 {
		return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
	}
	kid, ok := t.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, errors.New("missing kid header")
	}
	pub, err := v.keys.lookup(kid, now)
	if err != nil {
		return nil, err
	}
	return pub, nil
}

func (c *claims) principal() (Principal, error) {
	identity, err := parseID(c.Subject)
	if err != nil {
		return Principal{}, fmt.Errorf("sub: %w", err)
	}
	tenant, err := parseID(c.TenantID)
	if err != nil {
		return Principal{}, fmt.Errorf("tid: %w", err)
	}
	if c.Role == "" {
		return Principal{}, errors.New("missing role")
	}
	for _, m := range c.AMR {
		if m == "" || strings.ContainsAny(m, " \t\r\n") {
			return Principal{}, fmt.Errorf("amr: %q is not a method name", m)
		}
	}
	return Principal{IdentityID: identity, TenantID: tenant, Role: c.Role, AMR: strings.Join(c.AMR, " ")}, nil
}

// session reads sid and mv; a token without them predates session checks and is refused, there being no
// deployed token to stay compatible with.
func (c *claims) session() (Session, error) {
	id, err := parseID(c.SessionID)
	if err != nil {
		return Session{}, fmt.Errorf("sid: %w", err)
	}
	if c.MembershipVersion == nil || *c.MembershipVersion <= 0 {
		return Session{}, errors.New("missing or non-positive mv")
	}
	return Session{ID: id, MembershipVersion: *c.MembershipVersion}, nil
}

// parseID accepts only the canonical lower-case hyphenated form the Issuer writes, so one identity has
// exactly one spelling in a token.
func parseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fmt.Errorf("not a UUID: %w", err)
	}
	if id == uuid.Nil || id.String() != s {
		return uuid.Nil, fmt.Errorf("%q is not a canonical non-nil UUID", s)
	}
	return id, nil
}

func (p Principal) validate() error {
	var errs []error
	if p.IdentityID == uuid.Nil {
		errs = append(errs, errors.New("principal has no identity"))
	}
	if p.TenantID == uuid.Nil {
		errs = append(errs, errors.New("principal has no tenant"))
	}
	if p.Role == "" {
		errs = append(errs, errors.New("principal has no role"))
	}
	return errors.Join(errs...)
}

func (s Session) validate() error {
	var errs []error
	if s.ID == uuid.Nil {
		errs = append(errs, errors.New("token has no session"))
	}
	if s.MembershipVersion <= 0 {
		errs = append(errs, errors.New("token has no membership version"))
	}
	return errors.Join(errs...)
}
