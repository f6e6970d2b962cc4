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
	mux.Handle("POST /v1/users", env.Authenticated(env.Idempotent(
		service.WithBody(access.ManageMembers, http.StatusCreated, h.add))))
	mux.Handle("POST /v1/users/invite", env.Authenticated(env.Idempotent(
		service.WithBody(access.ManageMembers, http.StatusCreated, h.invite))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/users":                     service.List(access.ReadMembers, h.query, h.list),
		"GET /v1/users/me":                  service.Reply(access.ReadMembers, h.me),
		"PUT /v1/users/me":                  service.WithBody(access.ReadMembers, http.StatusOK, h.updateMe),
		"GET /v1/users/invitations":         service.List(access.ManageMembers, service.Pages(env.Cursors), h.invitations),
		"DELETE /v1/users/invitations/{id}": service.NoContent(access.ManageMembers, h.revoke),
		"PUT /v1/users/{id}/role":           service.WithBody(access.ManageMembers, http.StatusOK, h.changeRole),
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

// memberQuery is what GET /v1/users reads from its query string.
type memberQuery struct {
	filter members.Filter
	page   page.Request
}

// query reads the list's filters and page, answering every failing parameter at once.
func (h *handler) query(c *service.Call) (memberQuery, error) {
	q := c.Query()
	f := members.Filter{Role: q.Get("role"), Query: q.Get("q")}
	ferr := f.Validate()
	req, perr := page.Parse(q, h.env.Cursors, page.Scope("GET /v1/users", url.Values{"role": {f.Role}, "q": {f.Query}}))
	if perr != nil || ferr != nil {
		var all valid.Errors
		for _, e := range []error{perr, ferr} {
			var fe valid.Errors
			if errors.As(e, &fe) {
				all = append(all, fe...)
			}
		}
		return memberQuery{}, all
	}
	return memberQuery{filter: f, page: req}, nil
}

func (h *handler) list(c *service.Call, q memberQuery) (page.Page[members.Member], error) {
	return h.store.List(c.Context(), c.TenantID, q.filter, q.page)
}

func (h *handler) add(c *service.Call, in members.AddInput) (members.Member, error) {
	return h.store.Add(c.Context(), c.TenantID, c.IdentityID, in)
}

func (h *handler) me(c *service.Call) (members.Profile, error) {
	return h.store.Profile(c.Context(), c.TenantID, c.IdentityID)
}

func (h *handler) updateMe(c *service.Call, in members.ProfileInput) (members.Profile, error) {
	return h.store.UpdateProfile(c.Context(), c.TenantID, c.IdentityID, in)
}

func (h *handler) invite(c *service.Call, in members.InviteInput) (members.Invitation, error) {
	return h.store.Invite(c.Context(), c.TenantID, c.IdentityID, in, h.env.Now())
}

func (h *handler) invitations(c *service.Call, req page.Request) (page.Page[members.Invitation], error) {
	return h.store.Invitations(c.Context(), c.TenantID, req, h.env.Now())
}

func (h *handler) revoke(c *service.Call) error {
	return h.store.Revoke(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), h.env.Now())
}

func (h *handler) changeRole(c *service.Call, in members.RoleInput) (members.Member, error) {
	return h.store.ChangeRole(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), in)
}

// remove is not a NoContent route: anyone may leave an organization, whatever their role; removing someone
// else is an admin's act, so the action depends on the path.
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
