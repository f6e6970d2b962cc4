// Package tenants is the tenants function: organizations sign up here (POST /v1/tenants), and their admins
// manage the organization, its settings (the SSO connection among them) and its custom domains under
// /v1/tenants/me.
package tenants

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/tenancy"
)

func init() { service.Register("tenants", New, domainsPart) }

// New builds the function's handler over env.
func New(env *service.Env) http.Handler {
	return newHandler(env, nil)
}

// newHandler builds the handler with resolver answering domain verifications (nil: the system's resolver), so
// tests can stand in for DNS.
func newHandler(env *service.Env, resolver tenancy.TXTResolver) http.Handler {
	ids := env.Identities()
	// An SSO connection is checked against its provider's discovery document when saved, through a client like
	// sign-in's: outside production it reaches loopback providers (the dev server's, tests').
	settings := tenancy.NewSettingsStore(env.DB.Tenants, env.Config.Local()).WithProviderCheck(sso.NewHTTPClient(!env.Config.Production()))
	h := &handler{
		env:      env,
		svc:      tenancy.New(env.DB.Directory, env.DB.Tenants, ids, env.Log),
		orgs:     tenancy.NewOrganizations(env.DB.Directory, env.DB.Tenants, env.Log),
		settings: settings,
	}
	var err error
	if h.domains, err = loadDomains(env, resolver); err != nil {
		env.Log.Error("custom domains are unavailable", "error", err.Error())
	}
	mux := env.Mux()
	mux.Handle("POST /v1/tenants", httpx.HandlerFunc(h.signUp))
	mux.Handle("POST /v1/tenants/me/domains", env.Authenticated(env.Idempotent(
		h.withDomains(service.WithBody(access.ManageTenant, http.StatusCreated, h.addDomain)))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/tenants/me":                      service.Reply(access.ReadTenant, h.getTenant),
		"PUT /v1/tenants/me":                      service.WithBody(access.ManageTenant, http.StatusOK, h.updateTenant),
		"GET /v1/tenants/me/settings":             service.Reply(access.ReadTenant, h.getSettings),
		"PUT /v1/tenants/me/settings":             service.WithBody(access.ManageTenant, http.StatusOK, h.replaceSettings),
		"GET /v1/tenants/me/domains":              h.withDomains(service.Reply(access.ReadTenant, h.listDomains)),
		"DELETE /v1/tenants/me/domains/{id}":      h.withDomains(service.NoContent(access.ManageTenant, h.removeDomain)),
		"POST /v1/tenants/me/domains/{id}/verify": h.withDomains(service.Reply(access.ManageTenant, h.verifyDomain)),
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
	return env.Handler(mux)
}

type handler struct {
	env      *service.Env
	svc      *tenancy.Service
	orgs     *tenancy.Organizations
	settings *tenancy.SettingsStore
	domains  *tenancy.Domains
}

// clientAddr is the caller's IP address as throttling keys it, or "" when it is not known.
func clientAddr(r *http.Request) string {
	if a := httpx.ClientAddr(r); a.IsValid() {
		return a.String()
	}
	return ""
}

type signUpResponse struct {
	Tenant tenancy.Tenant `json:"tenant"`
	identity.Tokens
}

func (h *handler) signUp(w http.ResponseWriter, r *http.Request) error {
	var in tenancy.SignUpInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	now := h.env.Now()
	// A taken email with a wrong password answers identity.ErrInvalidCredentials, the answer of a failed login
	// word for word, so that it confirms nothing a wrong password would not
	// (docs/2026-12-03-sign-up-enumeration.md).
	t, sess, err := h.svc.SignUpFrom(r.Context(), clientAddr(r), in, now)
	if err != nil {
		return err
	}
	tokens, err := sess.Tokens(h.env.Issuer, now)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tenants/me")
	// The answer carries a refresh token, which no cache may keep (RFC 6749 §5.1), as login's does not.
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, signUpResponse{Tenant: t, Tokens: tokens})
	return nil
}
