package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// derivation fills a table whose rows the application writes alongside other tables' rows, as a projection
// of rows already loaded: the label filter's tenant.task_labels from tasks.labels, the project search's
// tenant.project_name_suffixes from project names, full-text search's tenant.search_terms from the lexemes of
// projects, tasks and comments, the dashboard's tenant.task_counts from the tasks. The statements are those
// of the migrations that filled each table for existing rows (schema/tenant/00007, 00008), restricted to a
// range of tenants: derived in the server, the rows match what the application would have written, exactly
// and without round trips. They run as the owner on the owner's own tables: DESIGN.md rule 8 forbids INSERT
// ... SELECT to the application role under row-level security on Citus, not to a bulk load. Each statement
// takes the tenant ids from $1 (inclusive) to $2 (exclusive, or NULL for no end).
type derivation struct {
	table string
	stmts []string
}

// inRange is the tenant range condition of a derivation's statements, for the table aliased a.
func inRange(a string) string {
	return a + ".tenant_id >= $1 AND ($2::uuid IS NULL OR " + a + ".tenant_id < $2)"
}

// taskLabelsTable holds one row per (task, label) (schema/tenant/00005_tasks.sql).
const taskLabelsTable = "tenant.task_labels"

// searchTermsTable is full-text search's inverted index (schema/tenant/00008_search.sql).
const searchTermsTable = "tenant.search_terms"

var derivations = []derivation{
	{"tenant.project_name_suffixes", []string{`INSERT INTO tenant.project_name_suffixes (tenant_id, suffix, project_id)
		SELECT DISTINCT p.tenant_id, substr(w.word, i), p.id
		FROM tenant.projects p,
			regexp_split_to_table(lower(p.name), '[^[:alnum:]]+') AS w(word),
			generate_series(1, char_length(w.word)) AS i
		WHERE w.word <> '' AND ` + inRange("p")}},
	{taskLabelsTable, []string{`INSERT INTO tenant.task_labels (tenant_id, project_id, label, task_id)
		SELECT t.tenant_id, t.project_id, l.label, t.id
		FROM tenant.tasks t CROSS JOIN LATERAL unnest(t.labels) AS l(label)
		WHERE ` + inRange("t")}},
	{searchTermsTable, []string{
		`INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
		SELECT p.tenant_id, l.lexeme, p.id, 1,
			(CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
		FROM tenant.projects p,
			unnest(setweight(to_tsvector('english', p.name), 'A') || to_tsvector('english', p.description)) AS l
		WHERE ` + inRange("p"),
		`INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
		SELECT t.tenant_id, l.lexeme, t.id, 2,
			(CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
		FROM tenant.tasks t,
			unnest(setweight(to_tsvector('english', t.title), 'A') || to_tsvector('english', t.description)) AS l
		WHERE t.deleted_at IS NULL AND ` + inRange("t"),
		`INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
		SELECT c.tenant_id, l.lexeme, c.id, 3, 1
		FROM tenant.comments c, unnest(to_tsvector('english', c.body)) AS l
		WHERE c.deleted_at IS NULL AND ` + inRange("c"),
	}},
	{"tenant.task_counts", []string{`INSERT INTO tenant.task_counts (tenant_id, project_id, status, tasks)
		SELECT t.tenant_id, t.project_id, t.status, count(*) FROM tenant.tasks t
		WHERE t.deleted_at IS NULL AND ` + inRange("t") + `
		GROUP BY t.tenant_id, t.project_id, t.status`}},
}

// derive runs d over c.workers connections, each over its range of tenants.
func (c *config) derive(ctx context.Context, d derivation) (phaseResult, error) {
	res := phaseResult{name: d.table}
	conn, err := c.connect(ctx)
	if err != nil {
		return res, err
	}
	var exists bool
	err = conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, d.table).Scan(&exists)
	conn.Close(ctx)
	if err != nil {
		return res, err
	}
	if !exists {
		res.note = "table absent: skipped"
		return res, nil
	}
	start := time.Now()
	var count atomic.Int64
	errs := make([]error, c.workers)
	var wg sync.WaitGroup
	for w := range c.workers {
		lo, hi := c.tenants*w/c.workers, c.tenants*(w+1)/c.workers
		from := pgtype.UUID{Bytes: c.plan(lo).id, Valid: true}
		to := pgtype.UUID{}
		if hi < c.tenants {
			to = pgtype.UUID{Bytes: c.plan(hi).id, Valid: true}
		}
		wg.Go(func() {
			conn, err := c.connect(ctx)
			if err != nil {
				errs[w] = err
				return
			}
			defer conn.Close(ctx)
			for _, stmt := range d.stmts {
				tag, err := conn.Exec(ctx, stmt, from, to)
				if err != nil {
					errs[w] = fmt.Errorf("worker %d: %w", w, err)
					return
				}
				count.Add(tag.RowsAffected())
			}
		})
	}
	wg.Wait()
	res.rows, res.took = count.Load(), time.Since(start)
	res.note = "derived in the server"
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("derive %s: %w", d.table, err)
	}
	return res, nil
}
