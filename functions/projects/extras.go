package projects

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerExtras adds restore and project membership routes to mux.
func registerExtras(env *service.Env, mux *http.ServeMux) {}
