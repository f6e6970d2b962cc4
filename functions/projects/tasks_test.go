package projects

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/google/uuid"
)

// taskFixture is an organization with an owner, a member, a viewer and an outsider (a member of the
// organization but not of the project), one project the member created (and so owns), and the function.
type taskFixture struct {
	h                              http.Handler
	f                              *servicetest.Fixture
	owner, member, viewer          string // tokens
	memberID, viewerID, outsiderID uuid.UUID
	project                        string
}

func newTaskFixture(t *testing.T) taskFixture {
	t.Helper()
	f := servicetest.New(t)
	x := taskFixture{h: New(f.Env), f: f}
	owner := f.Member(t, "owner")
	member, viewer := f.Join(t, owner.TenantID, "member"), f.Join(t, owner.TenantID, "viewer")
	x.owner, x.member, x.viewer = f.Token(t, owner), f.Token(t, member), f.Token(t, viewer)
	x.memberID, x.viewerID = member.IdentityID, viewer.IdentityID
	x.outsiderID = f.Join(t, owner.TenantID, "member").IdentityID
	x.project = servicetest.Expect(t, x.do(t, x.member, "POST", "/v1/projects", map[string]any{"name": "Apollo"}), 201).Str("id")
	return x
}

func (x taskFixture) do(t *testing.T, token, method, path string, body any) servicetest.Response {
	t.Helper()
	return servicetest.Do(t, x.h, servicetest.Request{Method: method, Path: path, Bearer: token, Body: body})
}

func taskTitles(res servicetest.Response) string {
	var titles []string
	for _, it := range res.Items() {
		titles = append(titles, fmt.Sprint(it["title"]))
	}
	return strings.Join(titles, ",")
}

func TestTaskCreateAndList(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	path := "/v1/projects/" + x.project + "/tasks"
	c := servicetest.Expect(t, x.do(t, x.member, "POST", path, map[string]any{
		"title": "Launch", "description": "go", "status": "in_progress", "priority": "high", "assignee_id": x.memberID,
		"due_date": "2027-03-01", "labels": []string{"Rocket", "rocket "}, "position": 2.5,
	}), 201)
	id := c.Str("id")
	if c.Header.Get("Location") != "/v1/tasks/"+id || c.Header.Get("ETag") == "" {
		t.Fatalf("Location %q, ETag %q", c.Header.Get("Location"), c.Header.Get("ETag"))
	}
	var keys []string
	for k := range c.Body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "assignee_id,created_at,description,due_date,id,labels,position,priority,project_id,status,title,updated_at" {
		t.Fatalf("a task reads %v", keys)
	}
	if c.Str("project_id") != x.project || c.Str("status") != "in_progress" || c.Str("priority") != "high" || c.Str("assignee_id") != x.memberID.String() ||
		c.Str("due_date") != "2027-03-01" || fmt.Sprint(c.Body["labels"]) != "[rocket]" || c.Body["position"] != 2.5 {
		t.Fatalf("created %s", c.Raw)
	}
	d := servicetest.Expect(t, x.do(t, x.member, "POST", path, map[string]any{"title": "Defaults"}), 201)
	if d.Str("status") != "todo" || d.Str("priority") != "medium" || d.Body["assignee_id"] != nil || d.Body["due_date"] != nil ||
		fmt.Sprint(d.Body["labels"]) != "[]" || d.Body["position"] != 3.5 {
		t.Fatalf("defaults: %s", d.Raw)
	}

	l := servicetest.Expect(t, x.do(t, x.viewer, "GET", path, nil), 200)
	if taskTitles(l) != "Defaults,Launch" || l.Body["next_cursor"] != nil {
		t.Fatalf("list = %s", l.Raw)
	}
	for query, want := range map[string]string{
		"?status=todo":                                "Defaults",
		"?status=todo,in_progress&order=created":      "Launch,Defaults",
		"?assignee=" + x.memberID.String():            "Launch",
		"?assignee=none":                              "Defaults",
		"?label=ROCKET":                               "Launch",
		"?due_before=2027-03-02&due_after=2027-02-28": "Launch",
		"?order=-priority":                            "Launch,Defaults",
		"?order=position":                             "Launch,Defaults",
		"?order=-position&limit=1":                    "Defaults",
	} {
		if got := taskTitles(servicetest.Expect(t, x.do(t, x.viewer, "GET", path+query, nil), 200)); got != want {
			t.Errorf("GET %s = %s, want %s", query, got, want)
		}
	}
}

// TestTaskListPagesOnce walks the list over HTTP, in two orderings, while tasks are created between pages.
func TestTaskListPagesOnce(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	path := "/v1/projects/" + x.project + "/tasks"
	priorities := []string{"low", "medium", "high", "urgent"}
	created := 0
	create := func() {
		servicetest.Expect(t, x.do(t, x.member, "POST", path, map[string]any{"title": fmt.Sprint("t", created), "priority": priorities[created%4]}), 201)
		created++
	}
	for range 11 {
		create()
	}
	for _, order := range []string{"-created", "priority"} {
		before := servicetest.Expect(t, x.do(t, x.member, "GET", path+"?limit=100&order="+order, nil), 200).Items()
		seen := map[string]int{}
		next := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatal("the walk does not end")
			}
			q := "?limit=3&order=" + order
			if next != "" {
				q += "&cursor=" + next
			}
			pg := servicetest.Expect(t, x.do(t, x.member, "GET", path+q, nil), 200)
			for _, it := range pg.Items() {
				seen[it["id"].(string)]++
			}
			create()
			c, _ := pg.Body["next_cursor"].(string)
			if c == "" {
				break
			}
			next = c
		}
		for _, it := range before {
			if seen[it["id"].(string)] != 1 {
				t.Errorf("%s: task %v seen %d times, want once", order, it["title"], seen[it["id"].(string)])
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: task %s seen %d times", order, id, n)
			}
		}
	}
}

func TestTaskCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	path := "/v1/projects/" + x.project + "/tasks"
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"missing title", "POST", path, map[string]any{"description": "d"}, 422, "validation_failed", []string{"title"}},
		{"long title", "POST", path, map[string]any{"title": strings.Repeat("t", 501)}, 422, "validation_failed", []string{"title"}},
		{"long description", "POST", path, map[string]any{"title": "t", "description": strings.Repeat("d", 20001)}, 422, "validation_failed", []string{"description"}},
		{"status", "POST", path, map[string]any{"title": "t", "status": "open"}, 422, "validation_failed", []string{"status"}},
		{"priority", "POST", path, map[string]any{"title": "t", "priority": "p1"}, 422, "validation_failed", []string{"priority"}},
		{"priority as a number", "POST", path, `{"title":"t","priority":2}`, 422, "validation_failed", []string{"priority"}},
		{"assignee not an id", "POST", path, map[string]any{"title": "t", "assignee_id": "bob"}, 422, "validation_failed", []string{"assignee_id"}},
		{"assignee not a member", "POST", path, map[string]any{"title": "t", "assignee_id": uuid.New()}, 422, "validation_failed", []string{"assignee_id"}},
		{"assignee a viewer", "POST", path, map[string]any{"title": "t", "assignee_id": x.viewerID}, 422, "validation_failed", []string{"assignee_id"}},
		{"assignee not of the project", "POST", path, map[string]any{"title": "t", "assignee_id": x.outsiderID}, 422, "validation_failed", []string{"assignee_id"}},
		{"due date", "POST", path, map[string]any{"title": "t", "due_date": "next week"}, 422, "validation_failed", []string{"due_date"}},
		{"labels", "POST", path, map[string]any{"title": "t", "labels": []string{""}}, 422, "validation_failed", []string{"labels"}},
		{"labels not a list", "POST", path, `{"title":"t","labels":"a"}`, 422, "validation_failed", []string{"labels"}},
		{"position not a number", "POST", path, `{"title":"t","position":"top"}`, 422, "validation_failed", []string{"position"}},
		{"unknown field", "POST", path, `{"title":"t","version":3}`, 422, "validation_failed", []string{"version"}},
		{"every field", "POST", path, map[string]any{"status": "x", "priority": "x", "due_date": "x"}, 422, "validation_failed", []string{"title", "status", "priority", "due_date"}},
		{"malformed", "POST", path, `{"title"`, 400, "malformed_json", nil},
		{"project id not a uuid", "POST", "/v1/projects/42/tasks", map[string]any{"title": "t"}, 404, "not_found", nil},
		{"unknown project", "POST", "/v1/projects/" + uuid.NewString() + "/tasks", map[string]any{"title": "t"}, 404, "not_found", nil},
		{"list of an unknown project", "GET", "/v1/projects/" + uuid.NewString() + "/tasks", nil, 404, "not_found", nil},
		{"list filters", "GET", path + "?status=open&assignee=x&label=&due_before=x&due_after=2027-02-30&order=name", nil, 422, "validation_failed",
			[]string{"status", "assignee", "label", "due_before", "due_after", "order"}},
		{"list limit", "GET", path + "?limit=101", nil, 422, "validation_failed", []string{"limit"}},
		{"list cursor", "GET", path + "?cursor=abc", nil, 422, "invalid_cursor", []string{"cursor"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := x.do(t, x.member, tc.method, tc.path, tc.body)
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
	if l := x.do(t, x.member, "GET", path, nil); len(l.Items()) != 0 {
		t.Fatalf("refused requests created tasks: %s", l.Raw)
	}
}

func TestTaskRoutesPermissions(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	path := "/v1/projects/" + x.project + "/tasks"
	servicetest.ExpectProblem(t, x.do(t, x.viewer, "POST", path, map[string]any{"title": "no"}), 403, "forbidden")
	servicetest.Expect(t, x.do(t, x.viewer, "GET", path, nil), 200)
	servicetest.ExpectProblem(t, x.do(t, "", "GET", path, nil), 401, "unauthenticated")
	servicetest.ExpectProblem(t, x.do(t, "", "POST", path, map[string]any{"title": "no"}), 401, "unauthenticated")
}

// TestTaskRoutesAnotherTenant: tenant B's token on tenant A's project is 404 on both routes, and B's own
// project lists nothing of A's.
func TestTaskRoutesAnotherTenant(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	path := "/v1/projects/" + x.project + "/tasks"
	servicetest.Expect(t, x.do(t, x.member, "POST", path, map[string]any{"title": "A's secret", "labels": []string{"secret"}}), 201)
	b := x.f.Token(t, x.f.Member(t, "owner"))
	servicetest.ExpectProblem(t, x.do(t, b, "POST", path, map[string]any{"title": "planted"}), 404, "not_found")
	servicetest.ExpectProblem(t, x.do(t, b, "GET", path, nil), 404, "not_found")
	bProject := servicetest.Expect(t, x.do(t, b, "POST", "/v1/projects", map[string]any{"name": "B"}), 201).Str("id")
	if l := servicetest.Expect(t, x.do(t, b, "GET", "/v1/projects/"+bProject+"/tasks?label=secret", nil), 200); len(l.Items()) != 0 {
		t.Fatalf("B lists %s", l.Raw)
	}
	servicetest.ExpectProblem(t, x.do(t, b, "POST", "/v1/projects/"+bProject+"/tasks", map[string]any{"title": "t", "assignee_id": x.memberID}), 422, "validation_failed")
	if l := x.do(t, x.member, "GET", path, nil); taskTitles(l) != "A's secret" {
		t.Fatalf("A's tasks after B's attempts: %s", l.Raw)
	}
}

func TestTasksOfDeletedProject(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	path := "/v1/projects/" + x.project + "/tasks"
	servicetest.Expect(t, x.do(t, x.member, "POST", path, map[string]any{"title": "t"}), 201)
	servicetest.Expect(t, x.do(t, x.owner, "DELETE", "/v1/projects/"+x.project, nil), 204)
	servicetest.ExpectProblem(t, x.do(t, x.member, "GET", path, nil), 404, "not_found")
	servicetest.ExpectProblem(t, x.do(t, x.member, "POST", path, map[string]any{"title": "t"}), 404, "not_found")
}

func TestTaskCreateHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	x := newTaskFixture(t)
	create := servicetest.Request{Method: "POST", Path: "/v1/projects/" + x.project + "/tasks", Bearer: x.member,
		Body: map[string]any{"title": "once"}, Header: map[string]string{"Idempotency-Key": "task-once"}}
	first := servicetest.Expect(t, servicetest.Do(t, x.h, create), 201)
	again := servicetest.Expect(t, servicetest.Do(t, x.h, create), 201)
	if again.Str("id") != first.Str("id") || again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("retry answered %s (replayed %q)", again.Raw, again.Header.Get("Idempotent-Replayed"))
	}
	if l := x.do(t, x.member, "GET", "/v1/projects/"+x.project+"/tasks", nil); len(l.Items()) != 1 {
		t.Fatalf("%d tasks after a retry, want 1", len(l.Items()))
	}
}
