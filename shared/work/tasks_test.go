package work_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/coditect/hyperscale/shared/valid/validtest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// taskOrg is an organization in the directory with members of each role, and one live project in its store.
type taskOrg struct {
	tenant, project              uuid.UUID
	owner, admin, member, viewer uuid.UUID
}

// newTaskOrg writes the directory rows and the project as the owner, so these tests lean on no other store.
func newTaskOrg(t testing.TB, d *dbtest.Database) taskOrg {
	t.Helper()
	ctx := context.Background()
	o := taskOrg{tenant: uuid.Must(uuid.NewV7()), project: uuid.Must(uuid.NewV7())}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := d.Owner.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	exec(`INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, 'Fixture')`, o.tenant, "t-"+strings.ReplaceAll(o.tenant.String(), "-", "")[:20])
	for _, m := range []struct {
		role string
		to   *uuid.UUID
	}{{"owner", &o.owner}, {"admin", &o.admin}, {"member", &o.member}, {"viewer", &o.viewer}} {
		*m.to = taskIdentity(t, d, o.tenant, m.role)
	}
	exec(`INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'Fixture project', $3)`, o.tenant, o.project, o.owner)
	return o
}

// taskIdentity adds a new identity to organization tenant with role.
func taskIdentity(t testing.TB, d *dbtest.Database, tenant uuid.UUID, role string) uuid.UUID {
	t.Helper()
	id := uuid.Must(uuid.NewV7())
	ctx := context.Background()
	if _, err := d.Owner.Exec(ctx, `INSERT INTO directory.identities (id, email) VALUES ($1, $2)`, id, id.String()+"@fixture.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Owner.Exec(ctx, `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, $3)`, tenant, id, role); err != nil {
		t.Fatal(err)
	}
	return id
}

// taskEvents returns tenant's task events, oldest first, as "type data" lines.
func taskEvents(t testing.TB, d *dbtest.Database, tenant uuid.UUID) []string {
	t.Helper()
	rows, err := d.Owner.Query(context.Background(), `SELECT type, data FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE 'task.%' ORDER BY id`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var typ string
		var data map[string]any
		err := r.Scan(&typ, &data)
		return typ + " " + fmt.Sprint(data), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func str(s string) *string { return &s }

func TestTaskLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)

	plain, err := s.Create(ctx, o.tenant, o.member, o.project, work.TaskInput{Title: "  Write the spec  "})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if plain.Title != "Write the spec" || plain.Status != "todo" || plain.Priority != "medium" || plain.AssigneeID != nil ||
		plain.DueDate != nil || len(plain.Labels) != 0 || plain.Labels == nil || plain.Position != 1 || plain.ProjectID != o.project ||
		plain.ID.Version() != 7 {
		t.Fatalf("created %+v; want the defaults, a trimmed title, position 1 and a UUIDv7 id", plain)
	}
	full, err := s.Create(ctx, o.tenant, o.member, o.project, work.TaskInput{
		Title: "Ship", Description: "all of it", Status: str("in_progress"), Priority: str("urgent"), AssigneeID: str(o.admin.String()),
		DueDate: str("2027-02-28"), Labels: []string{" Backend ", "backend", "API"},
	})
	if err != nil {
		t.Fatalf("create with every field: %v", err)
	}
	if full.Status != "in_progress" || full.Priority != "urgent" || *full.AssigneeID != o.admin || *full.DueDate != "2027-02-28" ||
		!slices.Equal(full.Labels, []string{"backend", "api"}) || full.Position != 2 {
		t.Fatalf("created %+v", full)
	}
	b, _ := json.Marshal(full)
	var keys []string
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := "assignee_id,created_at,description,due_date,id,labels,position,priority,project_id,status,title,updated_at"; strings.Join(keys, ",") != want {
		t.Fatalf("a task reads %v, want exactly %s", keys, want)
	}

	got, err := s.Get(ctx, o.tenant, full.ID)
	if err != nil || got.ETag() != full.ETag() || got.Title != "Ship" {
		t.Fatalf("get = %+v, %v", got, err)
	}

	// A patch changes only what it names; null clears the assignee and the due date.
	patched, err := s.Patch(ctx, o.tenant, o.member, full.ID, work.TaskPatch{
		Title: work.Given("Ship it"), AssigneeID: work.PatchField[string]{Set: true, Null: true}, DueDate: work.PatchField[string]{Set: true, Null: true},
	}, work.IfMatch{ETags: []string{full.ETag()}})
	if err != nil {
		t.Fatalf("patch: %v", err)
	}
	if patched.Title != "Ship it" || patched.AssigneeID != nil || patched.DueDate != nil || patched.Status != "in_progress" ||
		patched.Description != "all of it" || !slices.Equal(patched.Labels, full.Labels) || patched.ETag() == full.ETag() {
		t.Fatalf("patched %+v", patched)
	}
	// The old ETag is stale now, on every conditional write.
	if _, err := s.Patch(ctx, o.tenant, o.member, full.ID, work.TaskPatch{Title: work.Given("lost update")}, work.IfMatch{ETags: []string{full.ETag()}}); !errors.Is(err, work.ErrTaskChanged) {
		t.Fatalf("patch with a stale ETag: %v, want ErrTaskChanged", err)
	}
	if _, err := s.Replace(ctx, o.tenant, o.member, full.ID, work.TaskInput{Title: "lost"}, work.IfMatch{ETags: []string{`W/` + patched.ETag()}}); !errors.Is(err, work.ErrTaskChanged) {
		t.Fatalf("replace with a weak ETag: %v, want ErrTaskChanged (If-Match compares strongly)", err)
	}
	if err := s.Delete(ctx, o.tenant, o.member, full.ID, work.IfMatch{ETags: []string{full.ETag()}}); !errors.Is(err, work.ErrTaskChanged) {
		t.Fatalf("delete with a stale ETag: %v, want ErrTaskChanged", err)
	}
	// A write that changes nothing keeps the ETag and records nothing.
	same, err := s.Patch(ctx, o.tenant, o.member, full.ID, work.TaskPatch{Title: work.Given(" Ship it ")}, work.IfMatch{ETags: []string{"\"other\"", patched.ETag()}})
	if err != nil || same.ETag() != patched.ETag() {
		t.Fatalf("no-op patch = %+v, %v; want the same ETag", same, err)
	}

	// PUT replaces every field: what it omits goes back to its default, except the position.
	replaced, err := s.Replace(ctx, o.tenant, o.member, full.ID, work.TaskInput{Title: "Replaced", Status: str("done")}, work.IfMatch{Any: true})
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	if replaced.Title != "Replaced" || replaced.Description != "" || replaced.Status != "done" || replaced.Priority != "medium" ||
		len(replaced.Labels) != 0 || replaced.Position != full.Position {
		t.Fatalf("replaced %+v", replaced)
	}
	var completed, reopened *string
	_ = d.Owner.QueryRow(ctx, `SELECT completed_at::text FROM tenant.tasks WHERE tenant_id = $1 AND id = $2`, o.tenant, full.ID).Scan(&completed)
	if _, err := s.Patch(ctx, o.tenant, o.member, full.ID, work.TaskPatch{Status: work.Given("todo")}, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	_ = d.Owner.QueryRow(ctx, `SELECT completed_at::text FROM tenant.tasks WHERE tenant_id = $1 AND id = $2`, o.tenant, full.ID).Scan(&reopened)
	if completed == nil || reopened != nil {
		t.Fatalf("completed_at = %v when done, %v when reopened; want set, then cleared", completed, reopened)
	}

	if err := s.Delete(ctx, o.tenant, o.member, full.ID, work.IfMatch{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for name, err := range map[string]error{
		"get": func() error { _, err := s.Get(ctx, o.tenant, full.ID); return err }(),
		"patch": func() error {
			_, err := s.Patch(ctx, o.tenant, o.member, full.ID, work.TaskPatch{}, work.IfMatch{})
			return err
		}(),
		"delete": s.Delete(ctx, o.tenant, o.member, full.ID, work.IfMatch{Any: true}),
	} {
		if !errors.Is(err, db.ErrNotFound) {
			t.Errorf("%s after delete: %v, want not found", name, err)
		}
	}

	var actions, changes string
	if err := d.Owner.QueryRow(ctx, `SELECT string_agg(action, ',' ORDER BY id), (array_agg(changes::text ORDER BY id))[2]
		FROM tenant.activity WHERE tenant_id = $1 AND entity_id = $2`, o.tenant, full.ID).Scan(&actions, &changes); err != nil {
		t.Fatal(err)
	}
	if actions != "created,updated,updated,updated,deleted" {
		t.Fatalf("activity = %s; want one row per write and none for the no-op", actions)
	}
	want := fmt.Sprintf(`{"title": {"new": "Ship it", "old": "Ship"}, "due_date": {"new": null, "old": "2027-02-28"}, "assignee_id": {"new": null, "old": "%s"}}`, o.admin)
	if changes != want {
		t.Fatalf("patch recorded %s, want %s", changes, want)
	}
}

func TestTaskEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)
	tk, err := s.Create(ctx, o.tenant, o.owner, o.project, work.TaskInput{Title: "t", AssigneeID: str(o.member.String())})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []work.TaskPatch{
		{Status: work.Given("blocked")},
		{AssigneeID: work.Given(o.admin.String())},
		{AssigneeID: work.PatchField[string]{Set: true, Null: true}, Priority: work.Given("high")},
		{Title: work.Given("t2"), Status: work.Given("done"), Labels: work.Given([]string{"x"})},
	} {
		if _, err := s.Patch(ctx, o.tenant, o.owner, tk.ID, p, work.IfMatch{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, o.tenant, o.owner, tk.ID, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range taskEvents(t, d, o.tenant) {
		types = append(types, strings.SplitN(e, " ", 2)[0])
	}
	want := []string{"task.created", "task.assigned", "task.status_changed", "task.assigned", "task.updated", "task.status_changed", "task.updated", "task.deleted"}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	rows, err := d.Owner.Query(ctx, `SELECT data FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE 'task.%' ORDER BY id`, o.tenant)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pgx.CollectRows(rows, pgx.RowTo[map[string]any])
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		i    int
		key  string
		want any
	}{
		{1, "assignee_id", o.member.String()},
		{1, "previous_assignee_id", nil},
		{2, "old_status", "todo"},
		{2, "new_status", "blocked"},
		{3, "assignee_id", o.admin.String()},
		{3, "previous_assignee_id", o.member.String()},
		{4, "changed", []any{"priority", "assignee_id"}},
		{6, "changed", []any{"title", "labels"}},
		{7, "task_id", tk.ID.String()},
		{7, "actor_id", o.owner.String()},
	}
	for _, c := range checks {
		if got := data[c.i][c.key]; fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("event %d (%s) %s = %v, want %v", c.i, types[c.i], c.key, got, c.want)
		}
	}
}

func TestTaskValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)
	tk, err := s.Create(ctx, o.tenant, o.owner, o.project, work.TaskInput{Title: "valid"})
	if err != nil {
		t.Fatal(err)
	}
	many := make([]string, work.MaxTaskLabels+1)
	for i := range many {
		many[i] = fmt.Sprint("l", i)
	}
	creates := []struct {
		name   string
		in     work.TaskInput
		fields []string
	}{
		{"blank title", work.TaskInput{Title: "  "}, []string{"title"}},
		{"long title", work.TaskInput{Title: strings.Repeat("é", work.MaxTaskTitleLength+1)}, []string{"title"}},
		{"long description", work.TaskInput{Title: "t", Description: strings.Repeat("x", work.MaxTaskDescriptionLength+1)}, []string{"description"}},
		{"NUL", work.TaskInput{Title: "a\x00", Description: "\x00"}, []string{"title", "description"}},
		{"status", work.TaskInput{Title: "t", Status: str("doing")}, []string{"status"}},
		{"empty status", work.TaskInput{Title: "t", Status: str("")}, []string{"status"}},
		{"priority as a number", work.TaskInput{Title: "t", Priority: str("2")}, []string{"priority"}},
		{"assignee not a uuid", work.TaskInput{Title: "t", AssigneeID: str("bob")}, []string{"assignee_id"}},
		{"due date format", work.TaskInput{Title: "t", DueDate: str("28/02/2027")}, []string{"due_date"}},
		{"due date not a day", work.TaskInput{Title: "t", DueDate: str("2027-02-30")}, []string{"due_date"}},
		{"due date year 0", work.TaskInput{Title: "t", DueDate: str("0000-01-01")}, []string{"due_date"}},
		{"empty label", work.TaskInput{Title: "t", Labels: []string{"ok", " "}}, []string{"labels"}},
		{"long label", work.TaskInput{Title: "t", Labels: []string{strings.Repeat("l", work.MaxLabelLength+1)}}, []string{"labels"}},
		{"too many labels", work.TaskInput{Title: "t", Labels: many}, []string{"labels"}},
		{"everything", work.TaskInput{Status: str("x"), Priority: str("x"), AssigneeID: str("x"), DueDate: str("x"), Labels: []string{""}},
			[]string{"title", "status", "priority", "assignee_id", "due_date", "labels"}},
		{"assignee not a member", work.TaskInput{Title: "t", AssigneeID: str(uuid.NewString())}, []string{"assignee_id"}},
		{"assignee a viewer", work.TaskInput{Title: "t", AssigneeID: str(o.viewer.String())}, []string{"assignee_id"}},
	}
	for _, tc := range creates {
		t.Run("create/"+tc.name, func(t *testing.T) {
			_, err := s.Create(ctx, o.tenant, o.owner, o.project, tc.in)
			if got := validtest.Fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields %v (%v), want %v", got, err, tc.fields)
			}
		})
	}
	null := func() work.PatchField[string] { return work.PatchField[string]{Set: true, Null: true} }
	patches := []struct {
		name   string
		p      work.TaskPatch
		fields []string
	}{
		{"null title", work.TaskPatch{Title: null()}, []string{"title"}},
		{"null status", work.TaskPatch{Status: null()}, []string{"status"}},
		{"null priority", work.TaskPatch{Priority: null()}, []string{"priority"}},
		{"null position", work.TaskPatch{Position: work.PatchField[float64]{Set: true, Null: true}}, []string{"position"}},
		{"bad status", work.TaskPatch{Status: work.Given("DONE")}, []string{"status"}},
		{"nil uuid", work.TaskPatch{AssigneeID: work.Given(uuid.Nil.String())}, []string{"assignee_id"}},
		{"viewer", work.TaskPatch{AssigneeID: work.Given(o.viewer.String())}, []string{"assignee_id"}},
		{"member of another organization", work.TaskPatch{AssigneeID: work.Given(newTaskOrg(t, d).member.String())}, []string{"assignee_id"}},
	}
	for _, tc := range patches {
		t.Run("patch/"+tc.name, func(t *testing.T) {
			_, err := s.Patch(ctx, o.tenant, o.owner, tk.ID, tc.p, work.IfMatch{})
			if got := validtest.Fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields %v (%v), want %v", got, err, tc.fields)
			}
		})
	}
	var n int
	if err := d.Owner.QueryRow(ctx, `SELECT count(*) FROM tenant.tasks WHERE version > 1 OR title <> 'valid'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d tasks written by invalid requests (%v)", n, err)
	}
}

// TestTaskAssignment: a member with access may be assigned, whatever their organization role except viewer;
// an assignee who later loses access stays on the task until someone assigns another.
func TestTaskAssignment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)
	for _, who := range []uuid.UUID{o.owner, o.admin, o.member} {
		tk, err := s.Create(ctx, o.tenant, o.owner, o.project, work.TaskInput{Title: "t", AssigneeID: str(who.String())})
		if err != nil || *tk.AssigneeID != who {
			t.Fatalf("assign %s: %+v, %v", who, tk, err)
		}
	}
	tk, err := s.Create(ctx, o.tenant, o.owner, o.project, work.TaskInput{Title: "t", AssigneeID: str(o.member.String())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Owner.Exec(ctx, `UPDATE directory.memberships SET role = 'viewer' WHERE tenant_id = $1 AND identity_id = $2`, o.tenant, o.member); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, o.tenant, o.owner, tk.ID, work.TaskInput{Title: "renamed", AssigneeID: str(o.member.String())}, work.IfMatch{}); err != nil {
		t.Fatalf("keeping an assignee who became a viewer: %v", err)
	}
	if _, err := s.Patch(ctx, o.tenant, o.owner, tk.ID, work.TaskPatch{AssigneeID: work.Given(o.viewer.String())}, work.IfMatch{}); !slices.Equal(validtest.Fields(err), []string{"assignee_id"}) {
		t.Fatalf("assigning a viewer: %v", err)
	}
}

// TestTasksFollowTheirProject: a deleted project hides its tasks from every method, and its restore shows them.
func TestTasksFollowTheirProject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)
	tk, err := s.Create(ctx, o.tenant, o.owner, o.project, work.TaskInput{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	setProjectDeleted := func(deleted bool) {
		if _, err := d.Owner.Exec(ctx, `UPDATE tenant.projects SET deleted_at = CASE WHEN $3 THEN now() END WHERE tenant_id = $1 AND id = $2`,
			o.tenant, o.project, deleted); err != nil {
			t.Fatal(err)
		}
	}
	setProjectDeleted(true)
	calls := map[string]func() error{
		"create": func() error {
			_, err := s.Create(ctx, o.tenant, o.owner, o.project, work.TaskInput{Title: "t"})
			return err
		},
		"list": func() error { _, err := s.List(ctx, o.tenant, o.project, work.TaskQuery{}); return err },
		"get":  func() error { _, err := s.Get(ctx, o.tenant, tk.ID); return err },
		"replace": func() error {
			_, err := s.Replace(ctx, o.tenant, o.owner, tk.ID, work.TaskInput{Title: "x"}, work.IfMatch{})
			return err
		},
		"patch": func() error {
			_, err := s.Patch(ctx, o.tenant, o.owner, tk.ID, work.TaskPatch{Title: work.Given("x")}, work.IfMatch{})
			return err
		},
		"delete": func() error { return s.Delete(ctx, o.tenant, o.owner, tk.ID, work.IfMatch{}) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("%s in a deleted project: %v, want not found", name, err)
		}
	}
	if _, err := s.List(ctx, o.tenant, uuid.New(), work.TaskQuery{}); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("list of an unknown project: %v, want not found", err)
	}
	setProjectDeleted(false)
	if got, err := s.Get(ctx, o.tenant, tk.ID); err != nil || got.Title != "t" {
		t.Fatalf("get after the project's restore: %+v, %v", got, err)
	}
}

// tasksFixture is an organization with a project on each side, and A's task, assigned to A's member and
// labelled "secret".
type tasksFixture struct {
	isolation.Tenants
	s   *work.Tasks
	org [2]taskOrg
	tk  work.Task
}

// The task store shows tenant B nothing of A's tasks: every method run as B on A's project and task, and B's
// own lists filtered by A's label and assignee, through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*tasksFixture]{
	Name:   "tasks",
	Stores: []string{"Tasks"},
	Tables: []string{"tenant.tasks", "tenant.task_labels"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *tasksFixture {
		f := &tasksFixture{s: work.NewTasks(w.DB), org: [2]taskOrg{newTaskOrg(t, d), newTaskOrg(t, d)}}
		f.Tenants = isolation.Tenants{f.org[0].tenant, f.org[1].tenant}
		a := f.org[isolation.A]
		var err error
		f.tk, err = f.s.Create(context.Background(), a.tenant, a.owner, a.project, work.TaskInput{Title: "A's secret", Labels: []string{"secret"}, AssigneeID: str(a.member.String())})
		if err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: append([]isolation.Op[*tasksFixture]{
		{Name: "create in A's project", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			_, err := f.s.Create(ctx, f.Tenant(as), f.org[as].owner, f.org[isolation.A].project, work.TaskInput{Title: "planted"})
			return isolation.One(err)
		}},
		{Name: "list A's project", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			l, err := f.s.List(ctx, f.Tenant(as), f.org[isolation.A].project, work.TaskQuery{})
			return isolation.Len(l.Items, err)
		}},
		{Name: "get", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			_, err := f.s.Get(ctx, f.Tenant(as), f.tk.ID)
			return isolation.One(err)
		}},
		{Name: "replace", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			_, err := f.s.Replace(ctx, f.Tenant(as), f.org[as].owner, f.tk.ID, work.TaskInput{Title: "taken"}, work.IfMatch{})
			return isolation.One(err)
		}},
		{Name: "patch", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			_, err := f.s.Patch(ctx, f.Tenant(as), f.org[as].owner, f.tk.ID, work.TaskPatch{Title: work.Given("taken")}, work.IfMatch{Any: true})
			return isolation.One(err)
		}},
		{Name: "delete", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			return isolation.One(f.s.Delete(ctx, f.Tenant(as), f.org[as].owner, f.tk.ID, work.IfMatch{}))
		}},
		// A's member is no assignee in B.
		{Name: "assign A's member", Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
			_, err := f.s.Create(ctx, f.Tenant(as), f.org[as].owner, f.org[as].project, work.TaskInput{Title: "t", AssigneeID: str(f.org[isolation.A].member.String())})
			return isolation.One(err)
		}, Judge: func(n int, err error) error {
			if !slices.Equal(validtest.Fields(err), []string{"assignee_id"}) {
				return fmt.Errorf("%d, %v; want assignee_id refused", n, err)
			}
			return nil
		}},
	}, taskListOps()...),
	Check: func(t *testing.T, d *dbtest.Database, f *tasksFixture) {
		still, err := f.s.Get(context.Background(), f.Tenant(isolation.A), f.tk.ID)
		if err != nil || still.Title != "A's secret" || still.Version != 1 {
			t.Errorf("A's task after B's attempt: %+v, %v", still, err)
		}
	},
})

// taskListOps list B's own project (A's, for the control) with no filter, A's label and A's assignee.
func taskListOps() []isolation.Op[*tasksFixture] {
	var ops []isolation.Op[*tasksFixture]
	for name, q := range map[string]func(f *tasksFixture) work.TaskQuery{
		"list own project":                 func(*tasksFixture) work.TaskQuery { return work.TaskQuery{} },
		"list own project by A's label":    func(*tasksFixture) work.TaskQuery { return work.TaskQuery{Labels: []string{"secret"}} },
		"list own project by A's assignee": func(f *tasksFixture) work.TaskQuery { return work.TaskQuery{AssigneeID: &f.org[isolation.A].member} },
	} {
		ops = append(ops, isolation.Op[*tasksFixture]{Name: name, Want: isolation.Nothing,
			Run: func(ctx context.Context, f *tasksFixture, as isolation.Side) (int, error) {
				l, err := f.s.List(ctx, f.Tenant(as), f.org[as].project, q(f))
				return isolation.Len(l.Items, err)
			}})
	}
	return ops
}

func TestTaskListFiltersAndOrders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)
	inputs := []work.TaskInput{
		{Title: "a", Status: str("todo"), Priority: str("low"), DueDate: str("2027-01-10"), Labels: []string{"ui"}, AssigneeID: str(o.member.String())},
		{Title: "b", Status: str("done"), Priority: str("urgent"), DueDate: str("2027-01-05"), Labels: []string{"ui", "bug"}},
		{Title: "c", Status: str("blocked"), Priority: str("high"), Labels: []string{"bug"}, AssigneeID: str(o.admin.String())},
		{Title: "d", Status: str("in_progress"), Priority: str("medium"), DueDate: str("2027-01-20"), AssigneeID: str(o.member.String())},
		{Title: "e", Status: str("todo"), Priority: str("urgent"), DueDate: str("2027-01-05")},
	}
	positions := []float64{3, 1, 5, 2, 4}
	for i, in := range inputs {
		in.Position = &positions[i]
		if _, err := s.Create(ctx, o.tenant, o.owner, o.project, in); err != nil {
			t.Fatal(err)
		}
	}
	// Touch a, then c, so updated order differs from created order.
	for _, title := range []string{"a", "c"} {
		l, _ := s.List(ctx, o.tenant, o.project, work.TaskQuery{Limit: 100})
		for _, tk := range l.Items {
			if tk.Title == title {
				if _, err := s.Patch(ctx, o.tenant, o.owner, tk.ID, work.TaskPatch{Description: work.Given("touched")}, work.IfMatch{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tests := []struct {
		query string
		want  string
	}{
		{"", "edcba"},
		{"order=created", "abcde"},
		{"order=updated", "bdeac"},
		{"order=-updated", "caedb"},
		{"order=due", "beadc"},
		{"order=-due", "cdaeb"},
		{"order=priority", "adcbe"},
		{"order=-priority", "ebcda"},
		{"order=position", "bdaec"},
		{"order=-position", "ceadb"},
		{"status=todo", "ea"},
		{"status=todo,blocked&status=done", "ecba"},
		{"assignee=" + o.member.String(), "da"},
		{"assignee=none", "eb"},
		{"assignee=me", "c"},
		{"label=UI", "ba"},
		{"label=ui&label=bug", "b"},
		{"label=none-such", ""},
		{"due_before=2027-01-10", "eb"},
		{"due_after=2027-01-05", "da"},
		{"due_after=2027-01-05&due_before=2027-01-20", "a"},
		{"status=todo&order=due&label=ui", "a"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			q, err := work.ParseTaskQuery(v, o.admin, testCursors)
			if err != nil {
				t.Fatal(err)
			}
			l, err := s.List(ctx, o.tenant, o.project, q)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, tk := range l.Items {
				got += tk.Title
			}
			if got != tc.want || l.NextCursor != nil {
				t.Fatalf("got %q (next %v), want %q", got, l.NextCursor, tc.want)
			}
		})
	}
}

func TestParseTaskQuery(t *testing.T) {
	t.Parallel()
	me := uuid.New()
	tests := []struct {
		query  string
		fields []string
	}{
		{"", nil},
		{"status=todo,done&assignee=none&label=a&label=b&due_before=2027-01-01&due_after=2026-01-01&order=-due&limit=100", nil},
		{"status=open", []string{"status"}},
		{"status=todo&status=nope,done", []string{"status"}},
		{"assignee=bob", []string{"assignee"}},
		{"label=" + strings.Repeat("x", 51), []string{"label"}},
		{"label=", []string{"label"}},
		{"due_before=tomorrow&due_after=2026-13-01", []string{"due_before", "due_after"}},
		{"order=name", []string{"order"}},
		{"order=--created", []string{"order"}},
		{"limit=0", []string{"limit"}},
		{"limit=101", []string{"limit"}},
		{"cursor=zzz", nil}, // opened by List, which knows the project the list is of
		{"status=x&assignee=x&label=&due_before=x&due_after=x&order=x&limit=x", []string{"limit", "status", "assignee", "label", "due_before", "due_after", "order"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = work.ParseTaskQuery(v, me, testCursors)
			if got := validtest.Fields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields %v (%v), want %v", got, err, tc.fields)
			}
		})
	}
	q, err := work.ParseTaskQuery(url.Values{"assignee": {"me"}, "status": {"todo, done", "todo"}, "label": {" UI ", "ui"}}, me, testCursors)
	if err != nil || *q.AssigneeID != me || !slices.Equal(q.Statuses, []string{"todo", "done"}) || !slices.Equal(q.Labels, []string{"ui"}) ||
		q.Order != work.DefaultTaskOrder || q.Limit != 20 {
		t.Fatalf("parsed %+v, %v", q, err)
	}
}

// TestTaskListPaginatesEveryRowOnce walks every ordering in pages of 4 while tasks are created between pages:
// each task that existed when the walk began is seen exactly once, and no task twice.
func TestTaskListPaginatesEveryRowOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := work.NewTasks(d.DB)
	o := newTaskOrg(t, d)
	// Few distinct keys, so most pages end inside a run of equal keys and the id tie-break is what holds.
	create := func(project uuid.UUID, i int) uuid.UUID {
		pos := float64(i % 3)
		in := work.TaskInput{Title: fmt.Sprint("task ", i), Priority: &work.TaskPriorities[i%4], Position: &pos}
		if i%3 != 0 {
			in.DueDate = str(fmt.Sprintf("2027-01-0%d", 1+i%2))
		}
		tk, err := s.Create(ctx, o.tenant, o.owner, project, in)
		if err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	for _, order := range taskOrders {
		t.Run(order, func(t *testing.T) {
			project := uuid.Must(uuid.NewV7())
			if _, err := d.Owner.Exec(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, $3, $4)`,
				o.tenant, project, "walk "+order, o.owner); err != nil {
				t.Fatal(err)
			}
			n := 0
			for ; n < 23; n++ {
				create(project, n)
			}
			before, err := s.List(ctx, o.tenant, project, work.TaskQuery{Order: order, Limit: 100})
			if err != nil || len(before.Items) != 23 {
				t.Fatalf("%d tasks before the walk (%v), want 23", len(before.Items), err)
			}
			seen := map[uuid.UUID]int{}
			q := work.TaskQuery{Order: order, Limit: 4}
			for pages := 0; ; pages++ {
				if pages > 50 {
					t.Fatal("the walk does not end")
				}
				pg, err := s.List(ctx, o.tenant, project, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range pg.Items {
					seen[tk.ID]++
				}
				create(project, n)
				n++
				if pg.NextCursor == nil {
					break
				}
				q.Cursor = *pg.NextCursor
			}
			for _, tk := range before.Items {
				if seen[tk.ID] != 1 {
					t.Errorf("task %q seen %d times, want once", tk.Title, seen[tk.ID])
				}
			}
			for id, k := range seen {
				if k != 1 {
					t.Errorf("task %s seen %d times", id, k)
				}
			}
		})
	}
	if _, err := s.List(ctx, o.tenant, o.project, work.TaskQuery{Order: "priority", Cursor: work.TaskCursor(o.project, work.TaskQuery{Order: "-created"}, work.Task{ID: uuid.New()})}); !slices.Equal(validtest.Fields(err), []string{"cursor"}) {
		t.Fatalf("a cursor of another ordering: %v, want a cursor error", err)
	}
	// A cursor opens only on the list that issued it: same project, same filters, same ordering, unchanged.
	issued := work.TaskCursor(o.project, work.TaskQuery{Order: "priority", Statuses: []string{"todo", "done"}}, work.Task{ID: uuid.New(), Priority: "high"})
	payload, sig, _ := strings.Cut(issued, ".")
	for _, tc := range []struct {
		name    string
		project uuid.UUID
		q       work.TaskQuery
		ok      bool
	}{
		{"as issued", o.project, work.TaskQuery{Order: "priority", Statuses: []string{"todo", "done"}, Cursor: issued}, true},
		{"statuses in another order", o.project, work.TaskQuery{Order: "priority", Statuses: []string{"done", "todo"}, Cursor: issued}, true},
		{"another filter", o.project, work.TaskQuery{Order: "priority", Statuses: []string{"todo"}, Cursor: issued}, false},
		{"a filter added", o.project, work.TaskQuery{Order: "priority", Statuses: []string{"todo", "done"}, Unassigned: true, Cursor: issued}, false},
		{"another project", uuid.Must(uuid.NewV7()), work.TaskQuery{Order: "priority", Statuses: []string{"todo", "done"}, Cursor: issued}, false},
		{"unsigned", o.project, work.TaskQuery{Order: "priority", Statuses: []string{"todo", "done"}, Cursor: payload}, false},
		{"signature of another payload", o.project, work.TaskQuery{Order: "priority", Statuses: []string{"todo", "done"}, Cursor: "eyJvIjoicHJpb3JpdHkifQ." + sig}, false},
		{"garbage", o.project, work.TaskQuery{Order: "priority", Cursor: "zzz"}, false},
	} {
		_, err := s.List(ctx, o.tenant, tc.project, tc.q)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.ok && !slices.Equal(validtest.Fields(err), []string{"cursor"}):
			t.Errorf("%s: %v, want a cursor error", tc.name, err)
		}
	}
}

// TestTaskListPlansUseIndexes EXPLAINs every list query (each filter in each ordering, on the first page and
// after a cursor) as the application role, over one project of 20,000 tasks among 200 other tenants', and
// checks that the tasks are read through an index leading with (tenant_id, project_id), never a sequential
// scan.
func TestTaskListPlansUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 30,000 tasks")
	}
	t.Parallel()
	ctx := context.Background()
	s := seedTasks(t, 20000, 200)
	mid, err := s.store.Get(ctx, s.tenant, s.ids[len(s.ids)/2])
	if err != nil {
		t.Fatal(err)
	}
	projectIndexes := []string{"tasks_project", "tasks_project_updated", "tasks_project_due", "tasks_project_priority",
		"tasks_project_position", "tasks_project_assignee", "task_labels_pkey"}
	for _, f := range taskFilters(s.assignee) {
		for _, order := range taskOrders {
			for _, cursor := range []bool{false, true} {
				q := f.q
				q.Order, q.Limit = order, 20
				name := f.name + "&order=" + order
				if cursor {
					q.Cursor = work.TaskCursor(s.project, q, mid)
					name += "&cursor"
				}
				sql, args, err := work.ListTasksSQL(s.tenant, s.project, q)
				if err != nil {
					t.Fatal(err)
				}
				plan := explainTaskList(t, s.d, s.tenant, sql, args)
				var scans []string
				project, seq := false, false
				walkPlan(plan, func(n map[string]any) {
					rel, _ := n["Relation Name"].(string)
					idx, _ := n["Index Name"].(string)
					typ, _ := n["Node Type"].(string)
					if rel != "" || idx != "" {
						scans = append(scans, strings.TrimSpace(typ+" "+rel+" "+idx))
					}
					seq = seq || typ == "Seq Scan"
					project = project || slices.Contains(projectIndexes, idx)
				})
				if !project || seq {
					t.Errorf("%s: scans %v, want an index leading with tenant_id, project_id and no sequential scan", name, scans)
				}
			}
		}
	}
}

// explainTaskList returns the JSON plan of sql with args, run as the application role in tenant's
// transaction. Parameters are bound, so this is the custom plan, which is what List runs (it forces custom
// plans, see there).
func explainTaskList(t *testing.T, d *dbtest.Database, tenant uuid.UUID, sql string, args []any) map[string]any {
	t.Helper()
	ctx := context.Background()
	var raw []byte
	err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+sql, args...).Scan(&raw)
	})
	if err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	var plans []map[string]any
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan %s: %v", raw, err)
	}
	return plans[0]["Plan"].(map[string]any)
}

func walkPlan(n map[string]any, fn func(map[string]any)) {
	fn(n)
	children, _ := n["Plans"].([]any)
	for _, c := range children {
		if m, ok := c.(map[string]any); ok {
			walkPlan(m, fn)
		}
	}
}
