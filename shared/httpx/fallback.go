package httpx

import (
	"fmt"
	"net/http"
	"strings"
)

// probeMethods are the methods a fallback tries when it tells a wrong method from an unknown path.
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// HandleUnrouted makes mux answer requests none of its routes match with a problem+json 404, or a 405 with an
// Allow header when the path has routes under other methods, instead of ServeMux's plain-text answers. It
// registers the catch-all pattern "/", which, being the least specific, only sees what nothing else matches;
// routes may be added to mux before or after.
func HandleUnrouted(mux *http.ServeMux) {
	mux.Handle("/", Unrouted(mux))
}

// Unrouted is the handler HandleUnrouted registers: the answer of mux to a request none of its routes match,
// for a router that answers some requests itself before falling back.
func Unrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range probeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) == 0 {
			WriteProblem(w, NewProblem(http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)))
			return
		}
		list := strings.Join(allowed, ", ")
		WriteProblem(w, NewProblem(http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, list)).WithHeader("Allow", list))
	})
}
