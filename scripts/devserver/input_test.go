package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// signedUp signs an organization up through the gateway and returns its owner's access token.
func signedUp(t *testing.T, h http.Handler, slug string) string {
	t.Helper()
	res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants", Body: map[string]any{
		"name": "Org " + slug, "slug": slug, "owner": map[string]any{"email": "owner@" + slug + ".test", "password": servicetest.Password, "name": "Owner"},
	}}), http.StatusCreated)
	return res.Str("access_token")
}

// problemFields returns the fields a validation problem names.
func problemFields(res servicetest.Response) []string {
	var out []string
	errs, _ := res.Body["errors"].([]any)
	for _, e := range errs {
		f, _ := e.(map[string]any)["field"].(string)
		out = append(out, f)
	}
	return out
}

// TestCursorsAreSignedAndBoundToTheirList pages through lists with cursors used as issued, on another list,
// under other filters and after tampering: only the first opens, every other is 422 invalid_cursor on cursor.
func TestCursorsAreSignedAndBoundToTheirList(t *testing.T) {
	t.Parallel()
	h, _ := newPlatform(t)
	tok := signedUp(t, h, "cursors")
	do := func(r req, status int) servicetest.Response {
		t.Helper()
		r.Bearer = tok
		return servicetest.Expect(t, servicetest.Do(t, h, r), status)
	}
	var project string
	for i := range 3 {
		project = do(req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": fmt.Sprint("P", i)}}, http.StatusCreated).Str("id")
	}
	for i := range 3 {
		do(req{Method: "POST", Path: "/v1/projects/" + project + "/tasks", Body: map[string]any{"title": fmt.Sprint("T", i)}}, http.StatusCreated)
	}
	first := do(req{Method: "GET", Path: "/v1/projects?limit=1"}, http.StatusOK)
	cursor := first.Str("next_cursor")
	if cursor == "" {
		t.Fatalf("first page = %s", first.Raw)
	}
	second := do(req{Method: "GET", Path: "/v1/projects?limit=1&cursor=" + url.QueryEscape(cursor)}, http.StatusOK)
	if len(second.Items()) != 1 || second.Items()[0]["id"] == first.Items()[0]["id"] {
		t.Fatalf("second page = %s after %s", second.Raw, first.Raw)
	}
	tasks := do(req{Method: "GET", Path: "/v1/projects/" + project + "/tasks?limit=1&status=todo"}, http.StatusOK).Str("next_cursor")
	do(req{Method: "GET", Path: "/v1/projects/" + project + "/tasks?limit=1&status=todo&cursor=" + url.QueryEscape(tasks)}, http.StatusOK)

	payload, sig, _ := strings.Cut(cursor, ".")
	flipped := []byte(sig + "A")
	flipped[0] ^= 1
	for _, tc := range []struct{ name, path string }{
		{"a projects cursor on users", "/v1/users?limit=1&cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor on activity", "/v1/activity?limit=1&cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor on search", "/v1/search?q=p&limit=1&cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor on tasks", "/v1/projects/" + project + "/tasks?cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor on project members", "/v1/projects/" + project + "/members?cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor with a filter added", "/v1/projects?limit=1&status=active&cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor with a search added", "/v1/projects?limit=1&q=P&cursor=" + url.QueryEscape(cursor)},
		{"a projects cursor under another ordering", "/v1/projects?limit=1&order=name&cursor=" + url.QueryEscape(cursor)},
		{"a tasks cursor with another status", "/v1/projects/" + project + "/tasks?limit=1&status=done&cursor=" + url.QueryEscape(tasks)},
		{"a tasks cursor without its filter", "/v1/projects/" + project + "/tasks?limit=1&cursor=" + url.QueryEscape(tasks)},
		{"a tampered signature", "/v1/projects?limit=1&cursor=" + url.QueryEscape(payload+"."+string(flipped))},
		{"an unsigned cursor", "/v1/projects?limit=1&cursor=" + url.QueryEscape(payload)},
	} {
		res := servicetest.Do(t, h, req{Method: "GET", Path: tc.path, Bearer: tok})
		if res.Status != http.StatusUnprocessableEntity || res.Str("code") != "invalid_cursor" || !slices.Equal(problemFields(res), []string{"cursor"}) {
			t.Errorf("%s: %d %s, want 422 invalid_cursor on cursor", tc.name, res.Status, res.Raw)
		}
	}
}

// TestNonCanonicalIDsAreUnknown asks for a project by every other spelling of its id: each is 404, as an id
// that does not exist, and a body or query naming an id that way is 422 on its field.
func TestNonCanonicalIDsAreUnknown(t *testing.T) {
	t.Parallel()
	h, _ := newPlatform(t)
	tok := signedUp(t, h, "ids")
	id := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": "Apollo"}}), http.StatusCreated).Str("id")
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}), http.StatusOK)
	for _, other := range []string{strings.ToUpper(id), "{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", "")} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + url.PathEscape(other), Bearer: tok}), http.StatusNotFound, "not_found")
		servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + url.PathEscape(other) + "/tasks", Bearer: tok}), http.StatusNotFound, "not_found")
		res := servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects?member=" + url.QueryEscape(other), Bearer: tok})
		if res.Status != http.StatusUnprocessableEntity || !slices.Equal(problemFields(res), []string{"member"}) {
			t.Errorf("member=%s: %d %s, want 422 on member", other, res.Status, res.Raw)
		}
		res = servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects/" + id + "/tasks", Bearer: tok, Body: map[string]any{"title": "t", "assignee_id": other}})
		if res.Status != http.StatusUnprocessableEntity || !slices.Equal(problemFields(res), []string{"assignee_id"}) {
			t.Errorf("assignee_id %s: %d %s, want 422 on assignee_id", other, res.Status, res.Raw)
		}
	}
}

// TestStrictJSON sends bodies encoding/json used to take: differently cased or duplicate names, invalid UTF-8,
// null for an object, control and bidi characters in names, huge positions. Each is refused, nothing stored.
func TestStrictJSON(t *testing.T) {
	t.Parallel()
	h, f := newPlatform(t)
	tok := signedUp(t, h, "strict")
	project := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": "Apollo"}}), http.StatusCreated).Str("id")
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/tenants/me/settings", Bearer: tok,
		Body: map[string]any{"features": map[string]bool{"beta": true}}}), http.StatusOK)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
		field                    string
	}{
		{"names differing in case", "POST", "/v1/projects", `{"name":"lower","Name":"upper"}`, 422, "validation_failed", "Name"},
		{"duplicate names", "POST", "/v1/projects", `{"name":"one","name":"two"}`, 422, "validation_failed", "name"},
		{"invalid UTF-8", "POST", "/v1/projects", "{\"name\":\"bad \xff\"}", 422, "validation_failed", "name"},
		{"settings replaced by null", "PUT", "/v1/tenants/me/settings", `null`, 400, "malformed_json", ""},
		{"sign-up owner null", "POST", "/v1/tenants", `{"name":"X","slug":"xyz","owner":null}`, 422, "validation_failed", "owner"},
		{"right-to-left override in a project name", "POST", "/v1/projects", `{"name":"invoice\u202efdp.exe"}`, 422, "validation_failed", "name"},
		{"isolate in a task title", "POST", "/v1/projects/" + project + "/tasks", `{"title":"a\u2066b"}`, 422, "validation_failed", "title"},
		{"control character in an organization name", "PUT", "/v1/tenants/me", `{"name":"Acme\u0007"}`, 422, "validation_failed", "name"},
		{"newline in a profile name", "PUT", "/v1/users/me", `{"name":"Ada\nLovelace"}`, 422, "validation_failed", "name"},
		{"zero-width space in a label", "POST", "/v1/projects/" + project + "/tasks", `{"title":"t","labels":["a\u200bb"]}`, 422, "validation_failed", "labels"},
		{"position 1e308", "POST", "/v1/projects/" + project + "/tasks", `{"title":"t","position":1e308}`, 422, "validation_failed", "position"},
		{"position beyond float64", "POST", "/v1/projects/" + project + "/tasks", `{"title":"t","position":1e400}`, 422, "validation_failed", "position"},
	}
	for _, tc := range tests {
		res := servicetest.Do(t, h, req{Method: tc.method, Path: tc.path, Bearer: tok, Body: tc.body})
		if res.Status != tc.status || res.Str("code") != tc.code || (tc.field != "" && !slices.Equal(problemFields(res), []string{tc.field})) {
			t.Errorf("%s: %d %s, want %d %s on %q", tc.name, res.Status, res.Raw, tc.status, tc.code, tc.field)
		}
	}
	settings := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me/settings", Bearer: tok}), http.StatusOK)
	if features, _ := settings.Body["features"].(map[string]any); features["beta"] != true {
		t.Fatalf("settings after a null body: %s", settings.Raw)
	}
	var projects, tasks int
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM tenant.projects), (SELECT count(*) FROM tenant.tasks)`).Scan(&projects, &tasks); err != nil {
		t.Fatal(err)
	}
	if projects != 1 || tasks != 0 {
		t.Fatalf("%d projects and %d tasks stored, want only the first project", projects, tasks)
	}
	// A merge patch still clears a nullable field with null.
	task := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects/" + project + "/tasks", Bearer: tok,
		Body: map[string]any{"title": "t", "due_date": "2027-01-01", "position": 5}}), http.StatusCreated)
	patched := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PATCH", Path: "/v1/tasks/" + task.Str("id"), Bearer: tok, Body: `{"due_date":null}`,
		Header: map[string]string{"Content-Type": "application/merge-patch+json"}}), http.StatusOK)
	if patched.Body["due_date"] != nil {
		t.Fatalf("patch with null due_date = %s", patched.Raw)
	}
}

// TestSlowBodyThroughTheGateway stalls half-way through a sign-up body against the platform on a real server:
// the function's edge answers 408 request_timeout soon after BODY_READ_TIMEOUT, not when the client gives up.
func TestSlowBodyThroughTheGateway(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Edge.BodyReadTimeout = 300 * time.Millisecond
	h, err := platform(f.Env, gatewayDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "POST /v1/tenants HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"name\":\"Slow"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within 5s: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) {
		t.Fatalf("stalled sign-up answered %d %s", resp.StatusCode, body)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("answered after %s", elapsed)
	}
}
