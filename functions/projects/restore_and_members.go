package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerExtras adds restore and project membership routes to mux.
func registerExtras(env *service.Env, mux *http.ServeMux, h *handler) {
	mux.Handle("POST /v1/projects/{id}/members", env.Authenticated(env.Idempotent(
		service.WithBody(access.WriteProjects, http.StatusCreated, h.addMember))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"POST /v1/projects/{id}/restore":               service.Reply(access.WriteProjects, h.restore),
		"GET /v1/projects/{id}/members":                service.List(access.ReadProjects, service.Pages(env.Cursors), h.listMembers),
		"PUT /v1/projects/{id}/members/{member_id}":    service.WithBody(access.WriteProjects, http.StatusOK, h.setMemberRole),
		"DELETE /v1/projects/{id}/members/{member_id}": service.NoContent(access.WriteProjects, h.removeMember),
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
}

// restore brings a deleted project back: 200 with the project; 409 not_deleted for a live one; 410
// restore_window_passed when it was deleted more than 30 days ago; 404 for an id the organization never had.
func (h *handler) restore(c *service.Call) (work.Project, error) {
	return h.store.Restore(c.Context(), c.TenantID, c.IdentityID, c.Role, c.ID("id"))
}

func (h *handler) listMembers(c *service.Call, req page.Request) (page.Page[work.ProjectMember], error) {
	return h.members.List(c.Context(), c.TenantID, c.ID("id"), req)
}

// Managing members needs an organization role that may write projects (viewers may not), and then, checked by
// the store against the project, organization owner or admin or project owner or admin.
func (h *handler) addMember(c *service.Call, in work.ProjectMemberInput) (work.ProjectMember, error) {
	id := c.ID("id")
	m, err := h.members.Add(c.Context(), c.TenantID, c.IdentityID, c.Role, id, in)
	if err == nil {
		c.Header().Set("Location", "/v1/projects/"+id.String()+"/members/"+m.IdentityID.String())
	}
	return m, err
}

func (h *handler) setMemberRole(c *service.Call, in work.ProjectRoleInput) (work.ProjectMember, error) {
	return h.members.SetRole(c.Context(), c.TenantID, c.IdentityID, c.Role, c.ID("id"), c.ID("member_id"), in)
}

func (h *handler) removeMember(c *service.Call) error {
	return h.members.Remove(c.Context(), c.TenantID, c.IdentityID, c.Role, c.ID("id"), c.ID("member_id"))
}
