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
		// Preflights reach the function that serves the path, which answers them (httpx.Edge).
		{"OPTIONS", "/v1/projects/" + id, "projects OPTIONS /v1/projects/" + id},
		{"OPTIONS", "/v1/projects", "projects OPTIONS /v1/projects"},
		{"OPTIONS", "/v1/tenants", "tenants OPTIONS /v1/tenants"},
		{"OPTIONS", "/v1/auth/login", "auth OPTIONS /v1/auth/login"},
		{"OPTIONS", "/.well-known/jwks.json", "auth OPTIONS /.well-known/jwks.json"},
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

// TestNewMuxPreflights: OPTIONS operations reach the function their path's OPTIONS names, also for two paths
// that ServeMux could not hold as OPTIONS patterns side by side (both match /v1/users/invitations/role); an
// OPTIONS request on an unknown path is 404, and on a path that declares no OPTIONS operation, 405.
func TestNewMuxPreflights(t *testing.T) {
	t.Parallel()
	routes := []Route{
		{Method: "OPTIONS", Path: "/v1/users/{id}/role", Pattern: "OPTIONS /v1/users/{id}/role", Function: "users"},
		{Method: "PUT", Path: "/v1/users/{id}/role", Pattern: "PUT /v1/users/{id}/role", Function: "users"},
		{Method: "OPTIONS", Path: "/v1/users/invitations/{id}", Pattern: "OPTIONS /v1/users/invitations/{id}", Function: "invitations"},
		{Method: "DELETE", Path: "/v1/users/invitations/{id}", Pattern: "DELETE /v1/users/invitations/{id}", Function: "invitations"},
		{Method: "GET", Path: "/v1/open", Pattern: "GET /v1/open", Function: "users"},
	}
	mux, err := NewMux(routes, map[string]http.Handler{"users": echo("users"), "invitations": echo("invitations")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		status int
		want   string // the body: the function reached, or the problem's code
	}{
		{"/v1/users/u1/role", http.StatusOK, "users OPTIONS /v1/users/u1/role"},
		{"/v1/users/invitations/i1", http.StatusOK, "invitations OPTIONS /v1/users/invitations/i1"},
		{"/v1/users/invitations/role", http.StatusOK, "OPTIONS /v1/users/invitations/role"},
		{"/v1/nothing", http.StatusNotFound, "not_found"},
		{"/v1/open", http.StatusMethodNotAllowed, "method_not_allowed"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("OPTIONS", tt.target, nil)
		req.Header.Set("Access-Control-Request-Method", "GET")
		mux.ServeHTTP(rec, req)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("OPTIONS %s: %d %q, want %d %q", tt.target, rec.Code, rec.Body, tt.status, tt.want)
		}
	}
	// The other operations route as before, and no OPTIONS pattern shows in a 405's Allow.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("PUT", "/v1/users/u1/role", nil))
	if rec.Body.String() != "users PUT /v1/users/u1/role" {
		t.Errorf("PUT /v1/users/u1/role: %q", rec.Body)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/users/u1/role", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "PUT" {
		t.Errorf("POST /v1/users/u1/role: %d, Allow %q; want 405, PUT", rec.Code, rec.Header().Get("Allow"))
	}
}
