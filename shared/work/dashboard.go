package work

import (
	"context"
	"fmt"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Sizes of the dashboard's lists.
const (
	DashboardWeeks          = 12
	DashboardRecentProjects = 5
	DashboardOverdueItems   = 10
	DashboardActivityItems  = 10
)

// Dashboard is an organization's overview. Every figure leaves out deleted projects, with their tasks and
// everything on them; archived projects' tasks count, as they are still the organization's.
type Dashboard struct {
	// ActiveProjects counts live projects that are not archived and have status active.
	ActiveProjects int64 `json:"active_projects"`
	// RecentProjects lists the active projects changed last, latest first.
	RecentProjects []Project `json:"recent_projects"`
	// TasksByStatus counts live tasks by status, every status present.
	TasksByStatus map[string]int64 `json:"tasks_by_status"`
	// CompletedPerWeek counts tasks completed (and still done) in each of the last DashboardWeeks weeks,
	// Monday to Sunday in UTC, oldest first; the last is the current week so far.
	CompletedPerWeek []WeekCount `json:"completed_per_week"`
	// Overdue counts open tasks due before today (UTC) and lists the first of them by due date.
	Overdue OverdueTasks `json:"overdue"`
	// RecentActivity is the latest of the organization's activity trail, newest first, leaving out entries
	// about deleted projects and their tasks, comments and attachments.
	RecentActivity []ActivityEntry `json:"recent_activity"`
}

// WeekCount is the count of one week.
type WeekCount struct {
	// WeekStart is the week's Monday, "YYYY-MM-DD".
	WeekStart string `json:"week_start"`
	Count     int64  `json:"count"`
}

// OverdueTasks is the dashboard's overdue figure.
type OverdueTasks struct {
	Count int64  `json:"count"`
	Items []Task `json:"items"`
}

// WeekStart returns the Monday, at 00:00 UTC, of the week that holds t.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// Dashboards reads organizations' dashboards.
type Dashboards struct {
	tenants *db.Tenants
}

// NewDashboards returns the dashboard reader over d's tenant handle.
func NewDashboards(d *db.DB) *Dashboards {
	return &Dashboards{tenants: d.Tenants}
}

// deletedProjectsSQL is the set every figure leaves out, read from the small projects_deleted index.
const deletedProjectsSQL = `SELECT id FROM tenant.projects WHERE tenant_id = $1 AND deleted_at IS NOT NULL`

// activeProjectSQL is the condition of an active project, the predicate of the projects_active index.
const activeProjectSQL = `tenant_id = $1 AND deleted_at IS NULL AND archived_at IS NULL AND status = 'active'`

// The dashboard's reads. Each is an index range leading with tenant_id (schema/tenant/00008) whose conditions
// compare plain columns with parameters, so that row-level security lets them be index conditions.
var (
	// dashboardActiveCountSQL counts active projects: an index-only scan of projects_active.
	dashboardActiveCountSQL = `SELECT count(*) FROM tenant.projects WHERE ` + activeProjectSQL
	// dashboardRecentProjectsSQL walks projects_active backwards.
	dashboardRecentProjectsSQL = `SELECT ` + projectColumns + ` FROM tenant.projects WHERE ` + activeProjectSQL +
		` ORDER BY updated_at DESC, id DESC LIMIT $2`
	// dashboardStatusSQL sums tenant.task_counts, a few rows per project, rather than counting the tasks.
	dashboardStatusSQL = `SELECT status, greatest(sum(tasks), 0)::bigint FROM tenant.task_counts
		WHERE tenant_id = $1 AND project_id NOT IN (` + deletedProjectsSQL + `) GROUP BY status`
	// dashboardCompletedSQL counts completions by week ($2, a Monday, is the origin of the bins) in one range
	// of tasks_completed, an index-only scan. completed_at is set while a task is done and cleared when it is
	// reopened, so a reopened task no longer counts.
	dashboardCompletedSQL = `SELECT date_bin('7 days', completed_at, $2), count(*) FROM tenant.tasks
		WHERE tenant_id = $1 AND deleted_at IS NULL AND completed_at IS NOT NULL AND completed_at >= $2 AND completed_at < $3
			AND project_id NOT IN (` + deletedProjectsSQL + `)
		GROUP BY 1`
	// overdueSQL is the condition of an overdue task ($2 is today), the range of tasks_open_due.
	overdueSQL = `t.tenant_id = $1 AND t.deleted_at IS NULL AND t.completed_at IS NULL AND t.status <> 'done' AND t.due_key < $2::date
		AND t.project_id NOT IN (` + deletedProjectsSQL + `)`
	// dashboardOverdueCountSQL counts overdue tasks: an index-only scan of tasks_open_due.
	dashboardOverdueCountSQL = `SELECT count(*) FROM tenant.tasks t WHERE ` + overdueSQL
	// dashboardOverdueSQL lists the first overdue tasks by due date, the same range read in order.
	dashboardOverdueSQL = `SELECT ` + taskColumns + ` FROM tenant.tasks t WHERE ` + overdueSQL + ` ORDER BY t.due_key, t.id LIMIT $3`
	// dashboardActivitySQL walks activity_time backwards, keeping entries whose project (the entity itself,
	// or the project of its task, comment or attachment) is not deleted; each check is a primary-key lookup
	// of the one table the entry's type names (CASE evaluates only that branch), and project_id is named once
	// so that it is computed once. Entries of no project (members, settings, domains) are kept.
	dashboardActivitySQL = `SELECT a.id, a.actor_id, a.entity_type, a.entity_id, a.action, a.changes, a.created_at
		FROM tenant.activity a
		CROSS JOIN LATERAL (SELECT CASE a.entity_type
			WHEN 'project' THEN a.entity_id
			WHEN 'task' THEN (SELECT t.project_id FROM tenant.tasks t WHERE t.tenant_id = $1 AND t.id = a.entity_id)
			WHEN 'comment' THEN (SELECT t.project_id FROM tenant.comments c JOIN tenant.tasks t ON t.tenant_id = c.tenant_id AND t.id = c.task_id
				WHERE c.tenant_id = $1 AND c.id = a.entity_id)
			WHEN 'attachment' THEN (SELECT t.project_id FROM tenant.attachments f JOIN tenant.tasks t ON t.tenant_id = f.tenant_id AND t.id = f.task_id
				WHERE f.tenant_id = $1 AND f.id = a.entity_id)
			END AS project_id) x
		WHERE a.tenant_id = $1 AND coalesce(x.project_id NOT IN (` + deletedProjectsSQL + `), true)
		ORDER BY a.created_at DESC, a.id DESC LIMIT $2`
)

// Get returns tenantID's dashboard as of now, whose UTC date decides what is overdue and which weeks are
// shown. Its reads travel as one batch, a single round trip (DESIGN.md rule 9), in one transaction, so the
// figures agree with each other.
func (s *Dashboards) Get(ctx context.Context, tenantID uuid.UUID, now time.Time) (Dashboard, error) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	first := WeekStart(now).AddDate(0, 0, -7*(DashboardWeeks-1))
	end := first.AddDate(0, 0, 7*DashboardWeeks)
	d := Dashboard{
		RecentProjects:   []Project{},
		TasksByStatus:    map[string]int64{},
		CompletedPerWeek: make([]WeekCount, DashboardWeeks),
		Overdue:          OverdueTasks{Items: []Task{}},
		RecentActivity:   []ActivityEntry{},
	}
	for _, st := range TaskStatuses {
		d.TasksByStatus[st] = 0
	}
	for i := range d.CompletedPerWeek {
		d.CompletedPerWeek[i].WeekStart = first.AddDate(0, 0, 7*i).Format(dateLayout)
	}
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(dashboardActiveCountSQL, tenantID).QueryRow(func(r pgx.Row) error { return r.Scan(&d.ActiveProjects) })
		b.Queue(dashboardRecentProjectsSQL, tenantID, DashboardRecentProjects).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				p, err := scanProject(rows)
				if err != nil {
					return err
				}
				d.RecentProjects = append(d.RecentProjects, p)
			}
			return rows.Err()
		})
		b.Queue(dashboardStatusSQL, tenantID).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					status string
					n      int64
				)
				if err := rows.Scan(&status, &n); err != nil {
					return err
				}
				d.TasksByStatus[status] = n
			}
			return rows.Err()
		})
		b.Queue(dashboardCompletedSQL, tenantID, first, end).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var (
					week time.Time
					n    int64
				)
				if err := rows.Scan(&week, &n); err != nil {
					return err
				}
				if i := int(week.Sub(first).Hours() / (24 * 7)); i >= 0 && i < DashboardWeeks {
					d.CompletedPerWeek[i].Count = n
				}
			}
			return rows.Err()
		})
		day := today.Format(dateLayout)
		b.Queue(dashboardOverdueCountSQL, tenantID, day).QueryRow(func(r pgx.Row) error { return r.Scan(&d.Overdue.Count) })
		b.Queue(dashboardOverdueSQL, tenantID, day, DashboardOverdueItems).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				t, err := scanTask(rows)
				if err != nil {
					return err
				}
				d.Overdue.Items = append(d.Overdue.Items, t)
			}
			return rows.Err()
		})
		b.Queue(dashboardActivitySQL, tenantID, DashboardActivityItems).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var e ActivityEntry
				if err := rows.Scan(&e.ID, &e.ActorID, &e.EntityType, &e.EntityID, &e.Action, &e.Changes, &e.CreatedAt); err != nil {
					return err
				}
				d.RecentActivity = append(d.RecentActivity, e)
			}
			return rows.Err()
		})
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	return d, nil
}

// queueTaskCount queues on b the move of one task in its project's live-task counts, from status from to
// status to ("" from for a new task, "" to for a deleted one). Both rows go in one statement in status order,
// so that two transactions moving tasks between the same statuses lock the rows in the same order and never
// deadlock.
func queueTaskCount(b *pgx.Batch, tenantID, projectID uuid.UUID, from, to string) {
	type delta struct {
		status string
		n      int64
	}
	var ds []delta
	if from != "" {
		ds = append(ds, delta{from, -1})
	}
	if to != "" {
		ds = append(ds, delta{to, 1})
	}
	if len(ds) == 2 && ds[1].status < ds[0].status {
		ds[0], ds[1] = ds[1], ds[0]
	}
	sql := `INSERT INTO tenant.task_counts AS c (tenant_id, project_id, status, tasks) VALUES ($1, $2, $3, $4)`
	args := []any{tenantID, projectID, ds[0].status, ds[0].n}
	if len(ds) == 2 {
		sql += `, ($1, $2, $5, $6)`
		args = append(args, ds[1].status, ds[1].n)
	}
	b.Queue(sql+` ON CONFLICT (tenant_id, project_id, status) DO UPDATE SET tasks = c.tasks + excluded.tasks`, args...)
}

// syncTaskDerived keeps what is derived from a task in step with a write of it, in the write's transaction:
// its project's live-task counts by status (tenant.task_counts, the dashboard's) and its rows in the search
// index. old is the task before the write (nil for a new task), next after it (nil for a deleted one). One
// round trip, two when the title or description changed.
func syncTaskDerived(ctx context.Context, tx pgx.Tx, tenantID, projectID, id uuid.UUID, old, next *Task) error {
	var (
		from, to string
		ot, nt   searchText
	)
	if old != nil {
		from, ot = old.Status, searchText{title: old.Title, body: old.Description}
	}
	if next != nil {
		to, nt = next.Status, searchText{title: next.Title, body: next.Description}
	}
	b := &pgx.Batch{}
	if from != to {
		queueTaskCount(b, tenantID, projectID, from, to)
	}
	return writeSearchTerms(ctx, tx, b, tenantID, searchKindTask, id, ot, nt)
}
