package service

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

// TestCallRoutes drives each route builder through a mux, as the functions mount them, and checks the order
// of the answers (401, 403, 404 for a malformed id, 422 for a bad body, then the route's own), the statuses
// and what the route reads from the call.
func TestCallRoutes(t *testing.T) {
	t.Parallel()
	type echo struct {
		Route string `json:"route"`
		Item  string `json:"item"`
		Name  string `json:"name,omitempty"`
	}
	type input struct {
		Name string `json:"name"`
	}
	cursors := page.RandomCursors()
	mux := http.NewServeMux()
	mux.Handle("GET /things/{id}/items/{item_id}", Reply(access.ReadProjects, func(c *Call) (echo, error) {
		c.Header().Set("ETag", `"1"`)
		return echo{Route: c.Route(), Item: c.ID("item_id").String()}, nil
	}))
	mux.Handle("PUT /things/{id}", WithBody(access.WriteProjects, http.StatusCreated, func(c *Call, in input) (echo, error) {
		return echo{Route: c.Route(), Item: c.ID("id").String(), Name: in.Name}, nil
	}))
	mux.Handle("DELETE /things/{id}", NoContent(access.WriteProjects, func(c *Call) error {
		if c.ID("id") == uuid.Nil {
			return httpx.NotFound()
		}
		return nil
	}))
	mux.Handle("GET /things/{id}/items", List(access.ReadProjects, Pages(cursors), func(c *Call, req page.Request) (page.Page[echo], error) {
		return page.Of(req, []echo{{Route: c.Route()}}, func(echo) uuid.UUID { return c.ID("id") }), nil
	}))
	mux.Handle("GET /bad/{slug}", Reply(access.ReadProjects, func(c *Call) (echo, error) {
		return echo{Item: c.ID("slug").String()}, nil // no such id: the route's own mistake
	}))

	id, item := uuid.New(), uuid.New()
	member := token.Principal{IdentityID: uuid.New(), TenantID: uuid.New(), Role: access.Member}
	viewer := member
	viewer.Role = access.Viewer
	for _, tc := range []struct {
		name      string
		caller    *token.Principal
		method    string
		path      string
		body      string
		status    int
		contains  string
		wantPanic bool
	}{
		{name: "no caller", method: "GET", path: "/things/" + id.String() + "/items/" + item.String(), status: 401},
		{name: "forbidden before a malformed id", caller: &viewer, method: "PUT", path: "/things/nope", body: `{"name":"x"}`, status: 403},
		{name: "malformed id", caller: &member, method: "GET", path: "/things/" + id.String() + "/items/nope", status: 404},
		{name: "id not canonical", caller: &member, method: "DELETE", path: "/things/" + strings.ToUpper(id.String()), status: 404},
		{name: "malformed id before the body", caller: &member, method: "PUT", path: "/things/nope", body: `{`, status: 404},
		{name: "bad body", caller: &member, method: "PUT", path: "/things/" + id.String(), body: `{"nam":"x"}`, status: 422},
		{name: "reply", caller: &viewer, method: "GET", path: "/things/" + id.String() + "/items/" + item.String(), status: 200,
			contains: `"route":"GET /things/` + id.String() + `/items/` + item.String() + `","item":"` + item.String() + `"`},
		{name: "with body", caller: &member, method: "PUT", path: "/things/" + id.String(), body: `{"name":"x"}`, status: 201,
			contains: `"item":"` + id.String() + `","name":"x"`},
		{name: "no content", caller: &member, method: "DELETE", path: "/things/" + id.String(), status: 204},
		{name: "list", caller: &viewer, method: "GET", path: "/things/" + id.String() + "/items?limit=5", status: 200,
			contains: `"route":"GET /things/` + id.String() + `/items"`},
		{name: "list with a bad cursor", caller: &viewer, method: "GET", path: "/things/" + id.String() + "/items?cursor=forged", status: 422},
		{name: "unknown id name panics", caller: &viewer, method: "GET", path: "/bad/acme", wantPanic: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			} else {
				body = strings.NewReader("")
			}
			r := httptest.NewRequest(tc.method, tc.path, body)
			if tc.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			if tc.caller != nil {
				r = r.WithContext(httpx.WithPrincipal(r.Context(), *tc.caller))
			}
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					if v := recover(); (v != nil) != tc.wantPanic {
						t.Fatalf("panic %v, want panic %v", v, tc.wantPanic)
					}
				}()
				mux.ServeHTTP(rec, r)
			}()
			if tc.wantPanic {
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Fatalf("body %s, want it to contain %s", rec.Body, tc.contains)
			}
			if tc.name == "reply" && rec.Header().Get("ETag") != `"1"` {
				t.Fatalf("ETag %q: the route's headers are lost", rec.Header().Get("ETag"))
			}
		})
	}
}

func TestPathIDs(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"GET /v1/projects": "",
		"GET /v1/tasks/{id}/attachments/{attachment_id}": "id attachment_id",
		"GET /v1/auth/sso/{tenant}/start":                "",
		"PUT /v1/projects/{id}/members/{member_id}":      "id member_id",
	} {
		if got := strings.Join(pathIDs(pattern), " "); got != want {
			t.Errorf("pathIDs(%q) = %q, want %q", pattern, got, want)
		}
	}
}
