// Package users is the users function: an organization's members, invitations and roles.
package users

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/members"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

func init() { service.Register("users", New) }

// New builds the function's handler over env.
func New(env *service.Env) http.Handler {
	mux := env.Mux()
	register(env, mux)
	return env.Handler(mux)
}

// register adds the function's routes to mux.
func register(env *service.Env, mux *http.ServeMux) {
	ids := env.Identities()
	h := &handler{env: env, store: members.New(env.DB.Directory, env.DB.Tenants, ids, env.Log)}
	// Creating POSTs honour Idempotency-Key, so a retried add or invite answers as the first did rather than
	// with already_member or invitation_exists.
	mux.Handle("POST /v1/users", env.Authenticated(env.Idempotent(httpx.HandlerFunc(h.add))))
	mux.Handle("POST /v1/users/invite", env.Authenticated(env.Idempotent(httpx.HandlerFunc(h.invite))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/users":                     h.list,
		"GET /v1/users/me":                  h.me,
		"PUT /v1/users/me":                  h.updateMe,
		"GET /v1/users/invitations":         h.invitations,
		"DELETE /v1/users/invitations/{id}": h.revoke,
		"PUT /v1/users/{id}/role":           h.changeRole,
		"DELETE /v1/users/{id}":             h.remove,
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
	// Accepting is public: the invitee may have no account yet, and the token is the credential. It is not
	// wrapped in Idempotent: its answer carries a refresh token, which must not be stored for replay, and the
	// token is single-use anyway.
	mux.Handle("POST /v1/invitations/accept", httpx.HandlerFunc(h.accept))
}

type handler struct {
	env   *service.Env
	store *members.Store
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadMembers)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := members.Filter{Role: q.Get("role"), Query: q.Get("q")}
	ferr := f.Validate()
	req, perr := page.Parse(q, h.env.Cursors, page.Scope("GET /v1/users", url.Values{"role": {f.Role}, "q": {f.Query}}))
	if perr != nil || ferr != nil {
		// Every failing parameter at once.
		var all valid.Errors
		for _, e := range []error{perr, ferr} {
			var fe valid.Errors
			if errors.As(e, &fe) {
				all = append(all, fe...)
			}
		}
		return all
	}
	pg, err := h.store.List(r.Context(), p.TenantID, f, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}

func (h *handler) add(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageMembers)
	if err != nil {
		return err
	}
	var in members.AddInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	m, err := h.store.Add(r.Context(), p.TenantID, p.IdentityID, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, m)
	return nil
}

func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadMembers)
	if err != nil {
		return err
	}
	prof, err := h.store.Profile(r.Context(), p.TenantID, p.IdentityID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, prof)
	return nil
}

func (h *handler) updateMe(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadMembers)
	if err != nil {
		return err
	}
	var in members.ProfileInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	prof, err := h.store.UpdateProfile(r.Context(), p.TenantID, p.IdentityID, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, prof)
	return nil
}

func (h *handler) invite(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageMembers)
	if err != nil {
		return err
	}
	var in members.InviteInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	inv, err := h.store.Invite(r.Context(), p.TenantID, p.IdentityID, in, h.env.Now())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, inv)
	return nil
}

func (h *handler) invitations(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageMembers)
	if err != nil {
		return err
	}
	req, err := page.Parse(r.URL.Query(), h.env.Cursors, "GET /v1/users/invitations")
	if err != nil {
		return err
	}
	pg, err := h.store.Invitations(r.Context(), p.TenantID, req, h.env.Now())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}

func (h *handler) revoke(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageMembers)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.Revoke(r.Context(), p.TenantID, p.IdentityID, id, h.env.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) changeRole(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageMembers)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in members.RoleInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	m, err := h.store.ChangeRole(r.Context(), p.TenantID, p.IdentityID, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (h *handler) remove(w http.ResponseWriter, r *http.Request) error {
	p, ok := httpx.PrincipalFrom(r.Context())
	if !ok {
		return httpx.ErrUnauthenticated
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	// Anyone may leave an organization; removing someone else is an admin's act.
	if id != p.IdentityID {
		if _, err := service.Allow(r, access.ManageMembers); err != nil {
			return err
		}
	}
	if err := h.store.Remove(r.Context(), p.TenantID, p.IdentityID, id, h.env.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sessionResponse is the answer that logs someone in, in the shape of POST /v1/auth/login.
type sessionResponse struct {
	Tenant sessionTenant `json:"tenant"`
	identity.Tokens
}

type sessionTenant struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Role string `json:"role"`
}

func (h *handler) accept(w http.ResponseWriter, r *http.Request) error {
	var in members.AcceptInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	now := h.env.Now()
	acc, err := h.store.Accept(r.Context(), in, h.bearerIdentity(r), now)
	if err != nil {
		return err
	}
	tokens, err := acc.Session.Tokens(h.env.Issuer, now)
	if err != nil {
		return err
	}
	sess := acc.Session
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, sessionResponse{
		Tenant: sessionTenant{ID: sess.Principal.TenantID.String(), Slug: sess.TenantSlug, Role: sess.Principal.Role},
		Tokens: tokens,
	})
	return nil
}

// bearerIdentity returns the identity of the request's access token, or uuid.Nil when it has none that
// verifies. The route is public, so a missing or bad token is not an error: it only means the invitee has to
// prove themself with a password. Behind API Gateway the caller's header arrives as X-Forwarded-Authorization.
func (h *handler) bearerIdentity(r *http.Request) uuid.UUID {
	for _, name := range []string{"X-Forwarded-Authorization", "Authorization"} {
		v := r.Header.Get(name)
		if v == "" {
			continue
		}
		scheme, raw, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return uuid.Nil
		}
		// The session is checked too: a token of a session that was logged out proves no one.
		p, err := h.env.VerifyToken(r.Context(), strings.TrimSpace(raw))
		if err != nil {
			return uuid.Nil
		}
		return p.IdentityID
	}
	return uuid.Nil
}
