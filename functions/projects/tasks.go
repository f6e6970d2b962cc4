package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerTasks adds a project's task routes (create and list) to mux.
func registerTasks(env *service.Env, mux *http.ServeMux) {}
