package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// registerExtras adds restore and project membership routes to mux.
func registerExtras(env *service.Env, mux *http.ServeMux, h *handler) {
	mux.Handle("POST /v1/projects/{id}/members", env.Authenticated(env.Idempotent(httpx.HandlerFunc(h.addMember))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"POST /v1/projects/{id}/restore":               h.restore,
		"GET /v1/projects/{id}/members":                h.listMembers,
		"PUT /v1/projects/{id}/members/{member_id}":    h.setMemberRole,
		"DELETE /v1/projects/{id}/members/{member_id}": h.removeMember,
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
}

// restore brings a deleted project back: 200 with the project; 409 not_deleted for a live one; 410
// restore_window_passed when it was deleted more than 30 days ago; 404 for an id the organization never had.
func (h *handler) restore(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	proj, err := h.store.Restore(r.Context(), p.TenantID, p.IdentityID, p.Role, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, proj)
	return nil
}

func (h *handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	req, err := page.Parse(r.URL.Query(), h.cursors, "GET /v1/projects/"+id.String()+"/members")
	if err != nil {
		return err
	}
	pg, err := h.members.List(r.Context(), p.TenantID, id, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}

// Managing members needs an organization role that may write projects (viewers may not), and then, checked by
// the store against the project, organization owner or admin or project owner or admin.
func (h *handler) addMember(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.ProjectMemberInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	m, err := h.members.Add(r.Context(), p.TenantID, p.IdentityID, p.Role, id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/projects/"+id.String()+"/members/"+m.IdentityID.String())
	httpx.WriteJSON(w, http.StatusCreated, m)
	return nil
}

func (h *handler) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, member, err := memberPath(r)
	if err != nil {
		return err
	}
	var in work.ProjectRoleInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	m, err := h.members.SetRole(r.Context(), p.TenantID, p.IdentityID, p.Role, id, member, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (h *handler) removeMember(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, member, err := memberPath(r)
	if err != nil {
		return err
	}
	if err := h.members.Remove(r.Context(), p.TenantID, p.IdentityID, p.Role, id, member); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// memberPath reads {id} and {member_id}; a segment that is not a UUID is a 404.
func memberPath(r *http.Request) (uuid.UUID, uuid.UUID, error) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	member, err := httpx.PathID(r, "member_id")
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	return id, member, nil
}
