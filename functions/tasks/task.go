package tasks

import (
	"net/http"
	"strings"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerTasks adds the routes of tasks by id (read, replace, patch, delete) to mux. Every answer that
// carries a task carries its ETag; writes honour If-Match (a stale tag is 412 precondition_failed) and, without
// it, apply unconditionally.
func registerTasks(env *service.Env, mux *http.ServeMux) {
	h := &taskRoutes{store: work.NewTasks(env.DB)}
	for pattern, fn := range map[string]httpx.HandlerFunc{
		"GET /v1/tasks/{id}":    h.get,
		"PUT /v1/tasks/{id}":    h.replace,
		"PATCH /v1/tasks/{id}":  h.patch,
		"DELETE /v1/tasks/{id}": h.delete,
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
}

type taskRoutes struct {
	store *work.Tasks
}

func (h *taskRoutes) get(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.store.Get(r.Context(), p.TenantID, id)
	if err != nil {
		return err
	}
	writeTask(w, t)
	return nil
}

// replace is PUT: every writable field from the body, omitted ones back to their defaults (position stays).
func (h *taskRoutes) replace(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.TaskInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	t, err := h.store.Replace(r.Context(), p.TenantID, p.IdentityID, id, in, taskIfMatch(r))
	if err != nil {
		return err
	}
	writeTask(w, t)
	return nil
}

// patch is a JSON merge patch (application/merge-patch+json or application/json): only the members sent
// change, and null clears assignee_id and due_date.
func (h *taskRoutes) patch(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	var in work.TaskPatch
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	t, err := h.store.Patch(r.Context(), p.TenantID, p.IdentityID, id, in, taskIfMatch(r))
	if err != nil {
		return err
	}
	writeTask(w, t)
	return nil
}

func (h *taskRoutes) delete(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.WriteProjects)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.Delete(r.Context(), p.TenantID, p.IdentityID, id, taskIfMatch(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func writeTask(w http.ResponseWriter, t work.Task) {
	w.Header().Set("ETag", t.ETag())
	httpx.WriteJSON(w, http.StatusOK, t)
}

// taskIfMatch reads the If-Match header (RFC 9110, 13.1.1): "*", or a list of entity tags, possibly over
// several header lines. No header means no precondition.
func taskIfMatch(r *http.Request) work.IfMatch {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return work.IfMatch{}
	}
	m := work.IfMatch{ETags: []string{}}
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			switch tag {
			case "":
			case "*":
				m.Any = true
			default:
				m.ETags = append(m.ETags, tag)
			}
		}
	}
	return m
}
