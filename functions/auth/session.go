package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/valid"
)

// sessions serves what a person does with a session and a password once they have an identity.
type sessions struct {
	env *service.Env
	ids *identity.Service
}

// registerSessions adds the routes of refresh, logout, password reset and change, switch and memberships to
// mux, over ids (the login's identity service, so that both count failures under the same limits).
func registerSessions(env *service.Env, mux *http.ServeMux, ids *identity.Service) {
	s := &sessions{env: env, ids: ids}
	mux.Handle("POST /v1/auth/refresh", httpx.HandlerFunc(s.refresh))
	mux.Handle("POST /v1/auth/logout", httpx.HandlerFunc(s.logout))
	mux.Handle("POST /v1/auth/password-reset", httpx.HandlerFunc(s.requestReset))
	mux.Handle("POST /v1/auth/password-reset/confirm", httpx.HandlerFunc(s.confirmReset))
	mux.Handle("POST /v1/auth/password", env.Authenticated(httpx.HandlerFunc(s.changePassword)))
	// Switching and listing memberships concern the identity, not the token's organization: a member who owes
	// that organization a second factor may still leave for another (service.Env.AuthenticatedEnrolling).
	mux.Handle("POST /v1/auth/switch", env.AuthenticatedEnrolling(httpx.HandlerFunc(s.switchTenant)))
	mux.Handle("GET /v1/auth/memberships", env.AuthenticatedEnrolling(httpx.HandlerFunc(s.memberships)))
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// decodeRefresh reads a body holding a refresh token, which is required.
func decodeRefresh(w http.ResponseWriter, r *http.Request) (string, error) {
	var in refreshRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return "", err
	}
	if strings.TrimSpace(in.RefreshToken) == "" {
		return "", valid.Errors{{Field: "refresh_token", Message: "is required"}}
	}
	return strings.TrimSpace(in.RefreshToken), nil
}

func (s *sessions) refresh(w http.ResponseWriter, r *http.Request) error {
	raw, err := decodeRefresh(w, r)
	if err != nil {
		return err
	}
	now := s.env.Now()
	sess, err := s.ids.Refresh(r.Context(), raw, now)
	if errors.Is(err, identity.ErrRefreshReused) {
		httpx.Logger(r.Context()).WarnContext(r.Context(), "spent refresh token presented again: its family is revoked")
	}
	if err != nil {
		return err
	}
	return writeSession(w, s.env, sess, now)
}

func (s *sessions) logout(w http.ResponseWriter, r *http.Request) error {
	raw, err := decodeRefresh(w, r)
	if err != nil {
		return err
	}
	if err := s.ids.Logout(r.Context(), raw, s.env.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type resetRequest struct {
	Email string `json:"email"`
}

// resetAccepted is the one answer to every accepted reset request, whether or not the email has an account.
type resetAccepted struct {
	Status string `json:"status"`
	Detail string `json:"detail"`
}

func (s *sessions) requestReset(w http.ResponseWriter, r *http.Request) error {
	var in resetRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	err := s.ids.RequestReset(r.Context(), clientAddr(r), in.Email, s.env.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusAccepted, resetAccepted{
		Status: "accepted",
		Detail: "if an account has this email address, a link to reset its password is on its way",
	})
	return nil
}

type confirmResetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

func (s *sessions) confirmReset(w http.ResponseWriter, r *http.Request) error {
	var in confirmResetRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	err := s.ids.ConfirmResetFrom(r.Context(), clientAddr(r), strings.TrimSpace(in.Token), in.Password, s.env.Now())
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *sessions) changePassword(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	var in changePasswordRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	err := s.ids.ChangePassword(r.Context(), clientAddr(r), p.IdentityID, in.CurrentPassword, in.NewPassword, s.env.Now())
	// 403, not 401: the access token is fine, and a client that sees 401 would refresh it and try again.
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return identity.ErrWrongPassword
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type switchRequest struct {
	// Tenant is the slug of the organization to switch to.
	Tenant string `json:"tenant"`
}

func (s *sessions) switchTenant(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	var in switchRequest
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Tenant) == "" {
		return valid.Errors{{Field: "tenant", Message: "is required"}}
	}
	now := s.env.Now()
	// The new session is authenticated as the current one was, and the organization may ask for more.
	sess, err := s.ids.SwitchFrom(r.Context(), p, in.Tenant, now)
	if err != nil {
		return err
	}
	return writeSession(w, s.env, sess, now)
}

type membershipList struct {
	Items []identity.Membership `json:"items"`
}

func (s *sessions) memberships(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	items, err := s.ids.Memberships(r.Context(), p.IdentityID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, membershipList{Items: items})
	return nil
}
