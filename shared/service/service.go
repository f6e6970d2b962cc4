// Package service is what every HTTP function is built on: its configuration, the dependencies an instance
// builds once (logger, database handles, token keys), the edge middleware, registration with the Functions
// Framework, and a clean shutdown on SIGTERM.
//
// A function package calls Register in init with a constructor New(*Env) http.Handler; its cmd/main.go calls
// Main. The dev server and the tests call the same constructors with an Env they build themselves.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/idempotency"
	"github.com/coditect/hyperscale/shared/obs"
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
	DB              db.Config
	Token           token.Config
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
	// Tenants answers whether an authenticated request's organization is active.
	Tenants *tenancy.StatusCache
	// Idempotency stores and replays the answers of creating POSTs sent with an Idempotency-Key.
	Idempotency *idempotency.Keys
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
	d, err := db.Open(ctx, cfg.DB, log)
	if err != nil {
		return nil, fmt.Errorf("new env: %w", err)
	}
	return WithKeys(cfg, log, d, keys), nil
}

// WithKeys assembles an Env from parts already built: the dev server shares one key set and one pool between
// every function it serves, and tests bring their own database.
func WithKeys(cfg Config, log *slog.Logger, d *db.DB, keys *token.KeySet) *Env {
	e := &Env{Config: cfg, Log: log, DB: d, Keys: keys, Now: time.Now, Tenants: tenancy.NewStatusCache(d.Directory, cfg.TenantStatusTTL),
		Idempotency: idempotency.New(d.Directory, d.Tenants)}
	if keys.CanSign() {
		e.Issuer = token.NewIssuer(keys, cfg.Token.Issuer, cfg.Token.Audience, cfg.Token.AccessTTL)
	}
	e.Verifier = token.NewVerifier(keys, cfg.Token.Issuer, cfg.Token.Audience)
	return e
}

// Close releases the instance's pools.
func (e *Env) Close() {
	if e.DB != nil {
		e.DB.Close()
	}
}

// Mux returns a router with the function's health check, for the function to add its routes to. Requests it
// does not route get a problem+json 404 or 405.
func (e *Env) Mux() *http.ServeMux {
	mux := http.NewServeMux()
	httpx.HandleUnrouted(mux)
	mux.Handle("GET /healthz", httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
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

// Handler wraps a function's router in the edge middleware (request ids, traces, access log, recovery).
func (e *Env) Handler(h http.Handler) http.Handler {
	return httpx.Edge{Log: e.Log, ProjectID: e.Config.ProjectID}.Wrap(h)
}

// Authenticated admits only requests with a valid access token whose organization is active: a suspended one
// gets 403 tenant_suspended, one that no longer exists 401.
func (e *Env) Authenticated(h http.Handler) http.Handler {
	active := httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p, _ := httpx.PrincipalFrom(r.Context())
		status, err := e.Tenants.Status(r.Context(), p.TenantID)
		if err != nil {
			return err
		}
		switch status {
		case tenancy.StatusActive:
			h.ServeHTTP(w, r)
			return nil
		case tenancy.StatusSuspended:
			return httpx.NewProblem(http.StatusForbidden, "tenant_suspended", "this organization is suspended")
		default:
			return httpx.NewProblem(http.StatusUnauthorized, "invalid_token", "the organization of this token no longer exists")
		}
	})
	return httpx.Authenticate(e.Verifier, e.Now)(active)
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
		return token.Principal{}, httpx.NewProblem(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
	}
	if !access.Can(p.Role, action) {
		return token.Principal{}, httpx.NewProblem(http.StatusForbidden, "forbidden", "your role may not "+string(action))
	}
	return p, nil
}
