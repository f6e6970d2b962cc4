package tasks

import (
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/work"
)

func TestDashboardRoute(t *testing.T) {
	t.Parallel()
	x := newInsightRoutes(t)
	// A fixed clock: the dashboard is as of the environment's now, and tokens are minted by it too.
	now := time.Now().UTC().Truncate(time.Second)
	x.f.Env.Now = func() time.Time { return now }
	owner := x.f.Member(t, "owner")
	ctx := t.Context()
	p, err := x.projects.Create(ctx, owner.TenantID, owner.IdentityID, work.ProjectInput{Name: "Live"})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := x.projects.Create(ctx, owner.TenantID, owner.IdentityID, work.ProjectInput{Name: "Gone"})
	if err != nil {
		t.Fatal(err)
	}
	yesterday := now.AddDate(0, 0, -1).Format(time.DateOnly)
	for _, in := range []struct {
		project work.Project
		task    work.TaskInput
	}{
		{p, work.TaskInput{Title: "late", DueDate: &yesterday}},
		{p, work.TaskInput{Title: "finished", Status: ptr("done")}},
		{p, work.TaskInput{Title: "going", Status: ptr("in_progress")}},
		{gone, work.TaskInput{Title: "late but gone", DueDate: &yesterday}},
		{gone, work.TaskInput{Title: "finished but gone", Status: ptr("done")}},
	} {
		if _, err := x.tasks.Create(ctx, owner.TenantID, owner.IdentityID, in.project.ID, in.task); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.projects.Delete(ctx, owner.TenantID, owner.IdentityID, "owner", gone.ID); err != nil {
		t.Fatal(err)
	}

	viewer := x.f.Token(t, x.f.Join(t, owner.TenantID, "viewer"))
	res := x.get(t, viewer, "/v1/dashboard", 200)
	b := res.Body
	if b["active_projects"] != float64(1) {
		t.Errorf("active_projects = %v", b["active_projects"])
	}
	if recent, _ := b["recent_projects"].([]any); len(recent) != 1 || recent[0].(map[string]any)["id"] != p.ID.String() {
		t.Errorf("recent_projects = %v", b["recent_projects"])
	}
	if st, _ := b["tasks_by_status"].(map[string]any); st["todo"] != float64(1) || st["done"] != float64(1) || st["in_progress"] != float64(1) ||
		st["blocked"] != float64(0) || len(st) != 4 {
		t.Errorf("tasks_by_status = %v", b["tasks_by_status"])
	}
	weeks, _ := b["completed_per_week"].([]any)
	if len(weeks) != 12 {
		t.Fatalf("completed_per_week = %v", b["completed_per_week"])
	}
	last := weeks[11].(map[string]any)
	// The task was completed at the database's now, the clock is the process's: the same week but for a few
	// seconds each Monday at midnight.
	if last["week_start"] != work.WeekStart(now).Format(time.DateOnly) || (last["count"] != float64(1) && now.Sub(work.WeekStart(now)) > time.Minute) {
		t.Errorf("this week = %v", last)
	}
	if first := weeks[0].(map[string]any); first["week_start"] != work.WeekStart(now).AddDate(0, 0, -77).Format(time.DateOnly) || first["count"] != float64(0) {
		t.Errorf("first week = %v", first)
	}
	overdue, _ := b["overdue"].(map[string]any)
	items, _ := overdue["items"].([]any)
	if overdue["count"] != float64(1) || len(items) != 1 || items[0].(map[string]any)["title"] != "late" || items[0].(map[string]any)["due_date"] != yesterday {
		t.Errorf("overdue = %v", b["overdue"])
	}
	activity, _ := b["recent_activity"].([]any)
	if len(activity) != 4 { // Live's creation and its three tasks'; nothing of Gone
		t.Errorf("recent_activity = %v", b["recent_activity"])
	}
	for _, e := range activity {
		if id := e.(map[string]any)["entity_id"]; id == gone.ID.String() {
			t.Errorf("activity of a deleted project: %v", e)
		}
	}
}

// TestDashboardRouteAnotherTenantSeesNothing: tenant B's dashboard counts none of A's projects and tasks.
func TestDashboardRouteAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	x := newInsightRoutes(t)
	a, b := x.f.Member(t, "owner"), x.f.Member(t, "owner")
	p, err := x.projects.Create(t.Context(), a.TenantID, a.IdentityID, work.ProjectInput{Name: "A's"})
	if err != nil {
		t.Fatal(err)
	}
	yesterday := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	if _, err := x.tasks.Create(t.Context(), a.TenantID, a.IdentityID, p.ID, work.TaskInput{Title: "A's task", DueDate: &yesterday}); err != nil {
		t.Fatal(err)
	}
	res := x.get(t, x.f.Token(t, b), "/v1/dashboard", 200)
	st, _ := res.Body["tasks_by_status"].(map[string]any)
	overdue, _ := res.Body["overdue"].(map[string]any)
	if res.Body["active_projects"] != float64(0) || st["todo"] != float64(0) || overdue["count"] != float64(0) ||
		len(res.Body["recent_activity"].([]any)) != 0 || len(res.Body["recent_projects"].([]any)) != 0 {
		t.Errorf("B's dashboard = %s", res.Raw)
	}
	if res := x.get(t, x.f.Token(t, a), "/v1/dashboard", 200); res.Body["active_projects"] != float64(1) {
		t.Errorf("A's dashboard = %s", res.Raw)
	}
}

func ptr[T any](v T) *T { return &v }
