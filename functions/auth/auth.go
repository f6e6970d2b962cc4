// Package auth is the auth function: login (POST /v1/auth/login), the sessions it opens (refresh, logout,
// switching organization), passwords (change and reset), registration, single sign-on, and the public signing
// keys (GET /.well-known/jwks.json) that the other functions and API Gateway verify access tokens with.
package auth

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/valid"
)

func init() { service.Register("auth", New, ssoPart) }

// New builds the function's handler over env. Without a usable MFA_ENCRYPTION_KEY the function still serves,
// and second-factor enrolment and login answer 503 while the log says why.
func New(env *service.Env) http.Handler {
	box, err := loadMFA(env)
	if err != nil {
		env.Log.Error("second factors are unavailable: their configuration is invalid", "error", err.Error())
	}
	return build(env, box)
}

// build is New with the box TOTP secrets are sealed with (nil: none), which tests pass themselves.
func build(env *service.Env, box *identity.SecretBox) http.Handler {
	h := &handler{env: env, ids: env.Identities()}
	h.ids.MFA = box
	h.ids.ReuseInterval = env.Config.Token.RefreshReuseInterval
	mux := env.Mux()
	mux.Handle("POST /v1/auth/login", httpx.HandlerFunc(h.login))
	mux.Handle("GET /.well-known/jwks.json", httpx.HandlerFunc(h.jwks))
	registerSessions(env, mux, h.ids)
	registerSessionList(env, mux, h.ids)
	registerSSO(env, mux)
	registerRegistration(env, mux, h.ids)
	registerVerification(env, mux, h.ids)
	registerMFA(env, mux, h.ids)
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
	var owed *identity.MFARequiredError
	switch {
	case errors.As(err, &owed):
		return writeMFARequired(w, h.env, owed)
	case errors.Is(err, identity.ErrTenantRequired):
		// Answered as the field error it is, so the client can show it beside the organization input.
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

// clientAddr is the caller's IP address as throttling keys it: httpx.ClientAddr, which the edge middleware
// derives from TRUSTED_PROXY_COUNT (docs/2026-12-03-client-address.md), or "" when it is not known.
func clientAddr(r *http.Request) string {
	if a := httpx.ClientAddr(r); a.IsValid() {
		return a.String()
	}
	return ""
}

func (h *handler) jwks(w http.ResponseWriter, r *http.Request) error {
	// Verifiers cache the set; an hour keeps a rotated key's arrival within the grace period of the old one.
	// A retired key is listed until its grace ends, and not after.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	httpx.WriteJSON(w, http.StatusOK, h.env.Keys.JWKSAt(h.env.Now()))
	return nil
}
