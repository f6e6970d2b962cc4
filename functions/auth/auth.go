// Package auth is the auth function: login (POST /v1/auth/login), the sessions it opens (refresh, logout,
// switching organization), passwords (change and reset), registration, single sign-on, and the public signing
// keys (GET /.well-known/jwks.json) that the other functions and API Gateway verify access tokens with.
package auth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/valid"
)

func init() { service.Register("auth", New) }

// New builds the function's handler over env.
func New(env *service.Env) http.Handler {
	h := &handler{env: env, ids: identity.New(env.DB.Directory, identity.DefaultParams, env.Config.Token.RefreshTTL)}
	h.ids.ReuseInterval = env.Config.Token.RefreshReuseInterval
	mux := env.Mux()
	mux.Handle("POST /v1/auth/login", httpx.HandlerFunc(h.login))
	mux.Handle("GET /.well-known/jwks.json", httpx.HandlerFunc(h.jwks))
	registerSessions(env, mux, h.ids)
	registerSessionList(env, mux, h.ids)
	registerSSO(env, mux)
	registerRegistration(env, mux, h.ids)
	return env.Handler(mux)
}

type handler struct {
	env *service.Env
	ids *identity.Service
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Tenant is the organization's slug; it may be left out by an identity with one membership.
	Tenant string `json:"tenant"`
}

type loginResponse struct {
	Tenant loginTenant `json:"tenant"`
	identity.Tokens
}

type loginTenant struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Role string `json:"role"`
}

var errInvalidCredentials = httpx.NewProblem(http.StatusUnauthorized, "invalid_credentials", "the email, password or organization is wrong")

func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	var errs valid.Errors
	errs.Check(strings.TrimSpace(in.Email) != "", "email", "is required")
	errs.Check(in.Password != "", "password", "is required")
	if err := errs.Err(); err != nil {
		return err
	}
	now := h.env.Now()
	sess, err := h.ids.LoginFrom(r.Context(), clientAddr(r), in.Email, in.Password, strings.TrimSpace(in.Tenant), now)
	if p := throttled(err); p != nil {
		return p
	}
	switch {
	case errors.Is(err, identity.ErrInvalidCredentials):
		p := *errInvalidCredentials
		return &p
	case errors.Is(err, identity.ErrTenantRequired):
		return valid.Errors{{Field: "tenant", Message: "is required: this account belongs to several organizations"}}
	case err != nil:
		return err
	}
	return writeSession(w, h.env, sess, now)
}

// writeSession answers with sess's tokens, in the shape login, refresh and switch share.
func writeSession(w http.ResponseWriter, env *service.Env, sess identity.Session, now time.Time) error {
	tokens, err := sess.Tokens(env.Issuer, now)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, loginResponse{
		Tenant: loginTenant{ID: sess.Principal.TenantID.String(), Slug: sess.TenantSlug, Role: sess.Principal.Role},
		Tokens: tokens,
	})
	return nil
}

// throttled returns the 429 problem, with Retry-After in seconds, when err is a throttling refusal, and nil
// otherwise. Its body is the same whoever the attempts were for.
func throttled(err error) *httpx.Problem {
	var t *identity.ThrottledError
	if !errors.As(err, &t) {
		return nil
	}
	return httpx.NewProblem(http.StatusTooManyRequests, "too_many_attempts", "too many attempts; retry after the number of seconds in Retry-After").
		WithHeader("Retry-After", strconv.FormatInt(t.RetryAfterSeconds(), 10))
}

// clientAddr is the caller's IP address, as throttling keys it (see httpx.ClientAddr for whom it can be
// trusted): the per-email limit is what protects an account, and it does not depend on it.
func clientAddr(r *http.Request) string { return httpx.ClientAddr(r) }

func (h *handler) jwks(w http.ResponseWriter, r *http.Request) error {
	// Verifiers cache the set; an hour keeps a rotated key's arrival within the grace period of the old one.
	// A retired key is listed until its grace ends, and not after.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	httpx.WriteJSON(w, http.StatusOK, h.env.Keys.JWKSAt(h.env.Now()))
	return nil
}
