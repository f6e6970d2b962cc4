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
	h := &commentHandler{store: work.NewComments(env.DB)}
	mux.Handle("POST /v1/tasks/{id}/comments", env.Authenticated(env.Idempotent(
		service.WithBody(access.WriteProjects, http.StatusCreated, h.create))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/tasks/{id}/comments": service.List(access.ReadProjects, service.Pages(env.Cursors), h.list),
		"PUT /v1/comments/{id}":       service.WithBody(access.WriteProjects, http.StatusOK, h.update),
		"DELETE /v1/comments/{id}":    service.NoContent(access.WriteProjects, h.delete),
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
}

type commentHandler struct {
	store *work.Comments
}

// moderates reports whether role may edit and delete what other members wrote (comments, attachments).
// access has no action for it yet; organization admins and owners are the moderators the API documents.
func moderates(role string) bool {
	return role == access.Owner || role == access.Admin
}

func (h *commentHandler) create(c *service.Call, in work.CommentInput) (work.Comment, error) {
	cm, err := h.store.Create(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), in)
	if err == nil {
		c.Header().Set("Location", "/v1/comments/"+cm.ID.String())
	}
	return cm, err
}

func (h *commentHandler) list(c *service.Call, req page.Request) (page.Page[work.Comment], error) {
	return h.store.List(c.Context(), c.TenantID, c.ID("id"), req)
}

func (h *commentHandler) update(c *service.Call, in work.CommentInput) (work.Comment, error) {
	return h.store.Update(c.Context(), c.TenantID, c.IdentityID, moderates(c.Role), c.ID("id"), in)
}

func (h *commentHandler) delete(c *service.Call) error {
	return h.store.Delete(c.Context(), c.TenantID, c.IdentityID, moderates(c.Role), c.ID("id"))
}
