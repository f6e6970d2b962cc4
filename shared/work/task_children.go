package work

import (
	"context"
	"fmt"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// liveTaskProjectSQL returns a live task's project, or no row when the task, or its project, is deleted or
// belongs to another tenant. Comments and attachments check their task with it before reading or writing.
const liveTaskProjectSQL = `SELECT t.project_id FROM tenant.tasks t
	JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
	WHERE t.tenant_id = $1 AND t.id = $2 AND t.deleted_at IS NULL AND p.deleted_at IS NULL`

// liveParentTask returns the project of task taskID when the task is live, and db.ErrNotFound otherwise.
func liveParentTask(ctx context.Context, tx pgx.Tx, tenantID, taskID uuid.UUID) (uuid.UUID, error) {
	var projectID uuid.UUID
	if err := tx.QueryRow(ctx, liveTaskProjectSQL, tenantID, taskID).Scan(&projectID); err != nil {
		return uuid.Nil, fmt.Errorf("task %s: %w", taskID, db.Classify(err))
	}
	return projectID, nil
}

// taskPageQuery selects one page of what hangs under a task: first without a cursor ($1 the tenant, $2 the
// task, $3 the limit), after from the cursor's id ($4) on.
type taskPageQuery struct {
	first, after string
}

// pageOfTask reads one page of what hangs under the live task taskID (its comments, its attachments). The
// task check and the page travel in one round trip; the check's answer decides between 404 and a page.
func pageOfTask[T any](ctx context.Context, tenants *db.Tenants, tenantID, taskID uuid.UUID, req page.Request, q taskPageQuery,
	scan pgx.RowToFunc[T], id func(T) uuid.UUID) (page.Page[T], error) {
	var items []T
	err := tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(liveTaskProjectSQL, tenantID, taskID)
		if req.After == uuid.Nil {
			b.Queue(q.first, tenantID, taskID, req.Limit+1)
		} else {
			b.Queue(q.after, tenantID, taskID, req.Limit+1, req.After)
		}
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		var projectID uuid.UUID
		if err := br.QueryRow().Scan(&projectID); err != nil {
			return fmt.Errorf("task %s: %w", taskID, db.Classify(err))
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, scan)
		if err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return page.Page[T]{}, err
	}
	return page.Of(req, items, id), nil
}
