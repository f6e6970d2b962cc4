package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerDashboard adds GET /v1/dashboard: the organization's active projects, tasks by status, completions
// per week over twelve weeks, overdue tasks and recent activity, as of the environment's clock (UTC).
func registerDashboard(env *service.Env, mux *http.ServeMux) {
	dashboards := work.NewDashboards(env.DB)
	mux.Handle("GET /v1/dashboard", env.Authenticated(service.Reply(access.ReadProjects,
		func(c *service.Call) (work.Dashboard, error) {
			return dashboards.Get(c.Context(), c.TenantID, env.Now())
		})))
}
