package gateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/coditect/hyperscale/shared/httpx"
)

// NewMux returns a ServeMux that sends each route to the handler of its function, keyed by
// function name. The request reaches the handler unchanged, path included, as API Gateway's
// APPEND_PATH_TO_ADDRESS forwards it, so each function dispatches on the full path itself.
// Requests the document does not route are answered with an RFC 9457 problem: 404 when no route
// has the path, 405 with an Allow header when routes have it under other methods. OPTIONS operations
// (CORS preflights) reach their function too, though not as patterns of their own (see preflight).
// NewMux fails, naming every one, when the document names functions that have no handler.
func NewMux(routes []Route, functions map[string]http.Handler) (mux *http.ServeMux, err error) {
	var missing []string
	for _, r := range routes {
		if functions[r.Function] == nil && !slices.Contains(missing, r.Function) {
			missing = append(missing, r.Function)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("gateway: no handler for function(s) named by the gateway document: %s", strings.Join(missing, ", "))
	}

	// ServeMux reports a bad or conflicting pattern only by panicking; Load rejects the known
	// cases, and this turns any other into an error for routes built by hand.
	defer func() {
		if p := recover(); p != nil {
			mux, err = nil, fmt.Errorf("gateway: register routes: %v", p)
		}
	}()

	mux = http.NewServeMux()
	preflights := map[string]http.Handler{} // path part of a pattern -> the function its OPTIONS operation names
	var methods []string
	for _, r := range routes {
		if r.Method == http.MethodOptions {
			preflights[patternPath(r.Pattern)] = functions[r.Function]
			continue
		}
		mux.Handle(r.Pattern, functions[r.Function])
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	slices.Sort(methods)
	unrouted := httpx.Unrouted(mux)
	mux.Handle("/", unrouted)
	if len(preflights) > 0 {
		mux.Handle("OPTIONS /", preflight(mux, methods, preflights, unrouted))
	}
	return mux, nil
}

// preflight routes an OPTIONS request to the function of the path it is for. The OPTIONS operations cannot be
// ServeMux patterns of their own: two paths such as /v1/users/{id}/role and /v1/users/invitations/{id} both
// match /v1/users/invitations/role, which ServeMux refuses to register under one method, and every path has an
// OPTIONS operation. So the path is found among the other operations, whose methods keep such paths apart,
// and the request goes to the function that the path's OPTIONS operation names (Load checks it is the
// function of the path's other operations). A path without an OPTIONS operation is answered as unrouted.
func preflight(mux *http.ServeMux, methods []string, preflights map[string]http.Handler, unrouted http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" {
				if h, ok := preflights[patternPath(pattern)]; ok {
					h.ServeHTTP(w, r)
					return
				}
			}
		}
		unrouted.ServeHTTP(w, r)
	})
}

// patternPath is the path part of a ServeMux pattern such as "GET /v1/projects/{id}".
func patternPath(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}
