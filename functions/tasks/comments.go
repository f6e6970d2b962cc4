package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerComments adds the routes of comments on tasks to mux.
func registerComments(env *service.Env, mux *http.ServeMux) {}
