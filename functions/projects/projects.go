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
	h := &handler{store: work.NewProjects(env.DB), members: work.NewProjectMembers(env.DB), cursors: env.Cursors}
	mux := env.Mux()
	mux.Handle("POST /v1/projects", env.Authenticated(env.Idempotent(httpx.HandlerFunc(h.create))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/projects":         h.list,
		"GET /v1/projects/{id}":    h.get,
		"PUT /v1/projects/{id}":    h.update,
		"DELETE /v1/projects/{id}": h.delete,
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
	cursors *page.Cursors
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	var in work.ProjectInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	proj, err := h.store.Create(r.Context(), p.TenantID, p.IdentityID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/projects/"+proj.ID.String())
	httpx.WriteJSON(w, http.StatusCreated, proj)
	return nil
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	q, err := work.ParseProjectQuery(r.URL.Query(), h.cursors)
	if err != nil {
		return err
	}
	pg, err := h.store.List(r.Context(), p.TenantID, q)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	proj, err := h.store.Get(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, proj)
	return nil
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.ProjectInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	proj, err := h.store.Update(r.Context(), p.TenantID, p.IdentityID, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, proj)
	return nil
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.Delete(r.Context(), p.TenantID, p.IdentityID, p.Role, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
