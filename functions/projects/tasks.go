package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerTasks adds a project's task routes (create and list) to mux.
func registerTasks(env *service.Env, mux *http.ServeMux) {
	h := &projectTasks{store: work.NewTasks(env.DB), cursors: env.Cursors}
	mux.Handle("POST /v1/projects/{id}/tasks", env.Authenticated(env.Idempotent(
		service.WithBody(access.WriteProjects, http.StatusCreated, h.create))))
	mux.Handle("GET /v1/projects/{id}/tasks", env.Authenticated(service.List(access.ReadProjects, h.query, h.list)))
}

type projectTasks struct {
	store   *work.Tasks
	cursors *page.Cursors
}

// create answers 201 with the task, its Location and its ETag; 404 when the project does not exist or was
// deleted; 422 naming the failing fields, assignee_id among them when the assignee has no access.
func (h *projectTasks) create(c *service.Call, in work.TaskInput) (work.Task, error) {
	t, err := h.store.Create(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), in)
	if err == nil {
		c.Header().Set("Location", "/v1/tasks/"+t.ID.String())
		c.Header().Set("ETag", t.ETag())
	}
	return t, err
}

// query reads the list's filters and ordering (work.ParseTaskQuery); "me" is the caller.
func (h *projectTasks) query(c *service.Call) (work.TaskQuery, error) {
	return work.ParseTaskQuery(c.Query(), c.IdentityID, h.cursors)
}

// list answers one page of the project's tasks, filtered and ordered as the query string asks; 404 when the
// project does not exist or was deleted.
func (h *projectTasks) list(c *service.Call, q work.TaskQuery) (page.Page[work.Task], error) {
	return h.store.List(c.Context(), c.TenantID, c.ID("id"), q)
}
