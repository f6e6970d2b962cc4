package tasks

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerTasks adds the routes of tasks by id (read, replace, patch, delete) to mux.
func registerTasks(env *service.Env, mux *http.ServeMux) {}
