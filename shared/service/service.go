// Package service is what every HTTP function is built on: its configuration, the dependencies an instance
// builds once (logger, database handles, token keys), the edge middleware, registration with the Functions
// Framework, and a clean shutdown on SIGTERM.
//
// A function package calls Register in init with a constructor New(*Env) http.Handler; its cmd/main.go calls
// Main. The dev server and the tests call the same constructors with an Env they build themselves.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/idempotency"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/members"
	"github.com/coditect/hyperscale/shared/obs"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
)

// Config is the configuration of an HTTP function of the platform.
type Config struct {
	config.Base
	// ProjectID is the Google Cloud project, used to give trace ids Cloud Logging's full form.
	ProjectID string `env:"GOOGLE_CLOUD_PROJECT"`
	// TenantStatusTTL is how long an instance trusts an organization's status before reading it again, so a
	// suspension takes effect everywhere within it.
	TenantStatusTTL time.Duration `env:"TENANT_STATUS_TTL, default=10s"`
	// SessionCheckTTL is how long an instance trusts what it read of an access token's session (revoked or
	// not, and its membership's version) before reading it again, so a logout, a revocation, a removal or a
	// role change takes effect everywhere within it (docs/2026-12-03-revocation.md).
	SessionCheckTTL time.Duration `env:"SESSION_CHECK_TTL, default=5s"`
	DB              db.Config
	Token           token.Config
	// Client says how many proxies stand in front of the function (TRUSTED_PROXY_COUNT), so that
	// httpx.ClientAddr finds the caller's address.
	Client httpx.ClientConfig
	// Throttle holds the login, reset and sign-up limits (THROTTLE_*) of the identity service Identities builds.
	Throttle identity.ThrottleConfig
	// Edge bounds the time a client has to send a body (BODY_READ_TIMEOUT).
	Edge httpx.EdgeConfig
	// Cursor is the key list cursors are signed with (CURSOR_KEY).
	Cursor page.Config
	// CORS lists the browser origins that may call the function (CORS_ALLOWED_ORIGINS).
	CORS httpx.CORSConfig
}

// MaxSessionCheckTTL bounds SessionCheckTTL: it is the promise of how soon a revocation holds.
const MaxSessionCheckTTL = time.Minute

// Validate reports the problems of the function's own settings; its parts report theirs.
func (c Config) Validate() error {
	var errs []error
	if c.SessionCheckTTL < 0 || c.SessionCheckTTL > MaxSessionCheckTTL {
		errs = append(errs, fmt.Errorf("SESSION_CHECK_TTL %s is outside [0s, %s]", c.SessionCheckTTL, MaxSessionCheckTTL))
	}
	// Any page on the web could then read what a stolen or phished token fetches; production names its frontends.
	if c.Production() && c.CORS.AllowsAnyOrigin() {
		errs = append(errs, errors.New(`CORS_ALLOWED_ORIGINS: "*" is refused in production; list the frontends' origins`))
	}
	return errors.Join(errs...)
}

// Env holds what one function instance builds once and shares between requests.
type Env struct {
	Config Config
	Log    *slog.Logger
	DB     *db.DB
	Keys   *token.KeySet
	// Issuer is nil when the key set holds no private key (a function that only verifies).
	Issuer   *token.Issuer
	Verifier *token.Verifier
	// Now is the clock tokens and timestamps are taken from; tests move it.
	Now func() time.Time
	// TenantStatus answers whether an authenticated request's organization is active (a cache of the
	// directory's tenant status; DB.Tenants is the tenant data plane).
	TenantStatus *tenancy.StatusCache
	// Sessions answers whether an authenticated request's session is open and its membership unchanged.
	Sessions *identity.SessionCache
	// Idempotency stores and replays the answers of creating POSTs sent with an Idempotency-Key.
	Idempotency *idempotency.Keys
	// MFAPolicy answers whether an organization requires a second factor of its members.
	MFAPolicy *tenancy.MFAPolicy
	// Cursors signs the cursors of every list the function serves and opens those clients send back.
	Cursors *page.Cursors
}

// NewEnv builds an Env from cfg: logger, database pools, token keys.
func NewEnv(ctx context.Context, cfg Config) (*Env, error) {
	level, err := obs.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("new env: %w", err)
	}
	log, err := obs.NewLoggerFormat(os.Stdout, cfg.LogFormat, level, cfg.Service)
	if err != nil {
		return nil, fmt.Errorf("new env: %w", err)
	}
	keys, err := cfg.Token.KeySet(cfg.Local(), log)
	if err != nil {
		return nil, fmt.Errorf("new env: %w", err)
	}
	cursors, err := cfg.Cursor.Cursors(cfg.Local(), log)
	if err != nil {
		return nil, fmt.Errorf("new env: %w", err)
	}
	d, err := db.Open(ctx, cfg.DB, log)
	if err != nil {
		return nil, fmt.Errorf("new env: %w", err)
	}
	e := WithKeys(cfg, log, d, keys)
	e.Cursors = cursors
	return e, nil
}

// WithKeys assembles an Env from parts already built: the dev server shares one key set and one pool between
// every function it serves, and tests bring their own database. Cursors are signed with cfg.Cursor.Key, or
// with a random key when it is empty (tests; NewEnv refuses an empty key outside local development).
func WithKeys(cfg Config, log *slog.Logger, d *db.DB, keys *token.KeySet) *Env {
	e := &Env{Config: cfg, Log: log, DB: d, Keys: keys, Now: time.Now, TenantStatus: tenancy.NewStatusCache(d.Directory, cfg.TenantStatusTTL),
		Idempotency: idempotency.New(d.Directory, d.Tenants), MFAPolicy: tenancy.NewMFAPolicy(d.Tenants, cfg.TenantStatusTTL),
		Cursors: page.RandomCursors()}
	if key, err := page.ParseKey(cfg.Cursor.Key); err == nil {
		e.Cursors = page.NewCursors(key)
	}
	// The cache reads e.Now at each call, so a test that moves the clock moves the cache's too.
	e.Sessions = identity.NewSessionCache(d.Directory, cfg.SessionCheckTTL, identity.DefaultSessionCacheSize, func() time.Time { return e.Now() })
	if keys.CanSign() {
		e.Issuer = token.NewIssuer(keys, cfg.Token.Issuer, cfg.Token.Audience, cfg.Token.AccessTTL)
	}
	e.Verifier = token.NewVerifier(keys, cfg.Token.Issuer, cfg.Token.Audience)
	return e
}

// Identities returns a new identity service over the directory, hashing with the production parameters and
// throttling by the configured limits. A function builds one and shares it between its routes, so that they
// count failures under one set of limits.
func (e *Env) Identities() *identity.Service {
	ids := identity.New(e.DB.Directory, identity.DefaultParams, e.Config.Token.RefreshTTL)
	ids.Limits = e.Config.Throttle.Limits()
	// Logins, switches and refreshes into an organization that requires its own single sign-on or a second
	// factor are refused to sessions that did not meet it.
	ids.Policy = tenancy.NewSessionPolicy(e.DB.Tenants)
	return ids
}

// Close releases the instance's pools.
func (e *Env) Close() {
	if e.DB != nil {
		e.DB.Close()
	}
}

// HealthRoute is the health check every function serves for Cloud Run's probes, outside the gateway's routes.
const HealthRoute = "GET /healthz"

// Mux returns a router with the function's health check, for the function to add its routes to. Requests it
// does not route get a problem+json 404 or 405.
func (e *Env) Mux() *http.ServeMux {
	mux := http.NewServeMux()
	httpx.HandleUnrouted(mux)
	mux.Handle(HealthRoute, httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := e.DB.Directory.Ping(ctx); err != nil {
			e.Log.ErrorContext(ctx, "health check failed", "error", err.Error())
			return httpx.NewProblem(http.StatusServiceUnavailable, "unhealthy", "the database does not answer")
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}))
	return mux
}

// Handler wraps a function's router in the edge middleware (request ids, traces, access log, recovery, CORS), and
// notes the request's client for any session it opens or refreshes.
func (e *Env) Handler(h http.Handler) http.Handler {
	withClient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := identity.Client{UserAgent: r.UserAgent(), Address: httpx.ClientAddr(r).String()}
		h.ServeHTTP(w, r.WithContext(identity.WithClient(r.Context(), c)))
	})
	return httpx.Edge{Log: e.Log, ProjectID: e.Config.ProjectID, TrustedProxies: e.Config.Client.TrustedProxies,
		BodyReadTimeout: e.Config.Edge.BodyReadTimeout, AllowedOrigins: e.Config.CORS.AllowedOrigins}.Wrap(withClient)
}

// Authenticated admits only requests with a valid access token whose session is open, whose membership has not
// changed since it was minted and whose organization is active. An ended session (logout, revocation, removal,
// password change) gets 401 invalid_token, a changed membership (a role change) 401 token_stale, which a
// refresh cures; a suspended organization gets 403 tenant_suspended, one that no longer exists 401. Each check
// trusts what it read for its TTL (SESSION_CHECK_TTL, TENANT_STATUS_TTL), which bounds how late a change takes
// effect. When the organization requires a second factor (its require_mfa setting), a member without one gets
// 403 mfa_enrollment_required: such a member's token reaches only the routes behind AuthenticatedEnrolling.
func (e *Env) Authenticated(h http.Handler) http.Handler { return e.authenticated(h, true) }

// AuthenticatedEnrolling is Authenticated without the second-factor requirement, for the routes a member of an
// organization that requires one needs in order to get one: enrolling it, and what concerns the identity
// rather than the organization (switching organization, listing its memberships, verifying its email).
func (e *Env) AuthenticatedEnrolling(h http.Handler) http.Handler { return e.authenticated(h, false) }

func (e *Env) authenticated(h http.Handler, requireMFA bool) http.Handler {
	active := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p, _ := httpx.PrincipalFrom(r.Context())
		s, _ := httpx.SessionFrom(r.Context())
		if err := e.checkSession(r.Context(), p, s); err != nil {
			return err
		}
		status, err := e.TenantStatus.Status(r.Context(), p.TenantID)
		if err != nil {
			return err
		}
		switch status {
		case tenancy.StatusActive:
			if requireMFA {
				if err := e.checkMFA(r.Context(), p); err != nil {
					return err
				}
			}
			h.ServeHTTP(w, r)
			return nil
		case tenancy.StatusSuspended:
			return members.ErrTenantSuspended
		default:
			return httpx.NewProblem(http.StatusUnauthorized, "invalid_token", "the organization of this token no longer exists")
		}
	})
	return httpx.Authenticate(e.Verifier, e.Now)(active)
}

// checkMFA returns the mfa_enrollment_required problem when p's organization requires a second factor and p's
// identity has none. Only members of such organizations pay the identity's lookup.
func (e *Env) checkMFA(ctx context.Context, p token.Principal) error {
	required, err := e.MFAPolicy.Required(ctx, p.TenantID)
	if err != nil || !required {
		return err
	}
	ok, err := identity.HasMFA(ctx, e.DB.Directory, p.IdentityID)
	if err != nil {
		return err
	}
	if !ok {
		return identity.ErrMFAEnrollmentRequired
	}
	return nil
}

// VerifyToken checks the access token raw as Authenticated does, signature and session both, for a route that
// is public but treats a bearer token as evidence of who calls. The organization's status is not checked.
func (e *Env) VerifyToken(ctx context.Context, raw string) (token.Principal, error) {
	p, s, err := e.Verifier.VerifySession(raw, e.Now())
	if err != nil {
		return token.Principal{}, err
	}
	if err := e.checkSession(ctx, p, s); err != nil {
		return token.Principal{}, err
	}
	return p, nil
}

// checkSession asks the session cache about p's token of session s. Its refusals (identity.ErrSessionEnded,
// ErrMembershipChanged) answer with their own codes, plus the WWW-Authenticate challenge of a refused token.
func (e *Env) checkSession(ctx context.Context, p token.Principal, s token.Session) error {
	err := e.Sessions.Check(ctx, p, s)
	if !errors.Is(err, identity.ErrSessionEnded) && !errors.Is(err, identity.ErrMembershipChanged) {
		return err
	}
	httpx.Logger(ctx).InfoContext(ctx, "token refused", "error", err.Error(), "sid", s.ID.String())
	return httpx.ProblemOf(fault.As(err)).WithHeader("WWW-Authenticate", `Bearer realm="hyperscale", error="invalid_token"`)
}

// Idempotent makes a creating POST honour the Idempotency-Key header. Behind Authenticated, keys are scoped to
// the caller in its organization; on a public route, to the route.
func (e *Env) Idempotent(h http.Handler) http.Handler {
	return e.Idempotency.Handler(h)
}

// Allow returns the request's principal when its role may perform action, and a 403 problem otherwise. It
// must run behind Authenticated.
func Allow(r *http.Request, action access.Action) (token.Principal, error) {
	p, ok := httpx.PrincipalFrom(r.Context())
	if !ok {
		return token.Principal{}, httpx.ErrUnauthenticated
	}
	if !access.Can(p.Role, action) {
		return token.Principal{}, httpx.NewProblem(http.StatusForbidden, "forbidden", "your role may not "+string(action))
	}
	return p, nil
}
