package tasks

import (
	"context"
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/storage"
	"github.com/coditect/hyperscale/shared/work"
)

// attachmentsConfig is what the attachment routes read beyond env: the Cloud Storage part and the media
// types each plan accepts.
type attachmentsConfig struct {
	Storage     storage.Config
	Attachments work.AttachmentConfig
}

// openAttachments builds the attachment store from the configuration in the environment.
func openAttachments(ctx context.Context, env *service.Env, opts ...config.Option) (*work.Attachments, error) {
	var cfg attachmentsConfig
	if err := config.Load(ctx, &cfg, opts...); err != nil {
		return nil, err
	}
	bucket, err := storage.Open(ctx, cfg.Storage)
	if err != nil {
		return nil, err
	}
	return work.NewAttachments(env.DB, bucket, cfg.Attachments), nil
}

// attachmentsPart is the attachment store built from the storage configuration, which service.Main loads
// and validates before the function serves: a bad value stops the start.
var attachmentsPart = service.NewPart(func(ctx context.Context, env *service.Env) (*work.Attachments, error) {
	return openAttachments(ctx, env)
})

// registerAttachments adds the routes of task attachments in Cloud Storage to mux. An Env that service.Main
// did not start (the dev server's, tests') loads the storage configuration here; when it is invalid, the
// routes still exist (behind authentication) and answer 503, so the rest of the function keeps serving and
// the reason is logged once.
func registerAttachments(env *service.Env, mux *http.ServeMux) {
	store, err := attachmentsPart.Get(context.Background(), env)
	if err != nil {
		env.Log.Error("attachments are unavailable", "error", err.Error())
	}
	mountAttachments(env, mux, store)
}

// mountAttachments adds the routes over store; a nil store makes them answer 503.
func mountAttachments(env *service.Env, mux *http.ServeMux, store *work.Attachments) {
	h := &attachmentHandler{store: store}
	mux.Handle("POST /v1/tasks/{id}/attachments", env.Authenticated(env.Idempotent(
		h.serve(service.WithBody(access.WriteProjects, http.StatusCreated, h.create)))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/tasks/{id}/attachments":                           service.List(access.ReadProjects, service.Pages(env.Cursors), h.list),
		"GET /v1/tasks/{id}/attachments/{attachment_id}":           service.Reply(access.ReadProjects, h.get),
		"DELETE /v1/tasks/{id}/attachments/{attachment_id}":        service.NoContent(access.WriteProjects, h.delete),
		"POST /v1/tasks/{id}/attachments/{attachment_id}/complete": service.Reply(access.WriteProjects, h.complete),
	} {
		mux.Handle(pattern, env.Authenticated(h.serve(fn)))
	}
}

type attachmentHandler struct {
	store *work.Attachments
}

// serve answers 503 while storage is unconfigured; the attachment store's errors declare their own answers.
func (h *attachmentHandler) serve(fn httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if h.store == nil {
			return work.ErrAttachmentsUnavailable
		}
		return fn(w, r)
	}
}

func (h *attachmentHandler) create(c *service.Call, in work.AttachmentInput) (work.Upload, error) {
	taskID := c.ID("id")
	up, err := h.store.Create(c.Context(), c.TenantID, c.IdentityID, taskID, in)
	if err == nil {
		// The answer holds a bearer URL: nothing on the way may keep it.
		c.Header().Set("Cache-Control", "no-store")
		c.Header().Set("Location", "/v1/tasks/"+taskID.String()+"/attachments/"+up.ID.String())
	}
	return up, err
}

func (h *attachmentHandler) complete(c *service.Call) (work.Attachment, error) {
	return h.store.Complete(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), c.ID("attachment_id"))
}

func (h *attachmentHandler) list(c *service.Call, req page.Request) (page.Page[work.Attachment], error) {
	return h.store.List(c.Context(), c.TenantID, c.ID("id"), req)
}

func (h *attachmentHandler) get(c *service.Call) (work.Download, error) {
	dl, err := h.store.Get(c.Context(), c.TenantID, c.ID("id"), c.ID("attachment_id"))
	if err == nil {
		c.Header().Set("Cache-Control", "no-store")
	}
	return dl, err
}

func (h *attachmentHandler) delete(c *service.Call) error {
	return h.store.Delete(c.Context(), c.TenantID, c.IdentityID, moderates(c.Role), c.ID("id"), c.ID("attachment_id"))
}
