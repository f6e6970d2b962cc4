package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerComments adds the routes of comments on tasks to mux.
func registerComments(env *service.Env, mux *http.ServeMux) {
	h := &commentHandler{store: work.NewComments(env.DB), cursors: env.Cursors}
	mux.Handle("POST /v1/tasks/{id}/comments", env.Authenticated(env.Idempotent(httpx.HandlerFunc(h.create))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/tasks/{id}/comments": h.list,
		"PUT /v1/comments/{id}":       h.update,
		"DELETE /v1/comments/{id}":    h.delete,
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
}

type commentHandler struct {
	store   *work.Comments
	cursors *page.Cursors
}

// moderates reports whether role may edit and delete what other members wrote (comments, attachments).
// access has no action for it yet; organization admins and owners are the moderators the API documents.
func moderates(role string) bool {
	return role == access.Owner || role == access.Admin
}

func (h *commentHandler) create(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.CommentInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	c, err := h.store.Create(r.Context(), p.TenantID, p.IdentityID, taskID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/comments/"+c.ID.String())
	httpx.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (h *commentHandler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	req, err := page.Parse(r.URL.Query(), h.cursors, "GET /v1/tasks/"+taskID.String()+"/comments")
	if err != nil {
		return err
	}
	pg, err := h.store.List(r.Context(), p.TenantID, taskID, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}

func (h *commentHandler) update(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.CommentInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	c, err := h.store.Update(r.Context(), p.TenantID, p.IdentityID, moderates(p.Role), id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *commentHandler) delete(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.Delete(r.Context(), p.TenantID, p.IdentityID, moderates(p.Role), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
