package work_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/work"
	"github.com/google/uuid"
)

func TestWeekStart(t *testing.T) {
	t.Parallel()
	plus3 := time.FixedZone("+03", 3*3600)
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "2026-11-23"},    // Monday, midnight
		{time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), "2026-11-23"},   // Thursday
		{time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC), "2026-11-23"}, // Sunday night
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},    // the next Monday
		{time.Date(2026, 11, 23, 1, 0, 0, 0, plus3), "2026-11-16"},       // Monday in Moscow, Sunday in UTC
		{time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC), "2026-12-28"},     // across a year
		{time.Date(2024, 3, 3, 12, 0, 0, 0, time.UTC), "2024-02-26"},     // across a leap day
	} {
		if got := work.WeekStart(tc.at).Format(time.DateOnly); got != tc.want {
			t.Errorf("WeekStart(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

// dashboardFixture writes, through the stores, projects and tasks whose every dashboard figure is known, as of
// dashboardNow, a Thursday. Completion times are then set as the owner to fall on week boundaries.
type dashboardFixture struct {
	f                         searchFixture
	alpha, beta, gamma, delta work.Project
	echo                      work.Project // deleted by the tests
	t1, t2, t10, t11          work.Task    // the overdue ones (t11 in echo)
	echoIDs                   []uuid.UUID  // echo, its tasks, comment and attachment
	dash                      *work.Dashboards
}

var dashboardNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func newDashboardFixture(t *testing.T) dashboardFixture {
	t.Helper()
	return newDashboardFixtureIn(t, dbtest.New(t))
}

// newDashboardFixtureIn writes the dashboard fixture into d, as a new organization.
func newDashboardFixtureIn(t *testing.T, d *dbtest.Database) dashboardFixture {
	t.Helper()
	ctx := context.Background()
	f := newSearchFixtureBareIn(t, d)
	x := dashboardFixture{f: f, dash: work.NewDashboards(f.d.DB)}
	o := f.org
	project := func(name, status string, archived bool) work.Project {
		t.Helper()
		p, err := f.projects.Create(ctx, o.tenant, o.owner, work.ProjectInput{Name: name, Status: &status, Archived: &archived})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	task := func(p work.Project, title, status string, due string) work.Task {
		t.Helper()
		in := work.TaskInput{Title: title, Status: &status}
		if due != "" {
			in.DueDate = &due
		}
		tk, err := f.tasks.Create(ctx, o.tenant, o.owner, p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	completed := func(tk work.Task, at time.Time) {
		t.Helper()
		if _, err := f.d.Owner.Exec(ctx, `UPDATE tenant.tasks SET completed_at = $3 WHERE tenant_id = $1 AND id = $2`, o.tenant, tk.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	x.alpha = project("Alpha", "active", false)
	x.beta = project("Beta", "active", false)
	x.gamma = project("Gamma", "on_hold", false)
	x.delta = project("Delta", "active", true)
	x.t1 = task(x.alpha, "t1", "todo", "2026-11-01")
	x.t2 = task(x.alpha, "t2", "in_progress", "2026-11-25")
	task(x.alpha, "t3 due today", "blocked", "2026-11-26")
	task(x.alpha, "t4 undated", "todo", "")
	t5 := task(x.alpha, "t5", "done", "2026-11-20")
	t6 := task(x.alpha, "t6", "done", "")
	t7 := task(x.beta, "t7", "done", "")
	t8 := task(x.beta, "t8 reopened", "done", "")
	if _, err := f.tasks.Patch(ctx, o.tenant, o.owner, t8.ID, work.TaskPatch{Status: work.Given("todo")}, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	t9 := task(x.beta, "t9 deleted", "todo", "2026-11-03")
	if err := f.tasks.Delete(ctx, o.tenant, o.owner, t9.ID, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	x.t10 = task(x.delta, "t10 in an archived project", "todo", "2026-11-10")
	t13 := task(x.gamma, "t13", "done", "")
	completed(t5, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))            // the current week's first instant
	completed(t6, time.Date(2026, 11, 22, 23, 59, 59, 999999000, time.UTC)) // the week before's last
	completed(t7, time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC))              // the first week shown
	completed(t13, time.Date(2026, 9, 6, 23, 59, 59, 0, time.UTC))          // before it
	// Echo comes last, so that its entries are the newest of the trail.
	x.echo = project("Echo", "active", false)
	x.t11 = task(x.echo, "t11", "blocked", "2026-10-01")
	t12 := task(x.echo, "t12", "done", "")
	completed(t12, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	c, err := f.comments.Create(ctx, o.tenant, o.member, t12.ID, work.CommentInput{Body: "on echo"})
	if err != nil {
		t.Fatal(err)
	}
	attachment := uuid.Must(uuid.NewV7())
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO tenant.attachments (tenant_id, id, task_id, filename, content_type, size, object_name, created_by)
			VALUES ($1, $2, $3, 'a.txt', 'text/plain', 1, $5, $4)`, []any{o.tenant, attachment, t12.ID, o.owner,
			"tenants/" + o.tenant.String() + "/tasks/" + t12.ID.String() + "/" + attachment.String()}},
		{`INSERT INTO tenant.activity (tenant_id, id, actor_id, entity_type, entity_id, action) VALUES ($1, $2, $3, 'attachment', $4, 'created')`,
			[]any{o.tenant, uuid.Must(uuid.NewV7()), o.owner, attachment}},
	} {
		if _, err := f.d.Owner.Exec(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	x.echoIDs = []uuid.UUID{x.echo.ID, x.t11.ID, t12.ID, c.ID, attachment}
	return x
}

// newSearchFixtureBareIn is an organization in d and its stores, without the search fixture's rows.
func newSearchFixtureBareIn(t *testing.T, d *dbtest.Database) searchFixture {
	t.Helper()
	f := newSearchFixtureIn(t, d)
	// Take the search fixture's projects out of the figures: delete them, as the owner would.
	for _, p := range []work.Project{f.billing, f.app} {
		if err := f.projects.Delete(context.Background(), f.org.tenant, f.org.owner, "owner", p.ID); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func weeks(counts map[string]int64) []work.WeekCount {
	first := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	out := make([]work.WeekCount, 12)
	for i := range out {
		day := first.AddDate(0, 0, 7*i).Format(time.DateOnly)
		out[i] = work.WeekCount{WeekStart: day, Count: counts[day]}
	}
	return out
}

func taskTitles(ts []work.Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Title)
	}
	return out
}

func TestDashboardFigures(t *testing.T) {
	t.Parallel()
	x := newDashboardFixture(t)
	ctx := context.Background()
	o := x.f.org
	get := func() work.Dashboard {
		t.Helper()
		d, err := x.dash.Get(ctx, o.tenant, dashboardNow)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	d := get()
	// Active: newTaskOrg's fixture project, Alpha, Beta, Echo; not Gamma (on hold), Delta (archived), nor the
	// search fixture's deleted two.
	if d.ActiveProjects != 4 {
		t.Errorf("active projects = %d, want 4", d.ActiveProjects)
	}
	if want := map[string]int64{"todo": 4, "in_progress": 1, "blocked": 2, "done": 5}; !mapsEqual(d.TasksByStatus, want) {
		t.Errorf("tasks by status = %v, want %v", d.TasksByStatus, want)
	}
	if want := weeks(map[string]int64{"2026-09-07": 1, "2026-11-16": 1, "2026-11-23": 2}); !slices.Equal(d.CompletedPerWeek, want) {
		t.Errorf("completed per week = %v, want %v", d.CompletedPerWeek, want)
	}
	if d.Overdue.Count != 4 || !slices.Equal(taskTitles(d.Overdue.Items), []string{"t11", "t1", "t10 in an archived project", "t2"}) {
		t.Errorf("overdue = %d %q", d.Overdue.Count, taskTitles(d.Overdue.Items))
	}
	if len(d.RecentActivity) != work.DashboardActivityItems {
		t.Fatalf("%d activity entries", len(d.RecentActivity))
	}
	if first := d.RecentActivity[0]; first.EntityType != "attachment" || first.EntityID != x.echoIDs[4] {
		t.Errorf("newest entry = %+v, want the attachment's", first)
	}
	for i := 1; i < len(d.RecentActivity); i++ {
		if d.RecentActivity[i].CreatedAt.After(d.RecentActivity[i-1].CreatedAt) {
			t.Errorf("activity not newest first at %d", i)
		}
	}

	// Deleting Echo takes it, its tasks and everything on them out of every figure.
	if err := x.f.projects.Delete(ctx, o.tenant, o.owner, "owner", x.echo.ID); err != nil {
		t.Fatal(err)
	}
	// Alpha changed last, so it leads the recent projects.
	if _, err := x.f.projects.Update(ctx, o.tenant, o.owner, x.alpha.ID, work.ProjectInput{Name: "Alpha 2"}); err != nil {
		t.Fatal(err)
	}
	d = get()
	if d.ActiveProjects != 3 || len(d.RecentProjects) != 3 || d.RecentProjects[0].Name != "Alpha 2" || d.RecentProjects[1].ID != x.beta.ID {
		t.Errorf("active projects = %d %+v", d.ActiveProjects, d.RecentProjects)
	}
	if want := map[string]int64{"todo": 4, "in_progress": 1, "blocked": 1, "done": 4}; !mapsEqual(d.TasksByStatus, want) {
		t.Errorf("tasks by status = %v, want %v", d.TasksByStatus, want)
	}
	if want := weeks(map[string]int64{"2026-09-07": 1, "2026-11-16": 1, "2026-11-23": 1}); !slices.Equal(d.CompletedPerWeek, want) {
		t.Errorf("completed per week = %v, want %v", d.CompletedPerWeek, want)
	}
	if d.Overdue.Count != 3 || !slices.Equal(taskTitles(d.Overdue.Items), []string{"t1", "t10 in an archived project", "t2"}) {
		t.Errorf("overdue = %d %q", d.Overdue.Count, taskTitles(d.Overdue.Items))
	}
	if len(d.RecentActivity) != work.DashboardActivityItems {
		t.Errorf("%d activity entries", len(d.RecentActivity))
	}
	for _, e := range d.RecentActivity {
		if slices.Contains(x.echoIDs, e.EntityID) {
			t.Errorf("activity of deleted Echo shown: %+v", e)
		}
	}

	// A day later t3 is overdue too; a week later the window has moved.
	d, err := x.dash.Get(ctx, o.tenant, dashboardNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d.Overdue.Count != 4 || d.CompletedPerWeek[11].WeekStart != "2026-11-23" {
		t.Errorf("a day later: overdue %d, last week %s", d.Overdue.Count, d.CompletedPerWeek[11].WeekStart)
	}
	d, err = x.dash.Get(ctx, o.tenant, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := weeks(map[string]int64{"2026-11-16": 1, "2026-11-23": 1}); d.CompletedPerWeek[0].WeekStart != "2026-09-14" ||
		d.CompletedPerWeek[11].WeekStart != "2026-11-30" || d.CompletedPerWeek[11].Count != 0 ||
		d.CompletedPerWeek[10] != want[11] || d.CompletedPerWeek[9] != want[10] {
		t.Errorf("next Monday: %v", d.CompletedPerWeek)
	}

	// Restoring Echo brings its figures back; task writes move the counts.
	if _, err := x.f.projects.Restore(ctx, o.tenant, o.owner, "owner", x.echo.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := x.f.tasks.Patch(ctx, o.tenant, o.owner, x.t11.ID, work.TaskPatch{Status: work.Given("done")}, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	if err := x.f.tasks.Delete(ctx, o.tenant, o.owner, x.t1.ID, work.IfMatch{}); err != nil {
		t.Fatal(err)
	}
	d = get()
	if want := map[string]int64{"todo": 3, "in_progress": 1, "blocked": 1, "done": 6}; !mapsEqual(d.TasksByStatus, want) {
		t.Errorf("after restore and writes: tasks by status = %v, want %v", d.TasksByStatus, want)
	}
	if d.Overdue.Count != 2 || d.ActiveProjects != 4 {
		t.Errorf("after restore and writes: overdue %d, active %d", d.Overdue.Count, d.ActiveProjects)
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// dashboardIsolation is the dashboard fixture as tenant A and, as tenant B, an organization with one project
// of its own and nothing else.
type dashboardIsolation struct {
	isolation.Tenants
	x     dashboardFixture
	other taskOrg
	dash  *work.Dashboards
}

// Tenant B's dashboard holds none of A's figures, through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*dashboardIsolation]{
	Name:   "dashboard",
	Stores: []string{"Dashboards"},
	Tables: []string{"tenant.task_counts"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *dashboardIsolation {
		x := newDashboardFixtureIn(t, d)
		other := newTaskOrg(t, d)
		return &dashboardIsolation{Tenants: isolation.Tenants{x.f.org.tenant, other.tenant}, x: x, other: other, dash: work.NewDashboards(w.DB)}
	},
	Ops: []isolation.Op[*dashboardIsolation]{
		// Run returns how many figures of A's the dashboard shows: as B it must show exactly B's one project; A's
		// control shows its 4 overdue tasks and 4 active projects.
		{Name: "get", Want: isolation.Nothing, Run: func(ctx context.Context, x *dashboardIsolation, as isolation.Side) (int, error) {
			d, err := x.dash.Get(ctx, x.Tenant(as), dashboardNow)
			if err != nil {
				return 0, err
			}
			if as == isolation.A {
				if d.Overdue.Count != 4 || d.ActiveProjects != 4 {
					return 0, fmt.Errorf("A's dashboard = %+v", d)
				}
				return int(d.Overdue.Count), nil
			}
			if d.ActiveProjects != 1 || len(d.RecentProjects) != 1 || d.RecentProjects[0].ID != x.other.project || d.Overdue.Count != 0 ||
				len(d.Overdue.Items) != 0 || len(d.RecentActivity) != 0 ||
				!mapsEqual(d.TasksByStatus, map[string]int64{"todo": 0, "in_progress": 0, "blocked": 0, "done": 0}) ||
				!slices.Equal(d.CompletedPerWeek, weeks(nil)) {
				return 1, fmt.Errorf("B's dashboard = %+v", d)
			}
			return 0, nil
		}},
	},
})

// TestTaskCountsUnderConcurrentWrites moves tasks of one project between statuses from several goroutines at
// once: the counters end equal to a count of the tasks, and no write fails (a deadlock would).
func TestTaskCountsUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	f := newSearchFixture(t)
	ctx := context.Background()
	var ids []uuid.UUID
	for i := range 16 {
		tk, err := f.tasks.Create(ctx, f.org.tenant, f.org.owner, f.billing.ID, work.TaskInput{Title: fmt.Sprintf("concurrent %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 15 {
				id := ids[(w*4+i)%len(ids)]
				var err error
				if i == 14 && w == 0 {
					err = f.tasks.Delete(ctx, f.org.tenant, f.org.owner, id, work.IfMatch{})
				} else {
					_, err = f.tasks.Patch(ctx, f.org.tenant, f.org.owner, id,
						work.TaskPatch{Status: work.Given(work.TaskStatuses[r.IntN(len(work.TaskStatuses))])}, work.IfMatch{})
				}
				// Worker 0 deletes ids[14]; another worker's later patch of it is a true not found, not a failure.
				if err != nil && !(id == ids[14] && errors.Is(err, db.ErrNotFound)) {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	counted := strs(t, f.d, `SELECT status || ' ' || count(*) FROM tenant.tasks WHERE tenant_id = $1 AND project_id = $2 AND deleted_at IS NULL
		GROUP BY status ORDER BY status`, f.org.tenant, f.billing.ID)
	counters := strs(t, f.d, `SELECT status || ' ' || tasks FROM tenant.task_counts WHERE tenant_id = $1 AND project_id = $2 AND tasks <> 0
		ORDER BY status`, f.org.tenant, f.billing.ID)
	if !slices.Equal(counted, counters) {
		t.Errorf("counters %v, tasks %v", counters, counted)
	}
}
