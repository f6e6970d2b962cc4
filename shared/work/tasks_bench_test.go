package work_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// taskSeed is one tenant's project of seeded tasks among other tenants' smaller ones.
type taskSeed struct {
	d        *dbtest.Database
	store    *work.Tasks
	tenant   uuid.UUID
	project  uuid.UUID
	assignee uuid.UUID
	ids      []uuid.UUID
}

// seedTaskProject bulk-inserts, as the owner, a project of tenant with n tasks spread over statuses
// (55% done, 25% todo, 17% in progress, 3% blocked), priorities, assignees (one in five unassigned), due dates
// (60% over two years), labels (one of 12 areas and one of 8 kinds each, and "rare" on one task in 1,000), and
// positions; updated_at is scattered so that its order differs from creation order. Seeding is not measured.
func seedTaskProject(tb testing.TB, d *dbtest.Database, tenant uuid.UUID, n int, assignees []uuid.UUID) (uuid.UUID, []uuid.UUID) {
	tb.Helper()
	ctx := context.Background()
	project := uuid.Must(uuid.NewV7())
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'seeded', $1)`, []any{tenant, project}},
		{`INSERT INTO tenant.tasks (tenant_id, id, project_id, title, status, priority, assignee_id, due_date, labels, position,
				created_by, created_at, updated_at)
			SELECT $1, u.id, $2, 'task ' || u.ord,
				CASE WHEN h % 100 < 55 THEN 'done' WHEN h % 100 < 80 THEN 'todo' WHEN h % 100 < 97 THEN 'in_progress' ELSE 'blocked' END,
				(u.ord % 4)::smallint,
				CASE WHEN u.ord % 5 = 0 OR cardinality($4::uuid[]) = 0 THEN NULL ELSE ($4::uuid[])[1 + u.ord % cardinality($4::uuid[])] END,
				CASE WHEN u.ord % 10 < 6 THEN DATE '2026-01-01' + (h % 730)::int END,
				ARRAY['area-' || u.ord % 12, 'kind-' || u.ord / 12 % 8] || CASE WHEN u.ord % 1000 = 0 THEN ARRAY['rare'] ELSE '{}'::text[] END,
				u.ord, $1, now() - make_interval(mins => ($5 - u.ord)::int), now() - make_interval(secs => h % 1000000)
			FROM unnest($3::uuid[]) WITH ORDINALITY AS u(id, ord), LATERAL (SELECT u.ord * 2654435761 % 4294967296 AS h) x`,
			[]any{tenant, project, ids, assignees, n}},
		{`INSERT INTO tenant.task_labels (tenant_id, project_id, label, task_id)
			SELECT tenant_id, project_id, unnest(labels), id FROM tenant.tasks WHERE tenant_id = $1 AND project_id = $2`, []any{tenant, project}},
	} {
		if _, err := d.Owner.Exec(ctx, q.sql, q.args...); err != nil {
			tb.Fatalf("seed tasks: %v", err)
		}
	}
	return project, ids
}

// seedTasks seeds one tenant's project of n tasks beside other tenants' projects of 50 tasks each, and analyzes the
// tables, so plans and timings are those of tenant-leading indexes over a shared table.
func seedTasks(tb testing.TB, n, others int) taskSeed {
	tb.Helper()
	d := dbtest.New(tb)
	assignees := make([]uuid.UUID, 20)
	for i := range assignees {
		assignees[i] = uuid.New()
	}
	for range others {
		seedTaskProject(tb, d, uuid.New(), 50, assignees[:3])
	}
	s := taskSeed{d: d, store: work.NewTasks(d.DB), tenant: uuid.New(), assignee: assignees[3]}
	s.project, s.ids = seedTaskProject(tb, d, s.tenant, n, assignees)
	// VACUUM as well as ANALYZE: a table that has settled has its visibility map set, so index-only scans
	// skip the heap as they would in production.
	for _, table := range []string{"tenant.tasks", "tenant.task_labels", "tenant.projects"} {
		if _, err := d.Owner.Exec(context.Background(), `VACUUM ANALYZE `+table, pgx.QueryExecModeSimpleProtocol); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// taskFilters are the list filters the plan test and the benchmarks exercise, alone and combined.
func taskFilters(assignee uuid.UUID) []struct {
	name string
	q    work.TaskQuery
} {
	before, after := "2026-03-01", "2027-10-01"
	return []struct {
		name string
		q    work.TaskQuery
	}{
		{"none", work.TaskQuery{}},
		{"status=todo", work.TaskQuery{Statuses: []string{"todo"}}},
		{"status=blocked", work.TaskQuery{Statuses: []string{"blocked"}}},
		{"status=todo,in_progress,blocked", work.TaskQuery{Statuses: []string{"todo", "in_progress", "blocked"}}},
		{"assignee", work.TaskQuery{AssigneeID: &assignee}},
		{"assignee=none", work.TaskQuery{Unassigned: true}},
		{"label=area-3", work.TaskQuery{Labels: []string{"area-3"}}},
		{"label=rare", work.TaskQuery{Labels: []string{"rare"}}},
		{"label=area-3&label=kind-2", work.TaskQuery{Labels: []string{"area-3", "kind-2"}}},
		{"due_before", work.TaskQuery{DueBefore: &before}},
		{"due_after", work.TaskQuery{DueAfter: &after}},
		{"open&assignee&due_before", work.TaskQuery{Statuses: []string{"todo", "in_progress"}, AssigneeID: &assignee, DueBefore: &after}},
	}
}

// taskOrders lists every ordering, ascending and descending.
var taskOrders = []string{"-created", "created", "-updated", "updated", "due", "-due", "-priority", "priority", "position", "-position"}

func BenchmarkTasksList(b *testing.B) {
	s := seedTasks(b, 20000, 100)
	ctx := context.Background()
	mid, err := s.store.Get(ctx, s.tenant, s.ids[len(s.ids)/2])
	if err != nil {
		b.Fatal(err)
	}
	run := func(name string, q work.TaskQuery) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.store.List(ctx, s.tenant, s.project, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, order := range taskOrders {
		run("order="+order, work.TaskQuery{Order: order, Limit: 20})
		run("order="+order+"/deep", work.TaskQuery{Order: order, Limit: 20, Cursor: work.TaskCursor(s.project, work.TaskQuery{Order: order}, mid)})
	}
	for _, f := range taskFilters(s.assignee) {
		q := f.q
		q.Limit = 20
		run("filter="+f.name, q)
		q.Order = "position"
		run("filter="+f.name+"&order=position", q)
	}
	run("page of 100", work.TaskQuery{Limit: 100})
}

func BenchmarkTasksGet(b *testing.B) {
	s := seedTasks(b, 20000, 100)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.store.Get(ctx, s.tenant, s.ids[i%len(s.ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTasksCreate includes the project check, the label rows, the activity row and the outbox event
// written in the same transaction.
func BenchmarkTasksCreate(b *testing.B) {
	s := seedTasks(b, 20000, 10)
	ctx := context.Background()
	actor := uuid.New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.store.Create(ctx, s.tenant, actor, s.project, work.TaskInput{Title: fmt.Sprintf("bench %d", i), Labels: []string{"bench"}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTasksPatch changes a task's status and title, which raises two events.
func BenchmarkTasksPatch(b *testing.B) {
	s := seedTasks(b, 20000, 10)
	ctx := context.Background()
	actor := uuid.New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := work.TaskPatch{Title: work.Given(fmt.Sprintf("bench %d", i)), Status: work.Given(work.TaskStatuses[i%len(work.TaskStatuses)])}
		if _, err := s.store.Patch(ctx, s.tenant, actor, s.ids[i%len(s.ids)], p, work.IfMatch{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
