// Package projects is the projects function: /v1/projects create, list (filtered, searched, ordered), read,
// replace, (soft) delete and restore, and project membership.
package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

func init() { service.Register("projects", New) }

// New builds the function's handler over env.
func New(env *service.Env) http.Handler {
	h := &handler{store: work.NewProjects(env.DB), members: work.NewProjectMembers(env.DB)}
	mux := env.Mux()
	mux.Handle("POST /v1/projects", env.Authenticated(env.Idempotent(
		service.WithBody(access.WriteProjects, http.StatusCreated, h.create))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/projects":         service.List(access.ReadProjects, service.Query(env.Cursors, work.ParseProjectQuery), h.list),
		"GET /v1/projects/{id}":    service.Reply(access.ReadProjects, h.get),
		"PUT /v1/projects/{id}":    service.WithBody(access.WriteProjects, http.StatusOK, h.update),
		"DELETE /v1/projects/{id}": service.NoContent(access.WriteProjects, h.delete),
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
	registerTasks(env, mux)
	registerExtras(env, mux, h)
	return env.Handler(mux)
}

type handler struct {
	store   *work.Projects
	members *work.ProjectMembers
}

func (h *handler) create(c *service.Call, in work.ProjectInput) (work.Project, error) {
	proj, err := h.store.Create(c.Context(), c.TenantID, c.IdentityID, in)
	if err == nil {
		c.Header().Set("Location", "/v1/projects/"+proj.ID.String())
	}
	return proj, err
}

func (h *handler) list(c *service.Call, q work.ProjectQuery) (page.Page[work.Project], error) {
	return h.store.List(c.Context(), c.TenantID, q)
}

func (h *handler) get(c *service.Call) (work.Project, error) {
	return h.store.Get(c.Context(), c.TenantID, c.ID("id"))
}

func (h *handler) update(c *service.Call, in work.ProjectInput) (work.Project, error) {
	return h.store.Update(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), in)
}

func (h *handler) delete(c *service.Call) error {
	return h.store.Delete(c.Context(), c.TenantID, c.IdentityID, c.Role, c.ID("id"))
}
