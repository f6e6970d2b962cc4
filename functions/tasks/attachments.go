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
	h := &attachmentHandler{store: store, cursors: env.Cursors}
	mux.Handle("POST /v1/tasks/{id}/attachments", env.Authenticated(env.Idempotent(h.serve(h.create))))
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/tasks/{id}/attachments":                           h.list,
		"GET /v1/tasks/{id}/attachments/{attachment_id}":           h.get,
		"DELETE /v1/tasks/{id}/attachments/{attachment_id}":        h.delete,
		"POST /v1/tasks/{id}/attachments/{attachment_id}/complete": h.complete,
	} {
		mux.Handle(pattern, env.Authenticated(h.serve(fn)))
	}
}

type attachmentHandler struct {
	store   *work.Attachments
	cursors *page.Cursors
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

func (h *attachmentHandler) create(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.AttachmentInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	up, err := h.store.Create(r.Context(), p.TenantID, p.IdentityID, taskID, in)
	if err != nil {
		return err
	}
	// The answer holds a bearer URL: nothing on the way may keep it.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/tasks/"+taskID.String()+"/attachments/"+up.ID.String())
	httpx.WriteJSON(w, http.StatusCreated, up)
	return nil
}

func (h *attachmentHandler) complete(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "attachment_id")
	if err != nil {
		return err
	}
	a, err := h.store.Complete(r.Context(), p.TenantID, p.IdentityID, taskID, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *attachmentHandler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	req, err := page.Parse(r.URL.Query(), h.cursors, "GET /v1/tasks/"+taskID.String()+"/attachments")
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

func (h *attachmentHandler) get(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "attachment_id")
	if err != nil {
		return err
	}
	dl, err := h.store.Get(r.Context(), p.TenantID, taskID, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, dl)
	return nil
}

func (h *attachmentHandler) delete(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	taskID, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "attachment_id")
	if err != nil {
		return err
	}
	if err := h.store.Delete(r.Context(), p.TenantID, p.IdentityID, moderates(p.Role), taskID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
