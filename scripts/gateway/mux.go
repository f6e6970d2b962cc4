package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
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
	var methods []string
	patterns := make(map[string]bool, len(routes))
	for _, r := range routes {
		mux.Handle(r.Pattern, functions[r.Function])
		patterns[r.Pattern] = true
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	slices.Sort(methods)

	// A catch-all takes over from ServeMux's own plain-text 404 and 405 answers. Being the least
	// specific pattern, it only sees requests no route matches.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			// Only a document route counts: the catch-all and ServeMux's redirects match too.
			if _, pattern := mux.Handler(probe); patterns[pattern] {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 {
			writeProblem(w, http.StatusNotFound, "not_found",
				fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
			return
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeProblem(w, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
	})
	return mux, nil
}

// problem is an RFC 9457 problem detail with the platform's machine-readable code.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
	})
}
