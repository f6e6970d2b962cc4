package tasks

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/storage/storagetest"
	"github.com/google/uuid"
	"github.com/sethvargo/go-envconfig"
)

type call = servicetest.Request

// workFixture is the comment and attachment routes over a private database and an in-process Cloud Storage,
// reached through the real storage client configured as a deployment would configure it.
type workFixture struct {
	*servicetest.Fixture
	h    http.Handler
	fake *storagetest.Fake
}

func newWorkFixture(t *testing.T) *workFixture {
	t.Helper()
	f := servicetest.New(t)
	fake := storagetest.New(t)
	store, err := openAttachments(context.Background(), f.Env, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"ATTACHMENTS_BUCKET":    storagetest.Bucket,
		"STORAGE_EMULATOR_HOST": fake.Host,
	})))
	if err != nil {
		t.Fatal(err)
	}
	mux := f.Env.Mux()
	registerComments(f.Env, mux)
	mountAttachments(f.Env, mux, store)
	return &workFixture{Fixture: f, h: f.Env.Handler(mux), fake: fake}
}

// task writes a live project and task of tenant as the table owner, so these tests do not lean on the task
// routes, and returns the task's id.
func (w *workFixture) task(t *testing.T, tenant uuid.UUID) string {
	t.Helper()
	project, task, creator := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.New()
	ctx := context.Background()
	if _, err := w.DB.Owner.Exec(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'P', $3)`, tenant, project, creator); err != nil {
		t.Fatal(err)
	}
	if _, err := w.DB.Owner.Exec(ctx, `INSERT INTO tenant.tasks (tenant_id, id, project_id, title, created_by) VALUES ($1, $2, $3, 'T', $4)`,
		tenant, task, project, creator); err != nil {
		t.Fatal(err)
	}
	return task.String()
}

func (w *workFixture) do(t *testing.T, bearer string, c call, status int) servicetest.Response {
	t.Helper()
	c.Bearer = bearer
	return servicetest.Expect(t, servicetest.Do(t, w.h, c), status)
}

func (w *workFixture) problem(t *testing.T, bearer string, c call, status int, code string) servicetest.Response {
	t.Helper()
	c.Bearer = bearer
	res := servicetest.Do(t, w.h, c)
	servicetest.ExpectProblem(t, res, status, code)
	return res
}

// failingField returns the first failing field of a validation problem.
func failingField(res servicetest.Response) string {
	errs, _ := res.Body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	f, _ := errs[0].(map[string]any)["field"].(string)
	return f
}

func TestCommentsCRUD(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	member := w.Member(t, "member")
	tok := w.Token(t, member)
	viewer := w.Token(t, w.Join(t, member.TenantID, "viewer"))
	task := w.task(t, member.TenantID)

	c := w.do(t, tok, call{Method: "POST", Path: "/v1/tasks/" + task + "/comments", Body: map[string]any{"body": " Looks good "}}, 201)
	id := c.Str("id")
	if c.Str("body") != "Looks good" || c.Str("task_id") != task || c.Str("author_id") != member.IdentityID.String() ||
		c.Str("created_at") == "" || c.Str("updated_at") == "" || c.Header.Get("Location") != "/v1/comments/"+id {
		t.Fatalf("create = %s", c.Raw)
	}
	second := w.do(t, tok, call{Method: "POST", Path: "/v1/tasks/" + task + "/comments", Body: map[string]any{"body": "second"}}, 201).Str("id")

	// Oldest first, and a viewer may read.
	l := w.do(t, viewer, call{Method: "GET", Path: "/v1/tasks/" + task + "/comments?limit=1"}, 200)
	if items := l.Items(); len(items) != 1 || items[0]["id"] != id || l.Str("next_cursor") == "" {
		t.Fatalf("first page = %s", l.Raw)
	}
	l = w.do(t, viewer, call{Method: "GET", Path: "/v1/tasks/" + task + "/comments?limit=1&cursor=" + l.Str("next_cursor")}, 200)
	if items := l.Items(); len(items) != 1 || items[0]["id"] != second || l.Body["next_cursor"] != nil {
		t.Fatalf("second page = %s", l.Raw)
	}

	if u := w.do(t, tok, call{Method: "PUT", Path: "/v1/comments/" + id, Body: map[string]any{"body": "Looks great"}}, 200); u.Str("body") != "Looks great" || u.Str("id") != id {
		t.Fatalf("update = %s", u.Raw)
	}
	w.do(t, tok, call{Method: "DELETE", Path: "/v1/comments/" + id}, 204)
	w.problem(t, tok, call{Method: "PUT", Path: "/v1/comments/" + id, Body: map[string]any{"body": "again"}}, 404, "not_found")
	w.problem(t, tok, call{Method: "DELETE", Path: "/v1/comments/" + id}, 404, "not_found")
	if l := w.do(t, tok, call{Method: "GET", Path: "/v1/tasks/" + task + "/comments"}, 200); len(l.Items()) != 1 {
		t.Fatalf("list after delete = %s", l.Raw)
	}
	w.problem(t, tok, call{Method: "GET", Path: "/v1/tasks/" + uuid.NewString() + "/comments"}, 404, "not_found")
	w.problem(t, tok, call{Method: "POST", Path: "/v1/tasks/" + uuid.NewString() + "/comments", Body: map[string]any{"body": "x"}}, 404, "not_found")

	// Deleting the task hides its comments.
	if _, err := w.DB.Owner.Exec(t.Context(), `UPDATE tenant.tasks SET deleted_at = now() WHERE id = $1`, task); err != nil {
		t.Fatal(err)
	}
	w.problem(t, tok, call{Method: "GET", Path: "/v1/tasks/" + task + "/comments"}, 404, "not_found")
	w.problem(t, tok, call{Method: "PUT", Path: "/v1/comments/" + second, Body: map[string]any{"body": "x"}}, 404, "not_found")
}

func TestCommentsRefuseBadInput(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	p := w.Member(t, "member")
	tok := w.Token(t, p)
	task := w.task(t, p.TenantID)
	id := w.do(t, tok, call{Method: "POST", Path: "/v1/tasks/" + task + "/comments", Body: map[string]any{"body": "ok"}}, 201).Str("id")
	post, put := "/v1/tasks/"+task+"/comments", "/v1/comments/"+id
	tests := []struct {
		name   string
		c      call
		status int
		code   string
		field  string
	}{
		{"missing body", call{Method: "POST", Path: post, Body: map[string]any{}}, 422, "validation_failed", "body"},
		{"blank body", call{Method: "POST", Path: post, Body: map[string]any{"body": "   "}}, 422, "validation_failed", "body"},
		{"body too long", call{Method: "POST", Path: post, Body: map[string]any{"body": strings.Repeat("b", 10001)}}, 422, "validation_failed", "body"},
		{"body not a string", call{Method: "POST", Path: post, Body: `{"body":42}`}, 422, "validation_failed", "body"},
		{"unknown field", call{Method: "POST", Path: post, Body: `{"body":"a","author_id":"x"}`}, 422, "validation_failed", "author_id"},
		{"malformed", call{Method: "POST", Path: post, Body: `{"body"`}, 400, "malformed_json", ""},
		{"bad limit", call{Method: "GET", Path: post + "?limit=101"}, 422, "validation_failed", "limit"},
		{"bad cursor", call{Method: "GET", Path: post + "?cursor=nope"}, 422, "invalid_cursor", "cursor"},
		{"task id not a uuid", call{Method: "GET", Path: "/v1/tasks/42/comments"}, 404, "not_found", ""},
		{"comment id not a uuid", call{Method: "PUT", Path: "/v1/comments/42", Body: map[string]any{"body": "a"}}, 404, "not_found", ""},
		{"update blank", call{Method: "PUT", Path: put, Body: map[string]any{"body": ""}}, 422, "validation_failed", "body"},
		{"update NUL", call{Method: "PUT", Path: put, Body: map[string]any{"body": "a\u0000"}}, 422, "validation_failed", "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := w.problem(t, tok, tc.c, tc.status, tc.code)
			if tc.field != "" && failingField(res) != tc.field {
				t.Fatalf("failing fields %v, want %s", res.Body["errors"], tc.field)
			}
		})
	}
	if l := w.do(t, tok, call{Method: "GET", Path: post}, 200); len(l.Items()) != 1 || l.Items()[0]["body"] != "ok" {
		t.Fatalf("bad requests changed the comments: %s", l.Raw)
	}
}

// TestCommentsPermissions: viewers may only read; members edit and delete only their own comments; admins
// and owners moderate any.
func TestCommentsPermissions(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	author := w.Member(t, "member")
	tenant := author.TenantID
	at := w.Token(t, author)
	other := w.Token(t, w.Join(t, tenant, "member"))
	viewer := w.Token(t, w.Join(t, tenant, "viewer"))
	admin := w.Token(t, w.Join(t, tenant, "admin"))
	owner := w.Token(t, w.Join(t, tenant, "owner"))
	task := w.task(t, tenant)
	newComment := func() string {
		return w.do(t, at, call{Method: "POST", Path: "/v1/tasks/" + task + "/comments", Body: map[string]any{"body": "mine"}}, 201).Str("id")
	}
	id := newComment()

	w.problem(t, viewer, call{Method: "POST", Path: "/v1/tasks/" + task + "/comments", Body: map[string]any{"body": "no"}}, 403, "forbidden")
	w.problem(t, viewer, call{Method: "PUT", Path: "/v1/comments/" + id, Body: map[string]any{"body": "no"}}, 403, "forbidden")
	w.problem(t, viewer, call{Method: "DELETE", Path: "/v1/comments/" + id}, 403, "forbidden")
	w.problem(t, other, call{Method: "PUT", Path: "/v1/comments/" + id, Body: map[string]any{"body": "no"}}, 403, "not_author")
	w.problem(t, other, call{Method: "DELETE", Path: "/v1/comments/" + id}, 403, "not_author")
	servicetest.ExpectProblem(t, servicetest.Do(t, w.h, call{Method: "GET", Path: "/v1/tasks/" + task + "/comments"}), 401, "unauthenticated")

	if u := w.do(t, admin, call{Method: "PUT", Path: "/v1/comments/" + id, Body: map[string]any{"body": "moderated"}}, 200); u.Str("author_id") != author.IdentityID.String() {
		t.Fatalf("moderated comment = %s; the author must stay", u.Raw)
	}
	w.do(t, admin, call{Method: "DELETE", Path: "/v1/comments/" + id}, 204)
	w.do(t, owner, call{Method: "DELETE", Path: "/v1/comments/" + newComment()}, 204)
	if l := w.do(t, viewer, call{Method: "GET", Path: "/v1/tasks/" + task + "/comments"}, 200); len(l.Items()) != 0 {
		t.Fatalf("list = %s", l.Raw)
	}
}

// TestCommentsAnotherTenantSeesNothing: tenant B's token on tenant A's task and comment ids is 404 on every
// route, and B's own list shows nothing of A's.
func TestCommentsAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	w := newWorkFixture(t)
	pa, pb := w.Member(t, "owner"), w.Member(t, "owner")
	a, b := w.Token(t, pa), w.Token(t, pb)
	taskA, taskB := w.task(t, pa.TenantID), w.task(t, pb.TenantID)
	id := w.do(t, a, call{Method: "POST", Path: "/v1/tasks/" + taskA + "/comments", Body: map[string]any{"body": "A only"}}, 201).Str("id")

	for _, c := range []call{
		{Method: "GET", Path: "/v1/tasks/" + taskA + "/comments"},
		{Method: "POST", Path: "/v1/tasks/" + taskA + "/comments", Body: map[string]any{"body": "B was here"}},
		{Method: "PUT", Path: "/v1/comments/" + id, Body: map[string]any{"body": "B was here"}},
		{Method: "DELETE", Path: "/v1/comments/" + id},
	} {
		w.problem(t, b, c, 404, "not_found")
	}
	if l := w.do(t, b, call{Method: "GET", Path: "/v1/tasks/" + taskB + "/comments"}, 200); len(l.Items()) != 0 {
		t.Fatalf("B lists %s", l.Raw)
	}
	if l := w.do(t, a, call{Method: "GET", Path: "/v1/tasks/" + taskA + "/comments"}, 200); len(l.Items()) != 1 || l.Items()[0]["body"] != "A only" {
		t.Fatalf("A's comments after B's attempts: %s", l.Raw)
	}
}
