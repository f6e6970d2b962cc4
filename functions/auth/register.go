package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/members"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// registerRegistration adds the routes of registration through an invitation or with a new organization to mux.
func registerRegistration(env *service.Env, mux *http.ServeMux, ids *identity.Service) {
	h := &registration{
		env:     env,
		members: members.New(env.DB.Directory, env.DB.Tenants, ids, env.Log),
		tenancy: tenancy.New(env.DB.Directory, env.DB.Tenants, ids, env.Log),
	}
	mux.Handle("POST /v1/auth/register", httpx.HandlerFunc(h.register))
}

type registration struct {
	env     *service.Env
	members *members.Store
	tenancy *tenancy.Service
}

// registerRequest is the body of POST /v1/auth/register: exactly one of Invitation (the token of an
// invitation, with Name and Password) or Organization (with Email, Password and Name of its owner).
type registerRequest struct {
	Invitation   *string               `json:"invitation"`
	Organization *registerOrganization `json:"organization"`
	Email        string                `json:"email"`
	Password     string                `json:"password"`
	Name         string                `json:"name"`
}

type registerOrganization struct {
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// registerJoined answers a registration through an invitation, in the shape of the login answer.
type registerJoined struct {
	Tenant registerTenant `json:"tenant"`
	identity.Tokens
}

type registerTenant struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Role string `json:"role"`
}

// registerSignedUp answers a registration with a new organization, in the shape of POST /v1/tenants.
type registerSignedUp struct {
	Tenant tenancy.Tenant `json:"tenant"`
	identity.Tokens
}

func (h *registration) register(w http.ResponseWriter, r *http.Request) error {
	var in registerRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	if (in.Invitation == nil) == (in.Organization == nil) {
		const msg = "send exactly one of invitation (to join an organization) or organization (to create one)"
		return valid.Errors{{Field: "invitation", Message: msg}, {Field: "organization", Message: msg}}
	}
	w.Header().Set("Cache-Control", "no-store")
	if in.Invitation != nil {
		return h.join(w, r, in)
	}
	return h.signUp(w, r, in)
}

// join registers through an invitation: the same as POST /v1/invitations/accept without a bearer token.
func (h *registration) join(w http.ResponseWriter, r *http.Request, in registerRequest) error {
	if strings.TrimSpace(in.Email) != "" {
		return valid.Errors{{Field: "email", Message: "must be left out: the invitation names the email"}}
	}
	now := h.env.Now()
	acc, err := h.members.Accept(r.Context(), members.AcceptInput{Token: *in.Invitation, Name: in.Name, Password: in.Password}, uuid.Nil, now)
	if err != nil {
		// The token is the invitation field of this body.
		var fields valid.Errors
		if errors.As(err, &fields) {
			return renameFields(fields, map[string]string{"token": "invitation"})
		}
		return err
	}
	tokens, err := acc.Session.Tokens(h.env.Issuer, now)
	if err != nil {
		return err
	}
	p := acc.Session.Principal
	httpx.WriteJSON(w, http.StatusCreated, registerJoined{
		Tenant: registerTenant{ID: p.TenantID.String(), Slug: acc.Session.TenantSlug, Role: p.Role},
		Tokens: tokens,
	})
	return nil
}

// signUp registers with a new organization: the same as POST /v1/tenants, with the owner's fields at the top.
func (h *registration) signUp(w http.ResponseWriter, r *http.Request, in registerRequest) error {
	now := h.env.Now()
	t, sess, err := h.tenancy.SignUpFrom(r.Context(), clientAddr(r), tenancy.SignUpInput{
		Name:  in.Organization.Name,
		Slug:  in.Organization.Slug,
		Owner: tenancy.Owner{Email: in.Email, Password: in.Password, Name: in.Name},
	}, now)
	// A taken email with a wrong password is identity.ErrInvalidCredentials, the answer of a failed login word
	// for word (docs/2026-12-03-sign-up-enumeration.md).
	var fields valid.Errors
	switch {
	case errors.As(err, &fields):
		return renameFields(fields, map[string]string{
			"name": "organization.name", "slug": "organization.slug",
			"owner.name": "name", "owner.email": "email", "owner.password": "password",
		})
	case err != nil:
		return err
	}
	tokens, err := sess.Tokens(h.env.Issuer, now)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tenants/me")
	httpx.WriteJSON(w, http.StatusCreated, registerSignedUp{Tenant: t, Tokens: tokens})
	return nil
}

// renameFields names validation failures after this body's fields rather than those of the input they were
// checked as.
func renameFields(fields valid.Errors, names map[string]string) valid.Errors {
	out := make(valid.Errors, len(fields))
	for i, f := range fields {
		if n, ok := names[f.Field]; ok {
			f.Field = n
		}
		out[i] = f
	}
	return out
}
