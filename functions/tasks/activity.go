package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerActivity adds GET /v1/activity, the organization's trail newest first, filtered by entity_type,
// entity_id, actor and a since/until time range, cursor-paginated.
func registerActivity(env *service.Env, mux *http.ServeMux) {
	trail := work.NewActivityTrail(env.DB)
	mux.Handle("GET /v1/activity", env.Authenticated(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p, err := service.Allow(r, access.ReadProjects)
		if err != nil {
			return err
		}
		q, err := work.ParseActivityQuery(r.URL.Query(), env.Cursors)
		if err != nil {
			return err
		}
		pg, err := trail.List(r.Context(), p.TenantID, q)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, pg)
		return nil
	})))
}
