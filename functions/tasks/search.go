package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerSearch adds GET /v1/search: full-text search over the organization's live projects, tasks and
// comments, every word matched (the last also as a prefix), best first, cursor-paginated.
func registerSearch(env *service.Env, mux *http.ServeMux) {
	search := work.NewSearch(env.DB)
	mux.Handle("GET /v1/search", env.Authenticated(httpx.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		p, err := service.Allow(r, access.ReadProjects)
		if err != nil {
			return err
		}
		q, err := work.ParseSearchQuery(r.URL.Query(), env.Cursors)
		if err != nil {
			return err
		}
		pg, err := search.Find(r.Context(), p.TenantID, q)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, pg)
		return nil
	})))
}
