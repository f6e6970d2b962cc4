// Package users is the users function: an organization's members, invitations and roles.
package users

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

func init() { service.Register("users", New) }

// New builds the function's handler over env.
func New(env *service.Env) http.Handler {
	mux := env.Mux()
	register(env, mux)
	return env.Handler(mux)
}

// register adds the function's routes to mux.
func register(env *service.Env, mux *http.ServeMux) {}
