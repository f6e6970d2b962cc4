package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerTasks adds a project's task routes (create and list) to mux.
func registerTasks(env *service.Env, mux *http.ServeMux) {
	h := &projectTasks{store: work.NewTasks(env.DB), cursors: env.Cursors}
	mux.Handle("POST /v1/projects/{id}/tasks", env.Authenticated(env.Idempotent(httpx.HandlerFunc(h.create))))
	mux.Handle("GET /v1/projects/{id}/tasks", env.Authenticated(httpx.HandlerFunc(h.list)))
}

type projectTasks struct {
	store   *work.Tasks
	cursors *page.Cursors
}

// create answers 201 with the task, its Location and its ETag; 404 when the project does not exist or was
// deleted; 422 naming the failing fields, assignee_id among them when the assignee has no access.
func (h *projectTasks) create(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	projectID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.TaskInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	t, err := h.store.Create(r.Context(), p.TenantID, p.IdentityID, projectID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tasks/"+t.ID.String())
	w.Header().Set("ETag", t.ETag())
	httpx.WriteJSON(w, http.StatusCreated, t)
	return nil
}

// list answers one page of the project's tasks, filtered and ordered as the query string asks
// (work.ParseTaskQuery); 404 when the project does not exist or was deleted.
func (h *projectTasks) list(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	projectID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	q, err := work.ParseTaskQuery(r.URL.Query(), p.IdentityID, h.cursors)
	if err != nil {
		return err
	}
	pg, err := h.store.List(r.Context(), p.TenantID, projectID, q)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}
