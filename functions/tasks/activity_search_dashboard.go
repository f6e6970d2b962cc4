package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerInsights adds the routes of the activity trail, search and the dashboard to mux.
func registerInsights(env *service.Env, mux *http.ServeMux) {
	registerActivity(env, mux)
	registerSearch(env, mux)
	registerDashboard(env, mux)
}
