package tasks

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// taskFx is an organization with an owner, a member and a viewer, one project and one task in it (written
// through the shared stores, since projects belong to another function), and the function.
type taskFx struct {
	h                           http.Handler
	f                           *servicetest.Fixture
	tenant                      uuid.UUID
	owner, member, viewer       string // tokens
	ownerID, memberID, viewerID uuid.UUID
	project, task               uuid.UUID
}

func newTaskFx(t *testing.T) taskFx {
	t.Helper()
	f := servicetest.New(t)
	x := taskFx{h: New(f.Env), f: f}
	owner := f.Member(t, "owner")
	member, viewer := f.Join(t, owner.TenantID, "member"), f.Join(t, owner.TenantID, "viewer")
	x.tenant = owner.TenantID
	x.owner, x.member, x.viewer = f.Token(t, owner), f.Token(t, member), f.Token(t, viewer)
	x.ownerID, x.memberID, x.viewerID = owner.IdentityID, member.IdentityID, viewer.IdentityID
	x.project = uuid.Must(uuid.NewV7())
	if _, err := f.DB.Owner.Exec(context.Background(), `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'Fixture', $3)`,
		x.tenant, x.project, x.ownerID); err != nil {
		t.Fatal(err)
	}
	tk, err := work.NewTasks(f.Env.DB).Create(context.Background(), x.tenant, x.ownerID, x.project,
		work.TaskInput{Title: "Fixture task", Labels: []string{"fixture"}})
	if err != nil {
		t.Fatal(err)
	}
	x.task = tk.ID
	return x
}

func (x taskFx) do(t *testing.T, token, method string, body any, header ...string) servicetest.Response {
	t.Helper()
	r := servicetest.Request{Method: method, Path: "/v1/tasks/" + x.task.String(), Bearer: token, Body: body, Header: map[string]string{}}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header[header[i]] = header[i+1]
	}
	return servicetest.Do(t, x.h, r)
}

func TestTaskReadWriteWithETags(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)
	g := servicetest.Expect(t, x.do(t, x.viewer, "GET", nil), 200)
	etag := g.Header.Get("ETag")
	if g.Str("title") != "Fixture task" || g.Str("project_id") != x.project.String() || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("get = %s (ETag %q)", g.Raw, etag)
	}

	// PATCH is a merge patch: only the members sent change.
	p := servicetest.Expect(t, x.do(t, x.member, "PATCH", `{"status":"in_progress","assignee_id":"`+x.memberID.String()+`","due_date":"2027-05-01"}`,
		"Content-Type", "application/merge-patch+json", "If-Match", etag), 200)
	if p.Str("status") != "in_progress" || p.Str("assignee_id") != x.memberID.String() || p.Str("title") != "Fixture task" ||
		p.Str("due_date") != "2027-05-01" || p.Header.Get("ETag") == etag {
		t.Fatalf("patch = %s (ETag %q)", p.Raw, p.Header.Get("ETag"))
	}
	// The first ETag is stale now: every conditional write with it is refused, and nothing changes.
	for _, c := range []struct {
		method string
		body   any
	}{{"PATCH", map[string]any{"title": "lost"}}, {"PUT", map[string]any{"title": "lost"}}, {"DELETE", nil}} {
		servicetest.ExpectProblem(t, x.do(t, x.member, c.method, c.body, "If-Match", etag), 412, "precondition_failed")
	}
	cur := p.Header.Get("ETag")
	if g := servicetest.Expect(t, x.do(t, x.member, "GET", nil), 200); g.Header.Get("ETag") != cur || g.Str("title") != "Fixture task" {
		t.Fatalf("after refused writes: %s (ETag %q, want %q)", g.Raw, g.Header.Get("ETag"), cur)
	}
	// null clears the assignee and the due date; a list of tags matches when one is current.
	p = servicetest.Expect(t, x.do(t, x.member, "PATCH", `{"assignee_id":null,"due_date":null}`, "If-Match", `"stale", `+cur), 200)
	if p.Body["assignee_id"] != nil || p.Body["due_date"] != nil || p.Str("status") != "in_progress" {
		t.Fatalf("patch with nulls = %s", p.Raw)
	}
	// PUT replaces every field; "*" matches any current version; no If-Match writes unconditionally.
	u := servicetest.Expect(t, x.do(t, x.member, "PUT", map[string]any{"title": "Replaced", "priority": "urgent"}, "If-Match", "*"), 200)
	if u.Str("title") != "Replaced" || u.Str("priority") != "urgent" || u.Str("status") != "todo" || len(u.Body["labels"].([]any)) != 0 {
		t.Fatalf("put = %s", u.Raw)
	}
	u = servicetest.Expect(t, x.do(t, x.member, "PUT", map[string]any{"title": "Unconditional"}), 200)
	if u.Str("title") != "Unconditional" {
		t.Fatalf("put without If-Match = %s", u.Raw)
	}
	servicetest.ExpectProblem(t, x.do(t, x.member, "DELETE", nil, "If-Match", `W/`+u.Header.Get("ETag")), 412, "precondition_failed")
	servicetest.Expect(t, x.do(t, x.member, "DELETE", nil, "If-Match", u.Header.Get("ETag")), 204)
	for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
		var body any
		if m == "PUT" || m == "PATCH" {
			body = map[string]any{"title": "x"}
		}
		servicetest.ExpectProblem(t, x.do(t, x.member, m, body), 404, "not_found")
	}
}

func TestTaskWritesRefuseBadInput(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)
	stranger := x.f.Member(t, "member").IdentityID
	tests := []struct {
		name   string
		method string
		body   any
		status int
		code   string
		fields []string
	}{
		{"put without title", "PUT", map[string]any{"status": "todo"}, 422, "validation_failed", []string{"title"}},
		{"put with every field wrong", "PUT", map[string]any{"title": " ", "status": "x", "priority": "x", "assignee_id": "x", "due_date": "x", "labels": []string{""}},
			422, "validation_failed", []string{"title", "status", "priority", "assignee_id", "due_date", "labels"}},
		{"patch null title", "PATCH", `{"title":null}`, 422, "validation_failed", []string{"title"}},
		{"patch null status", "PATCH", `{"status":null}`, 422, "validation_failed", []string{"status"}},
		{"patch null priority", "PATCH", `{"priority":null}`, 422, "validation_failed", []string{"priority"}},
		{"patch null position", "PATCH", `{"position":null}`, 422, "validation_failed", []string{"position"}},
		{"patch title of the wrong type", "PATCH", `{"title":5}`, 422, "validation_failed", []string{"title"}},
		{"patch labels of the wrong type", "PATCH", `{"labels":"a,b"}`, 422, "validation_failed", []string{"labels"}},
		{"patch too many labels", "PATCH", map[string]any{"labels": strings.Split("a b c d e f g h i j k l m n o p q r s t u", " ")}, 422, "validation_failed", []string{"labels"}},
		{"patch long label", "PATCH", map[string]any{"labels": []string{strings.Repeat("l", 51)}}, 422, "validation_failed", []string{"labels"}},
		{"patch long description", "PATCH", map[string]any{"description": strings.Repeat("d", 20001)}, 422, "validation_failed", []string{"description"}},
		{"patch due date", "PATCH", map[string]any{"due_date": "2027-02-29"}, 422, "validation_failed", []string{"due_date"}},
		{"patch unknown field", "PATCH", `{"project_id":"` + uuid.NewString() + `"}`, 422, "validation_failed", []string{"project_id"}},
		{"assign a viewer", "PATCH", map[string]any{"assignee_id": x.viewerID}, 422, "validation_failed", []string{"assignee_id"}},
		{"assign a non-member", "PATCH", map[string]any{"assignee_id": uuid.New()}, 422, "validation_failed", []string{"assignee_id"}},
		{"assign another organization's member", "PUT", map[string]any{"title": "t", "assignee_id": stranger}, 422, "validation_failed", []string{"assignee_id"}},
		{"malformed", "PATCH", `{"title"`, 400, "malformed_json", nil},
		{"not JSON", "PATCH", `{}`, 415, "unsupported_media_type", nil},
		{"an array", "PUT", `[]`, 400, "malformed_json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.code == "unsupported_media_type" {
				header = []string{"Content-Type", "text/plain"}
			}
			res := x.do(t, x.member, tc.method, tc.body, header...)
			servicetest.ExpectProblem(t, res, tc.status, tc.code)
			var fields []string
			errs, _ := res.Body["errors"].([]any)
			for _, e := range errs {
				fields = append(fields, e.(map[string]any)["field"].(string))
			}
			if !slices.Equal(fields, tc.fields) {
				t.Fatalf("failing fields %v, want %v", fields, tc.fields)
			}
		})
	}
	if g := servicetest.Expect(t, x.do(t, x.member, "GET", nil), 200); g.Str("title") != "Fixture task" || g.Body["assignee_id"] != nil {
		t.Fatalf("refused writes changed the task: %s", g.Raw)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: "/v1/tasks/42", Bearer: x.member}), 404, "not_found")
	servicetest.ExpectProblem(t, servicetest.Do(t, x.h, servicetest.Request{Method: "GET", Path: "/v1/tasks/" + uuid.NewString(), Bearer: x.member}), 404, "not_found")
}

func TestTaskAssignment(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)
	for _, who := range []uuid.UUID{x.memberID, x.ownerID} {
		p := servicetest.Expect(t, x.do(t, x.member, "PATCH", map[string]any{"assignee_id": who}), 200)
		if p.Str("assignee_id") != who.String() {
			t.Fatalf("assigned %s", p.Raw)
		}
	}
}

func TestTaskRoutesPermissions(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)
	for _, c := range []struct {
		method string
		body   any
	}{{"PUT", map[string]any{"title": "no"}}, {"PATCH", map[string]any{"title": "no"}}, {"DELETE", nil}} {
		servicetest.ExpectProblem(t, x.do(t, x.viewer, c.method, c.body), 403, "forbidden")
		servicetest.ExpectProblem(t, x.do(t, "", c.method, c.body), 401, "unauthenticated")
	}
	servicetest.Expect(t, x.do(t, x.viewer, "GET", nil), 200)
	servicetest.ExpectProblem(t, x.do(t, "", "GET", nil), 401, "unauthenticated")
}

// TestTaskRoutesAnotherTenant: tenant B's token on tenant A's task id is 404 on every route, with or without
// If-Match, and A's task is unchanged.
func TestTaskRoutesAnotherTenant(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)
	etag := servicetest.Expect(t, x.do(t, x.member, "GET", nil), 200).Header.Get("ETag")
	b := x.f.Token(t, x.f.Member(t, "owner"))
	for _, c := range []struct {
		method string
		body   any
	}{{"GET", nil}, {"PUT", map[string]any{"title": "taken"}}, {"PATCH", map[string]any{"title": "taken"}}, {"DELETE", nil}} {
		servicetest.ExpectProblem(t, x.do(t, b, c.method, c.body), 404, "not_found")
		servicetest.ExpectProblem(t, x.do(t, b, c.method, c.body, "If-Match", etag), 404, "not_found")
	}
	if g := servicetest.Expect(t, x.do(t, x.member, "GET", nil), 200); g.Header.Get("ETag") != etag || g.Str("title") != "Fixture task" {
		t.Fatalf("A's task after B's attempts: %s", g.Raw)
	}
}

func TestTaskOfDeletedProjectIsGone(t *testing.T) {
	t.Parallel()
	x := newTaskFx(t)
	if _, err := x.f.DB.Owner.Exec(context.Background(), `UPDATE tenant.projects SET deleted_at = now() WHERE tenant_id = $1 AND id = $2`, x.tenant, x.project); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method string
		body   any
	}{{"GET", nil}, {"PUT", map[string]any{"title": "x"}}, {"PATCH", map[string]any{"title": "x"}}, {"DELETE", nil}} {
		servicetest.ExpectProblem(t, x.do(t, x.owner, c.method, c.body), 404, "not_found")
	}
}
