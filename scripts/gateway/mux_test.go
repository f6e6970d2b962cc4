package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/contract"
)

// echo answers with its function's name and the path and method it received, so a test can see
// both which function a request reached and that the path arrived intact.
func echo(function string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s", function, r.Method, r.URL.RequestURI())
	})
}

func realMux(t *testing.T) *http.ServeMux {
	t.Helper()
	path, err := contract.FindDocument(".")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	functions := map[string]http.Handler{}
	for _, r := range routes {
		functions[r.Function] = echo(r.Function)
	}
	mux, err := NewMux(routes, functions)
	if err != nil {
		t.Fatal(err)
	}
	return mux
}

func TestNewMuxRoutes(t *testing.T) {
	t.Parallel()
	mux := realMux(t)
	const id = "01900000-0000-7000-8000-000000000001"
	tests := []struct {
		method, target string
		want           string
	}{
		{"GET", "/v1/projects/" + id, "projects GET /v1/projects/" + id},
		{"DELETE", "/v1/projects/" + id, "projects DELETE /v1/projects/" + id},
		{"GET", "/v1/projects?limit=10&cursor=abc", "projects GET /v1/projects?limit=10&cursor=abc"},
		{"POST", "/v1/projects", "projects POST /v1/projects"},
		{"POST", "/v1/tenants", "tenants POST /v1/tenants"},
		{"POST", "/v1/auth/login", "auth POST /v1/auth/login"},
		{"GET", "/.well-known/jwks.json", "auth GET /.well-known/jwks.json"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
				t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestNewMuxProblems(t *testing.T) {
	t.Parallel()
	mux := realMux(t)
	tests := []struct {
		method, target string
		status         int
		code           string
		allow          string
	}{
		{"GET", "/v1/nothing", http.StatusNotFound, "not_found", ""},
		{"GET", "/", http.StatusNotFound, "not_found", ""},
		// A path one segment deeper than any route is unknown, not a wrong method.
		{"GET", "/v1/projects/x/y/z", http.StatusNotFound, "not_found", ""},
		{"PATCH", "/v1/projects/01900000-0000-7000-8000-000000000001", http.StatusMethodNotAllowed, "method_not_allowed", "GET, PUT, DELETE"},
		{"DELETE", "/v1/projects", http.StatusMethodNotAllowed, "method_not_allowed", "GET, POST"},
		{"GET", "/v1/tenants", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			var p map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if p["type"] != "about:blank" || p["title"] != http.StatusText(tt.status) ||
				p["status"] != float64(tt.status) || p["code"] != tt.code ||
				!strings.Contains(fmt.Sprint(p["detail"]), tt.target) {
				t.Errorf("problem = %v", p)
			}
		})
	}
}

func TestNewMuxMissingFunctions(t *testing.T) {
	t.Parallel()
	routes := []Route{
		{Method: "GET", Path: "/v1/a", Pattern: "GET /v1/a", Function: "projects"},
		{Method: "POST", Path: "/v1/b", Pattern: "POST /v1/b", Function: "stripe-webhook"},
		{Method: "GET", Path: "/v1/c", Pattern: "GET /v1/c", Function: "auth"},
		{Method: "PUT", Path: "/v1/c", Pattern: "PUT /v1/c", Function: "auth"},
	}
	_, err := NewMux(routes, map[string]http.Handler{"projects": echo("projects"), "stripe-webhook": nil})
	if err == nil {
		t.Fatal("NewMux accepted routes whose functions have no handler")
	}
	if want := "auth, stripe-webhook"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %q", err, want)
	}
}

func TestNewMuxConflict(t *testing.T) {
	t.Parallel()
	routes := []Route{
		{Method: "GET", Path: "/v1/a/{x}/b", Pattern: "GET /v1/a/{x}/b", Function: "f"},
		{Method: "GET", Path: "/v1/a/b/{y}", Pattern: "GET /v1/a/b/{y}", Function: "f"},
	}
	if _, err := NewMux(routes, map[string]http.Handler{"f": echo("f")}); err == nil {
		t.Fatal("NewMux accepted conflicting patterns")
	}
}
