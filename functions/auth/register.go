package auth

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerRegistration adds the routes of registration through an invitation or with a new organization to mux.
func registerRegistration(env *service.Env, mux *http.ServeMux) {}
