package work

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SearchStatement returns the search statement Find sends for text (with a cursor when cursor is set), for the
// plan test; the words are read in tx, as Find reads them. ok is false when the search can find nothing.
func SearchStatement(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, text string, cursor bool) (sql string, args []any, ok bool, err error) {
	w, ok, err := readSearchWords(ctx, tx, tenantID, text)
	if err != nil || !ok {
		return "", nil, ok, err
	}
	var c *searchCursor
	if cursor {
		c = &searchCursor{Score: 4, After: uuid.Must(uuid.NewV7())}
	}
	sql, args = searchSQL(tenantID, w, c, 21)
	return sql, args, true, nil
}

// WordsSQL exposes the statement that reads a search's words, for the plan test.
var WordsSQL = wordsSQL

// DashboardRead is one of the dashboard's reads with its arguments, for the plan test.
type DashboardRead struct {
	Name, SQL string
	Args      []any
	// Index is the index the read is designed for.
	Index string
}

// DashboardReads returns the dashboard's reads for tenantID as Get sends them at now.
func DashboardReads(tenantID uuid.UUID, now time.Time) []DashboardRead {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Format(dateLayout)
	first := WeekStart(now).AddDate(0, 0, -7*(DashboardWeeks-1))
	return []DashboardRead{
		{"active projects", dashboardActiveCountSQL, []any{tenantID}, "projects_active"},
		{"recent projects", dashboardRecentProjectsSQL, []any{tenantID, DashboardRecentProjects}, "projects_active"},
		{"tasks by status", dashboardStatusSQL, []any{tenantID}, "task_counts_pkey"},
		{"completed per week", dashboardCompletedSQL, []any{tenantID, first, first.AddDate(0, 0, 7*DashboardWeeks)}, "tasks_completed"},
		{"overdue count", dashboardOverdueCountSQL, []any{tenantID, today}, "tasks_open_due"},
		{"overdue tasks", dashboardOverdueSQL, []any{tenantID, today, DashboardOverdueItems}, "tasks_open_due"},
		{"recent activity", dashboardActivitySQL, []any{tenantID, DashboardActivityItems}, "activity_time"},
	}
}
