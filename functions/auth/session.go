package auth

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerSessions adds the routes of refresh, logout, password reset and change, switch and memberships to mux.
func registerSessions(env *service.Env, mux *http.ServeMux) {}
