package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerActivity adds GET /v1/activity, the organization's trail newest first, filtered by entity_type,
// entity_id, actor and a since/until time range, cursor-paginated.
func registerActivity(env *service.Env, mux *http.ServeMux) {
	trail := work.NewActivityTrail(env.DB)
	mux.Handle("GET /v1/activity", env.Authenticated(service.List(access.ReadProjects,
		service.Query(env.Cursors, work.ParseActivityQuery),
		func(c *service.Call, q work.ActivityQuery) (page.Page[work.ActivityEntry], error) {
			return trail.List(c.Context(), c.TenantID, q)
		})))
}
