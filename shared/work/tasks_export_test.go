package work

import "github.com/google/uuid"

// ListTasksSQL exposes the list query of q to the plan test, which EXPLAINs every variant.
func ListTasksSQL(tenantID, projectID uuid.UUID, q TaskQuery) (string, []any, error) {
	if q.Order == "" {
		q.Order = DefaultTaskOrder
	}
	c, err := decodeCursor(q.Cursor, q.Order)
	if err != nil {
		return "", nil, err
	}
	sql, args := listTasksSQL(tenantID, projectID, q, c)
	return sql, args, nil
}

// TaskCursor returns the cursor that resumes a list in order right after t, for benchmarks of deep pages.
func TaskCursor(order string, t Task) string { return cursorOf(order, t) }
