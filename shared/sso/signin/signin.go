// Package signin is the single sign-on flow of an organization's OIDC connection: the authorization-code flow
// with PKCE that starts and finishes a sign-in, the verification of the provider's ID token, and the
// just-in-time provisioning of the identity and its membership on a first sign-in.
//
// It is apart from package sso, which holds the connection's shape, so that code which only stores and
// validates connections (the tenants function) does not link an OIDC client.
package signin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/obs"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// Errors a caller maps to answers. Each refusal of a callback is one of them, so none becomes a 500.
var (
	// ErrNotFound covers an unknown organization, a suspended one, and one without an enabled connection
	// alike, so the answer reveals none of them.
	ErrNotFound = fault.New(fault.NotFound, "sso_not_found", "this organization has no single sign-on")
	// ErrReturnURL means the return URL is malformed or outside the allow list.
	ErrReturnURL = sso.ErrReturnURL
	// ErrState means the state is missing, forged, expired, for another organization, or not this browser's.
	ErrState = sso.ErrState
	// ErrDenied means the provider answered the authorization request with an error (the person declined).
	ErrDenied = fault.New(fault.Unauthenticated, "sso_denied", "the identity provider did not sign you in")
	// ErrExchange means the provider refused to exchange the code (unknown, spent, or a wrong verifier).
	ErrExchange = fault.New(fault.Unauthenticated, "sso_exchange_failed", "the identity provider refused the authorization code; start again")
	// ErrIDToken means the ID token is missing or fails verification: signature, issuer, audience, expiry or
	// nonce.
	ErrIDToken = fault.New(fault.Unauthenticated, "invalid_id_token", "the identity provider's ID token is not valid for this sign-in")
	// ErrEmailNotVerified means the ID token carries no email, or one the provider does not vouch for.
	ErrEmailNotVerified = fault.New(fault.Forbidden, "email_not_verified", "the identity provider did not vouch for your email address")
	// ErrDomainNotAllowed means the email's domain is not among the connection's allowed domains.
	ErrDomainNotAllowed = fault.New(fault.Forbidden, "email_domain_not_allowed", "your email domain may not sign in to this organization")
	// ErrDomainNotVerified means the email's domain is allowed but the organization has not proved it owns it.
	ErrDomainNotVerified = fault.New(fault.Forbidden, "email_domain_not_verified", "this organization has not verified your email domain")
	// ErrProviderUnavailable means the provider could not be reached (discovery, token or UserInfo endpoint:
	// the network, a timeout, a 5xx).
	ErrProviderUnavailable = fault.New(fault.BadGateway, "sso_provider_unavailable", "the identity provider could not be reached; try again")
	// ErrIssuerMismatch means the provider's discovery document names another issuer than the connection's
	// (a trailing slash is enough): every ID token would fail, so the sign-in does not start.
	ErrIssuerMismatch = sso.ErrIssuerMismatch
	// ErrProviderIncompatible means the provider's discovery document is missing or malformed, or describes a
	// provider the platform cannot sign in with (no code flow, no S256 PKCE, no client authentication it
	// speaks).
	ErrProviderIncompatible = sso.ErrProviderIncompatible
	// ErrMisconfigured means the connection cannot be used as stored: its client secret does not resolve, or
	// the provider refused the client's credentials (invalid_client).
	ErrMisconfigured = fault.New(fault.Unavailable, "sso_misconfigured", "this organization's single sign-on is misconfigured; ask its admins")
	// ErrUnconfigured means the deployment's single sign-on configuration is invalid (logged at start), so no
	// organization can sign in through it.
	ErrUnconfigured = fault.New(fault.Unavailable, "sso_unavailable", "single sign-on is not configured on this deployment")
)

// Scopes are the scopes a sign-in asks for when its connection names none (sso.DefaultScopes).
var Scopes = sso.DefaultScopes

// Options configure a Service.
type Options struct {
	// Directory resolves organizations and provisions identities, through the EntrySSO entry point.
	Directory *db.Directory
	// Tenants holds the connections (tenant.settings) and receives the activity and events of new members.
	Tenants *db.Tenants
	// Identity opens the sessions.
	Identity *identity.Service
	// Secrets resolves connections' client secrets; nil resolves nothing (plain secrets only).
	Secrets *secrets.Resolver
	// Providers discovers and caches the providers.
	Providers *Providers
	// State signs and opens the state parameter.
	State *sso.StateSigner
	// Returns decides which return URLs are allowed.
	Returns sso.ReturnPolicy
	// Now is the clock of states, ID-token expiry and sessions; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// PlainSecrets accepts a client secret stored as a plain value rather than a secret reference (locally).
	PlainSecrets bool
	// TrustUnverifiedDomains skips the check that the organization verified the email's domain (locally,
	// where DNS verification cannot happen).
	TrustUnverifiedDomains bool
}

// Service starts and finishes sign-ins. It is safe for concurrent use.
type Service struct {
	o Options
}

// New returns the service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Log = obs.OrDiscard(o.Log)
	return &Service{o: o}
}

// Authorization is a started sign-in: where to send the browser, and the PKCE verifier it must keep (in a
// cookie named after StateID) for the callback.
type Authorization struct {
	// URL is the provider's authorization endpoint with the request's parameters.
	URL string
	// StateID names the cookie the verifier is kept in.
	StateID string
	// Verifier is the PKCE code verifier: 32 random bytes, base64url.
	Verifier string
	// Expires is when the state stops being accepted, and the cookie can go.
	Expires time.Time
}

// org is an organization as sign-in resolves it from its slug.
type org struct {
	id   uuid.UUID
	slug string
}

// StartInput is what begins a sign-in.
type StartInput struct {
	// Slug names the organization.
	Slug string
	// ReturnTo, when not empty, is where the browser goes with its tokens; it must pass the return policy.
	ReturnTo string
	// LoginHint, when not empty, is passed to the provider (OIDC login_hint) to preselect the account.
	LoginHint string
	// RedirectURL is this platform's callback URL for the organization, exactly as registered at the provider.
	RedirectURL string
}

// maxLoginHint bounds the login hint passed on: an email address at most.
const maxLoginHint = 320

// Start begins a sign-in.
func (s *Service) Start(ctx context.Context, in StartInput) (Authorization, error) {
	returnTo := in.ReturnTo
	if returnTo != "" {
		var err error
		if returnTo, err = s.o.Returns.Check(returnTo); err != nil {
			return Authorization{}, err
		}
	}
	o, conn, err := s.connection(ctx, in.Slug)
	if err != nil {
		return Authorization{}, err
	}
	prov, err := s.provider(ctx, o, conn)
	if err != nil {
		return Authorization{}, err
	}
	now := s.o.Now()
	verifier := oauth2.GenerateVerifier()
	st := sso.State{
		ID:        sso.RandomToken(16),
		TenantID:  o.id,
		Nonce:     sso.RandomToken(16),
		Challenge: oauth2.S256ChallengeFromVerifier(verifier),
		ReturnTo:  returnTo,
		Expires:   now.Add(sso.StateTTL).Unix(),
	}
	raw, err := s.o.State.Sign(st)
	if err != nil {
		return Authorization{}, err
	}
	cfg := oauth2.Config{ClientID: conn.ClientID, Endpoint: prov.Endpoint(), RedirectURL: in.RedirectURL, Scopes: conn.EffectiveScopes()}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(st.Nonce)}
	if hint := strings.TrimSpace(in.LoginHint); hint != "" && len(hint) <= maxLoginHint {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	return Authorization{
		URL:      cfg.AuthCodeURL(raw, opts...),
		StateID:  st.ID,
		Verifier: verifier,
		Expires:  time.Unix(st.Expires, 0),
	}, nil
}

// OpenState checks a callback's state parameter (signature and expiry) and returns it.
func (s *Service) OpenState(raw string) (sso.State, error) {
	return s.o.State.Open(raw, s.o.Now())
}

// Callback is what the provider's redirect back, and the browser, bring to finish a sign-in.
type Callback struct {
	// Slug is the organization named in the callback's path.
	Slug string
	// Code is the authorization code; Error and ErrorDescription are the provider's refusal instead.
	Code, Error, ErrorDescription string
	// Verifier is the PKCE verifier the browser kept since the start.
	Verifier string
	// RedirectURL is the callback URL, exactly as sent at the start.
	RedirectURL string
}

// Result is a finished sign-in.
type Result struct {
	Session identity.Session
	// ReturnTo is the state's return URL; empty means answer with JSON.
	ReturnTo string
	// Joined reports whether this sign-in created the membership.
	Joined bool
	// Linked reports whether this sign-in created the identity's link to its provider account (issuer and
	// subject): a first sign-in through that provider, found by email.
	Linked bool
	// Claimed reports whether this sign-in proved the identity's email for the first time, dropping what was
	// set up without the proof (identity.ClaimEmail).
	Claimed bool
}

// provider discovers conn's provider and checks it can sign conn's people in, mapping each failure to the
// sign-in error that says what is wrong: unreachable, issuer mismatch, or incompatible.
func (s *Service) provider(ctx context.Context, o org, conn sso.Connection) (*Provider, error) {
	prov, err := s.o.Providers.Get(ctx, conn.Issuer)
	if err == nil {
		err = prov.Metadata.Check(&conn)
	}
	if err == nil {
		return prov, nil
	}
	s.o.Log.WarnContext(ctx, "sso provider unusable", "tenant_id", o.id.String(), "issuer", conn.Issuer, "error", err.Error())
	switch {
	case errors.Is(err, ErrIssuerMismatch), errors.Is(err, ErrProviderIncompatible):
		return nil, err
	}
	return nil, fmt.Errorf("%w: %w", ErrProviderUnavailable, err)
}

// Finish completes the sign-in st (already opened with OpenState): it checks that the callback belongs to it,
// exchanges the code, verifies the ID token, provisions the identity and membership, and opens a session.
func (s *Service) Finish(ctx context.Context, st sso.State, cb Callback) (Result, error) {
	if cb.Error != "" {
		s.o.Log.InfoContext(ctx, "sso sign-in refused by the provider", "tenant_id", st.TenantID.String(),
			"error", cb.Error, "description", cb.ErrorDescription)
		return Result{}, fmt.Errorf("%w: %s", ErrDenied, cb.Error)
	}
	sum := sha256.Sum256([]byte(cb.Verifier))
	if cb.Verifier == "" || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(st.Challenge)) != 1 {
		return Result{}, fmt.Errorf("%w: not started in this browser", ErrState)
	}
	if cb.Code == "" {
		return Result{}, fmt.Errorf("%w: no code", ErrExchange)
	}
	o, conn, err := s.connection(ctx, cb.Slug)
	if err != nil {
		return Result{}, err
	}
	if o.id != st.TenantID {
		return Result{}, fmt.Errorf("%w: started for another organization", ErrState)
	}
	prov, err := s.provider(ctx, o, conn)
	if err != nil {
		return Result{}, err
	}
	secret, err := s.secret(ctx, o.id, conn)
	if err != nil {
		s.o.Log.ErrorContext(ctx, "sso client secret unavailable", "tenant_id", o.id.String(), "error", err.Error())
		return Result{}, err
	}
	claims, err := s.exchange(ctx, prov, conn, secret, st, cb)
	if err != nil {
		s.o.Log.InfoContext(ctx, "sso sign-in refused", "tenant_id", o.id.String(), "error", err.Error())
		return Result{}, err
	}
	email, ok := identity.NormalizeEmail(claims.Email)
	if claims.Email == "" || !ok || !claims.emailVerified() {
		return Result{}, ErrEmailNotVerified
	}
	if !conn.AllowsEmail(email) {
		return Result{}, ErrDomainNotAllowed
	}
	res, err := s.provision(ctx, o, conn, account{issuer: conn.Issuer, subject: claims.Subject, email: email, name: claims.displayName()})
	if err != nil {
		return Result{}, err
	}
	res.ReturnTo = st.ReturnTo
	s.o.Log.InfoContext(ctx, "sso sign-in", "tenant_id", o.id.String(), "identity_id", res.Session.Principal.IdentityID.String(),
		"subject", claims.Subject, "joined", res.Joined, "linked", res.Linked, "claimed", res.Claimed)
	return res, nil
}

// connection resolves slug to an active organization with an enabled connection, or ErrNotFound.
func (s *Service) connection(ctx context.Context, slug string) (org, sso.Connection, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if slug == "" || len(slug) > 63 {
		return org{}, sso.Connection{}, ErrNotFound
	}
	var (
		o      = org{slug: slug}
		status string
	)
	err := s.o.Directory.Platform(ctx, db.EntrySSO, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT id, status FROM directory.tenants WHERE slug = $1`, slug).Scan(&o.id, &status)
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return org{}, sso.Connection{}, ErrNotFound
	case err != nil:
		return org{}, sso.Connection{}, fmt.Errorf("resolve organization %s: %w", slug, err)
	case status != tenancy.StatusActive:
		return org{}, sso.Connection{}, ErrNotFound
	}
	conn, err := sso.LoadConnection(ctx, s.o.Tenants, o.id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return org{}, sso.Connection{}, ErrNotFound
	case err != nil:
		return org{}, sso.Connection{}, err
	case !conn.Enabled || conn.Issuer == "" || conn.ClientID == "":
		return org{}, sso.Connection{}, ErrNotFound
	}
	return o, conn, nil
}

// secret returns the connection's client secret, resolving a Secret Manager reference. The reference must
// name the organization's own secret (tenancy.OwnsSecretReference), as the settings check on the way in:
// the value is sent to a server the organization's admins chose, so any other secret the platform can read
// must never be.
func (s *Service) secret(ctx context.Context, tenantID uuid.UUID, conn sso.Connection) (string, error) {
	if !secrets.IsReference(conn.ClientSecret) {
		if !s.o.PlainSecrets {
			return "", fmt.Errorf("%w: the client secret is not a secret reference", ErrMisconfigured)
		}
		return conn.ClientSecret, nil
	}
	if !tenancy.OwnsSecretReference(tenantID, conn.ClientSecret) {
		return "", fmt.Errorf("%w: the client secret reference names another secret than %s", ErrMisconfigured, tenancy.SSOSecretName(tenantID))
	}
	if s.o.Secrets == nil {
		return "", fmt.Errorf("%w: no secret resolver", ErrMisconfigured)
	}
	v, err := s.o.Secrets.Resolve(ctx, conn.ClientSecret)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMisconfigured, err)
	}
	return v, nil
}

// idClaims are the ID token's (or the UserInfo's) claims sign-in reads.
type idClaims struct {
	Subject string `json:"sub"`
	Email   string `json:"email"`
	// EmailVerified is a boolean in the standard; some providers send the string "true".
	EmailVerified     any    `json:"email_verified"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
}

func (c idClaims) emailVerified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// displayName is the name a new identity gets: the ID token's name, else its preferred username, bounded to
// what the directory stores.
func (c idClaims) displayName() string {
	n := strings.TrimSpace(c.Name)
	if n == "" {
		n = strings.TrimSpace(c.PreferredUsername)
	}
	n = strings.TrimSpace(valid.CleanDisplayText(n)) // NUL, controls and bidi overrides an IdP let through
	if r := []rune(n); len(r) > 200 {
		n = string(r[:200])
	}
	return n
}

// maxSubject bounds the subject a link stores: OIDC Core §2 caps sub at 255 ASCII characters.
const maxSubject = 255

// exchange redeems the code with the PKCE verifier, in one request authenticated as the connection or the
// provider's discovery document says, verifies the ID token it yields and, when the ID token leaves the email
// out, reads it from the UserInfo endpoint (OIDC Core §5.4 allows either).
func (s *Service) exchange(ctx context.Context, prov *Provider, conn sso.Connection, secret string, st sso.State, cb Callback) (idClaims, error) {
	method, err := prov.Metadata.AuthMethod(&conn)
	if err != nil {
		return idClaims{}, err
	}
	endpoint := prov.Endpoint()
	// Set, never detected: auto-detection tries Basic, and on any refusal sends the code again in the body,
	// which costs a post-only provider two requests and reports a spent code as the second one's error.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if method == sso.AuthClientSecretPost {
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	cfg := oauth2.Config{ClientID: conn.ClientID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: cb.RedirectURL, Scopes: conn.EffectiveScopes()}
	client := s.o.Providers.Client()
	tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), cb.Code, oauth2.VerifierOption(cb.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re) && (re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client"):
			return idClaims{}, fmt.Errorf("%w: the provider refused the client's credentials (%s, sent as %s): %w", ErrMisconfigured, re.ErrorCode, method, err)
		case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500:
			return idClaims{}, fmt.Errorf("%w: %w", ErrExchange, err)
		}
		return idClaims{}, fmt.Errorf("%w: exchange: %w", ErrProviderUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return idClaims{}, fmt.Errorf("%w: the token response has no id_token", ErrIDToken)
	}
	verifier := prov.Verifier(&oidc.Config{ClientID: conn.ClientID, Now: s.o.Now})
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return idClaims{}, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return idClaims{}, fmt.Errorf("%w: nonce mismatch", ErrIDToken)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return idClaims{}, fmt.Errorf("%w: claims: %w", ErrIDToken, err)
	}
	// A NUL is no character of a subject (OIDC Core §2: ASCII), and PostgreSQL's text would refuse it.
	if c.Subject == "" || len(c.Subject) > maxSubject || strings.ContainsRune(c.Subject, 0) {
		return idClaims{}, fmt.Errorf("%w: the subject is empty, longer than %d bytes or holds a NUL", ErrIDToken, maxSubject)
	}
	if (c.Email == "" || c.EmailVerified == nil) && prov.UserInfoEndpoint() != "" {
		if err := s.userInfo(ctx, prov, tok, &c); err != nil {
			return idClaims{}, err
		}
	}
	return c, nil
}

// userInfo completes c, the ID token's claims, from the UserInfo endpoint with the access token tok: the email
// and whether it is verified, as one pair from one source, and the name when the ID token has none. The
// UserInfo must speak for the ID token's subject (OIDC Core §5.3.2), or its claims could be another person's.
func (s *Service) userInfo(ctx context.Context, prov *Provider, tok *oauth2.Token, c *idClaims) error {
	ui, err := prov.UserInfo(oidc.ClientContext(ctx, s.o.Providers.Client()), oauth2.StaticTokenSource(tok))
	if err != nil {
		return fmt.Errorf("%w: userinfo: %w", ErrProviderUnavailable, err)
	}
	var u idClaims
	if err := ui.Claims(&u); err != nil {
		return fmt.Errorf("%w: userinfo claims: %w", ErrIDToken, err)
	}
	if u.Subject != c.Subject {
		return fmt.Errorf("%w: the UserInfo speaks for another subject than the ID token", ErrIDToken)
	}
	c.Email, c.EmailVerified = u.Email, u.EmailVerified
	if strings.TrimSpace(c.Name) == "" && strings.TrimSpace(c.PreferredUsername) == "" {
		c.Name, c.PreferredUsername = u.Name, u.PreferredUsername
	}
	return nil
}
