package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/work"
)

// registerSearch adds GET /v1/search: full-text search over the organization's live projects, tasks and
// comments, every word matched (the last also as a prefix), best first, cursor-paginated.
func registerSearch(env *service.Env, mux *http.ServeMux) {
	search := work.NewSearch(env.DB)
	mux.Handle("GET /v1/search", env.Authenticated(service.List(access.ReadProjects,
		service.Query(env.Cursors, work.ParseSearchQuery),
		func(c *service.Call, q work.SearchQuery) (page.Page[work.SearchResult], error) {
			return search.Find(c.Context(), c.TenantID, q)
		})))
}
