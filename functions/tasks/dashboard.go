package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerDashboard adds GET /v1/dashboard: the organization's active projects, tasks by status, completions
// per week over twelve weeks, overdue tasks and recent activity, as of the environment's clock (UTC).
func registerDashboard(env *service.Env, mux *http.ServeMux) {
	dashboards := work.NewDashboards(env.DB)
	mux.Handle("GET /v1/dashboard", env.Authenticated(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p, err := service.Allow(r, access.ReadProjects)
		if err != nil {
			return err
		}
		d, err := dashboards.Get(r.Context(), p.TenantID, env.Now())
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, d)
		return nil
	})))
}
