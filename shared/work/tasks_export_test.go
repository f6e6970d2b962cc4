package work

import "github.com/google/uuid"

// ListTasksSQL exposes the list query of q to the plan test, which EXPLAINs every variant.
func ListTasksSQL(tenantID, projectID uuid.UUID, q TaskQuery) (string, []any, error) {
	if q.Order == "" {
		q.Order = DefaultTaskOrder
	}
	c, err := decodeCursor(q.cursors, q.cursorScope(projectID), q.Cursor, q.Order)
	if err != nil {
		return "", nil, err
	}
	sql, args := listTasksSQL(tenantID, projectID, q, c)
	return sql, args, nil
}

// TaskCursor returns the cursor that resumes the list q of project projectID (its filters, in q.Order) right
// after t, signed as a TaskQuery built by hand opens it, for benchmarks of deep pages.
func TaskCursor(projectID uuid.UUID, q TaskQuery, t Task) string {
	if q.Order == "" {
		q.Order = DefaultTaskOrder
	}
	return cursorOf(nil, q.cursorScope(projectID), q.Order, t)
}
