package work_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

// liveTask is a task written as the owner, so these tests do not lean on the task store.
type liveTask struct {
	tenant, project, task uuid.UUID
}

// newLiveTask writes tenant's directory row (with plan) unless it exists, a project and a task.
func newLiveTask(t testing.TB, d *dbtest.Database, tenant uuid.UUID, plan string) liveTask {
	t.Helper()
	ctx := context.Background()
	lt := liveTask{tenant: tenant, project: uuid.Must(uuid.NewV7()), task: uuid.Must(uuid.NewV7())}
	creator := uuid.New()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO directory.tenants (id, slug, name, plan) VALUES ($1, $2, 'Fixture', $3) ON CONFLICT (id) DO NOTHING`,
			[]any{tenant, "t-" + strings.ReplaceAll(tenant.String(), "-", "")[:20], plan}},
		{`INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'Fixture project', $3)`, []any{tenant, lt.project, creator}},
		{`INSERT INTO tenant.tasks (tenant_id, id, project_id, title, created_by) VALUES ($1, $2, $3, 'Fixture task', $4)`,
			[]any{tenant, lt.task, lt.project, creator}},
	} {
		if _, err := d.Owner.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	return lt
}

// setDeleted soft-deletes (or, with deleted false, restores) a row of table as the owner.
func setDeleted(t testing.TB, d *dbtest.Database, table string, tenant, id uuid.UUID, deleted bool) {
	t.Helper()
	sql := `UPDATE tenant.` + table + ` SET deleted_at = CASE WHEN $3 THEN now() END WHERE tenant_id = $1 AND id = $2`
	if _, err := d.Owner.Exec(context.Background(), sql, tenant, id, deleted); err != nil {
		t.Fatal(err)
	}
}

// trail returns the actions recorded for entity, oldest first.
func trail(t testing.TB, d *dbtest.Database, tenant, entity uuid.UUID) string {
	t.Helper()
	var s *string
	if err := d.Owner.QueryRow(context.Background(), `SELECT string_agg(action, ',' ORDER BY id) FROM tenant.activity
		WHERE tenant_id = $1 AND entity_id = $2`, tenant, entity).Scan(&s); err != nil {
		t.Fatal(err)
	}
	if s == nil {
		return ""
	}
	return *s
}

// outboxOf returns the types of tenant's events of the given prefix, oldest first, and the data of the first.
func outboxOf(t testing.TB, d *dbtest.Database, tenant uuid.UUID, prefix string) (string, map[string]any) {
	t.Helper()
	var types *string
	var first []byte
	if err := d.Owner.QueryRow(context.Background(), `SELECT string_agg(type, ',' ORDER BY id), (array_agg(data ORDER BY id))[1]
		FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE $2 || '%'`, tenant, prefix).Scan(&types, &first); err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	_ = json.Unmarshal(first, &data)
	if types == nil {
		return "", nil
	}
	return *types, data
}

func TestCommentLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewComments(d.DB)
	lt := newLiveTask(t, d, uuid.New(), "free")
	author, other, admin := uuid.New(), uuid.New(), uuid.New()

	c, err := s.Create(ctx, lt.tenant, author, lt.task, work.CommentInput{Body: "  first!  "})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if c.Body != "first!" || c.AuthorID != author || c.TaskID != lt.task || c.ID.Version() != 7 {
		t.Fatalf("created %+v", c)
	}
	if l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 10}); err != nil || len(l.Items) != 1 || l.Items[0] != c || l.NextCursor != nil {
		t.Fatalf("list = %+v, %v", l, err)
	}

	if _, err := s.Update(ctx, lt.tenant, other, false, c.ID, work.CommentInput{Body: "hijacked"}); !errors.Is(err, work.ErrNotAuthor) {
		t.Fatalf("update by another member: %v, want ErrNotAuthor", err)
	}
	if err := s.Delete(ctx, lt.tenant, other, false, c.ID); !errors.Is(err, work.ErrNotAuthor) {
		t.Fatalf("delete by another member: %v, want ErrNotAuthor", err)
	}
	up, err := s.Update(ctx, lt.tenant, author, false, c.ID, work.CommentInput{Body: "first, edited"})
	if err != nil || up.Body != "first, edited" || up.UpdatedAt.Before(c.UpdatedAt) {
		t.Fatalf("update by author = %+v, %v", up, err)
	}
	if _, err := s.Update(ctx, lt.tenant, author, false, c.ID, work.CommentInput{Body: "first, edited"}); err != nil {
		t.Fatalf("no-op update: %v", err)
	}
	if up, err = s.Update(ctx, lt.tenant, admin, true, c.ID, work.CommentInput{Body: "moderated"}); err != nil || up.Body != "moderated" || up.AuthorID != author {
		t.Fatalf("update by moderator = %+v, %v", up, err)
	}
	if err := s.Delete(ctx, lt.tenant, author, false, c.ID); err != nil {
		t.Fatalf("delete by author: %v", err)
	}
	if l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 10}); err != nil || len(l.Items) != 0 {
		t.Fatalf("list after delete = %+v, %v; want empty", l.Items, err)
	}
	for name, err := range map[string]error{
		"update": func() error {
			_, err := s.Update(ctx, lt.tenant, author, false, c.ID, work.CommentInput{Body: "x"})
			return err
		}(),
		"delete": s.Delete(ctx, lt.tenant, author, false, c.ID),
	} {
		if !errors.Is(err, db.ErrNotFound) {
			t.Errorf("%s after delete: %v, want not found", name, err)
		}
	}
	if l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 10}); err != nil || len(l.Items) != 0 {
		t.Fatalf("list after delete = %+v, %v", l, err)
	}

	// One activity row and one event per write; the no-op update and the refused attempts left none.
	if got := trail(t, d, lt.tenant, c.ID); got != "created,updated,updated,deleted" {
		t.Fatalf("activity = %s", got)
	}
	types, created := outboxOf(t, d, lt.tenant, "comment.")
	if types != "comment.created,comment.updated,comment.updated,comment.deleted" {
		t.Fatalf("outbox = %s", types)
	}
	if created["comment_id"] != c.ID.String() || created["task_id"] != lt.task.String() || created["project_id"] != lt.project.String() ||
		created["author_id"] != author.String() {
		t.Fatalf("comment.created payload = %v", created)
	}
}

func TestCommentValidation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	s := work.NewComments(d.DB)
	lt := newLiveTask(t, d, uuid.New(), "free")
	c, err := s.Create(context.Background(), lt.tenant, uuid.New(), lt.task, work.CommentInput{Body: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"blank", " \n\t "},
		{"too long", strings.Repeat("é", work.MaxCommentLength+1)},
		{"NUL", "a\x00b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for op, err := range map[string]error{
				"create": func() error {
					_, err := s.Create(context.Background(), lt.tenant, uuid.New(), lt.task, work.CommentInput{Body: tc.body})
					return err
				}(),
				"update": func() error {
					_, err := s.Update(context.Background(), lt.tenant, uuid.New(), true, c.ID, work.CommentInput{Body: tc.body})
					return err
				}(),
			} {
				var fe valid.Errors
				if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "body" {
					t.Fatalf("%s: %v, want a validation error naming body", op, err)
				}
			}
		})
	}
	if _, err := s.Create(context.Background(), lt.tenant, uuid.New(), lt.task, work.CommentInput{Body: strings.Repeat("é", work.MaxCommentLength)}); err != nil {
		t.Fatalf("a body of exactly %d characters: %v", work.MaxCommentLength, err)
	}
	if _, err := s.Create(context.Background(), lt.tenant, uuid.New(), uuid.New(), work.CommentInput{Body: "on nothing"}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("comment on a missing task: %v, want not found", err)
	}
	var n int
	if err := d.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tenant.comments`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d comments stored, want the 2 valid ones", n)
	}
}

// TestCommentsFollowTheirTask: a deleted task's or project's comments are hidden on every method, and come
// back with a restore.
func TestCommentsFollowTheirTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewComments(d.DB)
	lt := newLiveTask(t, d, uuid.New(), "free")
	author := uuid.New()
	c, err := s.Create(ctx, lt.tenant, author, lt.task, work.CommentInput{Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	for _, parent := range []struct{ table string }{{"tasks"}, {"projects"}} {
		id := lt.task
		if parent.table == "projects" {
			id = lt.project
		}
		setDeleted(t, d, parent.table, lt.tenant, id, true)
		for name, err := range map[string]error{
			"create": func() error {
				_, err := s.Create(ctx, lt.tenant, author, lt.task, work.CommentInput{Body: "x"})
				return err
			}(),
			"list": func() error { _, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 5}); return err }(),
			"update": func() error {
				_, err := s.Update(ctx, lt.tenant, author, false, c.ID, work.CommentInput{Body: "x"})
				return err
			}(),
			"delete": s.Delete(ctx, lt.tenant, author, false, c.ID),
		} {
			if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s with its %s deleted: %v, want not found", name, parent.table, err)
			}
		}
		setDeleted(t, d, parent.table, lt.tenant, id, false)
		if l, err := s.List(ctx, lt.tenant, lt.task, page.Request{Limit: 5}); err != nil || len(l.Items) != 1 || l.Items[0].ID != c.ID || l.Items[0].Body != "hello" {
			t.Fatalf("after restoring the %s: %+v, %v", parent.table, l.Items, err)
		}
	}
}

// commentsFixture is a live task on each side, and A's comment on A's task.
type commentsFixture struct {
	isolation.Tenants
	s      *work.Comments
	task   [2]liveTask
	author uuid.UUID
	c      work.Comment
}

// The comment store shows tenant B nothing of A's comments: every method run as B on A's task and comment,
// through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*commentsFixture]{
	Name:   "comments",
	Stores: []string{"Comments"},
	Tables: []string{"tenant.comments"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *commentsFixture {
		f := &commentsFixture{Tenants: isolation.NewTenants(), s: work.NewComments(w.DB), author: uuid.New()}
		for _, side := range []isolation.Side{isolation.A, isolation.B} {
			f.task[side] = newLiveTask(t, d, f.Tenant(side), "free")
		}
		var err error
		if f.c, err = f.s.Create(context.Background(), f.Tenant(isolation.A), f.author, f.task[isolation.A].task, work.CommentInput{Body: "A's secret"}); err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: []isolation.Op[*commentsFixture]{
		{Name: "create", Run: func(ctx context.Context, f *commentsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Create(ctx, f.Tenant(as), f.author, f.task[isolation.A].task, work.CommentInput{Body: "x"})
			return isolation.One(err)
		}},
		{Name: "list", Run: func(ctx context.Context, f *commentsFixture, as isolation.Side) (int, error) {
			l, err := f.s.List(ctx, f.Tenant(as), f.task[isolation.A].task, page.Request{Limit: 5})
			return isolation.Len(l.Items, err)
		}},
		{Name: "update", Run: func(ctx context.Context, f *commentsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Update(ctx, f.Tenant(as), f.author, true, f.c.ID, work.CommentInput{Body: "x"})
			return isolation.One(err)
		}},
		{Name: "delete", Run: func(ctx context.Context, f *commentsFixture, as isolation.Side) (int, error) {
			return isolation.One(f.s.Delete(ctx, f.Tenant(as), f.author, true, f.c.ID))
		}},
		{Name: "list own task", Want: isolation.Nothing, Run: func(ctx context.Context, f *commentsFixture, as isolation.Side) (int, error) {
			l, err := f.s.List(ctx, f.Tenant(as), f.task[as].task, page.Request{Limit: 100})
			return isolation.Len(l.Items, err)
		}},
	},
	Check: func(t *testing.T, d *dbtest.Database, f *commentsFixture) {
		l, err := f.s.List(context.Background(), f.Tenant(isolation.A), f.task[isolation.A].task, page.Request{Limit: 5})
		if err != nil || len(l.Items) != 1 || l.Items[0].ID != f.c.ID || l.Items[0].Body != "A's secret" {
			t.Errorf("A's comments after B's attempt: %+v, %v", l.Items, err)
		}
	},
})

// TestCommentsPaginateEveryRowOnce: oldest first, comments added between pages come after the pages already
// read, so every comment is seen exactly once.
func TestCommentsPaginateEveryRowOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewComments(d.DB)
	lt := newLiveTask(t, d, uuid.New(), "free")
	var order []uuid.UUID
	for i := 0; i < 12; i++ {
		c, err := s.Create(ctx, lt.tenant, uuid.New(), lt.task, work.CommentInput{Body: "c"})
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, c.ID)
	}
	var seen []uuid.UUID
	req := page.Request{Limit: 5}
	for {
		pg, err := s.List(ctx, lt.tenant, lt.task, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range pg.Items {
			seen = append(seen, c.ID)
		}
		if pg.NextCursor == nil {
			break
		}
		c, err := s.Create(ctx, lt.tenant, uuid.New(), lt.task, work.CommentInput{Body: "added between pages"})
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, c.ID)
		if req, err = page.Parse(map[string][]string{"cursor": {*pg.NextCursor}, "limit": {"5"}}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != len(order) {
		t.Fatalf("saw %d comments, want %d", len(seen), len(order))
	}
	for i := range order {
		if seen[i] != order[i] {
			t.Fatalf("comment %d is %s, want %s (oldest first, each once)", i, seen[i], order[i])
		}
	}
}
