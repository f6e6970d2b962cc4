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
		"GET /v1/tasks/{id}":    service.Reply(access.ReadProjects, h.get),
		"PUT /v1/tasks/{id}":    service.WithBody(access.WriteProjects, http.StatusOK, h.replace),
		"PATCH /v1/tasks/{id}":  service.WithBody(access.WriteProjects, http.StatusOK, h.patch),
		"DELETE /v1/tasks/{id}": service.NoContent(access.WriteProjects, h.delete),
	} {
		mux.Handle(pattern, env.Authenticated(fn))
	}
}

type taskRoutes struct {
	store *work.Tasks
}

func (h *taskRoutes) get(c *service.Call) (work.Task, error) {
	t, err := h.store.Get(c.Context(), c.TenantID, c.ID("id"))
	return tagged(c, t, err)
}

// replace is PUT: every writable field from the body, omitted ones back to their defaults (position stays).
func (h *taskRoutes) replace(c *service.Call, in work.TaskInput) (work.Task, error) {
	t, err := h.store.Replace(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), in, taskIfMatch(c.Request()))
	return tagged(c, t, err)
}

// patch is a JSON merge patch (application/merge-patch+json or application/json): only the members sent
// change, and null clears assignee_id and due_date.
func (h *taskRoutes) patch(c *service.Call, in work.TaskPatch) (work.Task, error) {
	t, err := h.store.Patch(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), in, taskIfMatch(c.Request()))
	return tagged(c, t, err)
}

func (h *taskRoutes) delete(c *service.Call) error {
	return h.store.Delete(c.Context(), c.TenantID, c.IdentityID, c.ID("id"), taskIfMatch(c.Request()))
}

// tagged passes a store's answer on, first tagging the response with the task's ETag when there is a task:
// every answer that carries a task carries its tag.
func tagged(c *service.Call, t work.Task, err error) (work.Task, error) {
	if err == nil {
		c.Header().Set("ETag", t.ETag())
	}
	return t, err
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
