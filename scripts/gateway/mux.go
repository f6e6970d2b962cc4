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
// has the path, 405 with an Allow header when routes have it under other methods. NewMux fails,
// naming every one, when the document names functions that have no handler.
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
	for _, r := range routes {
		if r.Method == http.MethodOptions {
			continue
		}
		mux.Handle(r.Pattern, functions[r.Function])
	}
	httpx.HandleUnrouted(mux)
	// A preflight goes to the function that serves the method it asks about on its path, as API Gateway's
	// per-path OPTIONS operations send it. Its own patterns cannot all be ServeMux patterns: API Gateway prefers
	// a literal segment to a parameter (/v1/users/invitations/{id} over /v1/users/{id}/role), ServeMux refuses
	// two patterns of one method where neither is more specific.
	mux.Handle("OPTIONS /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked := r.Clone(r.Context())
		asked.Method = r.Header.Get("Access-Control-Request-Method")
		if asked.Method == "" {
			asked.Method = http.MethodGet
		}
		h, _ := mux.Handler(asked)
		h.ServeHTTP(w, r)
	}))
	return mux, nil
}
