package auth

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
)

// sessionList serves a person's view of their own sessions: the list, ending one, ending all.
type sessionList struct {
	env *service.Env
	ids *identity.Service
}

// registerSessionList adds GET /v1/auth/sessions, DELETE /v1/auth/sessions/{id} and POST /v1/auth/logout-all
// to mux. Each acts on the caller's identity only, across its organizations.
func registerSessionList(env *service.Env, mux *http.ServeMux, ids *identity.Service) {
	s := &sessionList{env: env, ids: ids}
	mux.Handle("GET /v1/auth/sessions", env.Authenticated(httpx.HandlerFunc(s.list)))
	mux.Handle("DELETE /v1/auth/sessions/{id}", env.Authenticated(httpx.HandlerFunc(s.revoke)))
	mux.Handle("POST /v1/auth/logout-all", env.Authenticated(httpx.HandlerFunc(s.logoutAll)))
}

type sessionItems struct {
	Items []identity.SessionInfo `json:"items"`
}

func (s *sessionList) list(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	current, _ := httpx.SessionFrom(r.Context())
	items, err := s.ids.Sessions(r.Context(), p.IdentityID, current.ID, s.env.Now())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, sessionItems{Items: items})
	return nil
}

func (s *sessionList) revoke(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	err = s.ids.RevokeSession(r.Context(), p.IdentityID, id, s.env.Now())
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *sessionList) logoutAll(w http.ResponseWriter, r *http.Request) error {
	p, _ := httpx.PrincipalFrom(r.Context())
	if err := s.ids.LogoutAll(r.Context(), p.IdentityID, s.env.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
