package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// column is one column the seed knows how to fill from a row of type T.
type column[T any] struct {
	name  string
	value func(*T) any
}

// table is a table the seed loads and the columns it can generate for it.
type table[T any] struct {
	schema, name string
	cols         []column[T]
}

func (t table[T]) String() string { return t.schema + "." + t.name }

// dbColumn is a column as the catalogue describes it.
type dbColumn struct {
	name                          string
	nullable, defaulted, computed bool
}

// tableColumns reads a table's columns, or nil when the table does not exist.
func tableColumns(ctx context.Context, conn *pgx.Conn, schema, name string) ([]dbColumn, error) {
	rows, err := conn.Query(ctx, `SELECT column_name, is_nullable = 'YES', column_default IS NOT NULL,
			is_generated = 'ALWAYS' OR is_identity = 'YES'
		FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, name)
	if err != nil {
		return nil, fmt.Errorf("columns of %s.%s: %w", schema, name, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (dbColumn, error) {
		var c dbColumn
		err := r.Scan(&c.name, &c.nullable, &c.defaulted, &c.computed)
		return c, err
	})
}

// resolve matches the seed's columns against the table as migrated now, in the table's column order. A
// column the seed does not know is left to its default (or NULL, or its generation expression); a NOT NULL
// column without a default that the seed does not know is an error, so a schema change that the seed must
// learn about is caught here rather than by a failed COPY ten minutes in. ok is false when the table does not
// exist.
func (t table[T]) resolve(ctx context.Context, conn *pgx.Conn) (cols []column[T], skipped []string, ok bool, err error) {
	have, err := tableColumns(ctx, conn, t.schema, t.name)
	if err != nil || len(have) == 0 {
		return nil, nil, false, err
	}
	known := make(map[string]column[T], len(t.cols))
	for _, c := range t.cols {
		known[c.name] = c
	}
	var missing []string
	for _, h := range have {
		c, ok := known[h.name]
		switch {
		case h.computed:
		case ok:
			cols = append(cols, c)
			continue
		case !h.nullable && !h.defaulted:
			missing = append(missing, h.name)
		}
		skipped = append(skipped, h.name)
	}
	if len(missing) > 0 {
		return nil, nil, true, fmt.Errorf("%s has required columns the seed does not generate: %s (teach scripts/seed about them)", t, strings.Join(missing, ", "))
	}
	return cols, skipped, true, nil
}

// source feeds COPY from a pull iterator, building each row's values only when COPY asks for them: nothing
// but the current row is ever held in memory.
type source[T any] struct {
	next  func() (*T, bool)
	cols  []column[T]
	row   *T
	vals  []any
	count *atomic.Int64
}

func (s *source[T]) Next() bool {
	row, ok := s.next()
	if ok {
		s.row = row
		s.count.Add(1)
	}
	return ok
}

func (s *source[T]) Values() ([]any, error) {
	for i, c := range s.cols {
		s.vals[i] = c.value(s.row)
	}
	return s.vals, nil
}

func (s *source[T]) Err() error { return nil }

// generator yields the rows of the tenants with index in [lo, hi), in tenant order.
type generator[T any] func(worker, lo, hi int) iter.Seq[*T]

// load copies the rows of every tenant into t over c.workers connections, each taking a contiguous range of
// tenants. Ranges of tenants are ranges of tenant ids (UUIDv7 in index order), so each connection appends to
// its own end of the indexes that lead with tenant_id instead of splitting pages all over them.
func load[T any](ctx context.Context, c *config, t table[T], gen generator[T]) (phaseResult, error) {
	res := phaseResult{name: t.String()}
	conn, err := c.connect(ctx)
	if err != nil {
		return res, err
	}
	cols, skipped, ok, err := t.resolve(ctx, conn)
	conn.Close(ctx)
	if err != nil {
		return res, err
	}
	if !ok {
		res.note = "table absent: skipped"
		return res, nil
	}
	if len(skipped) > 0 {
		res.note = "not generated (default or generated column): " + strings.Join(skipped, ", ")
	}
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.name
	}
	var count atomic.Int64
	start := time.Now()
	stop := c.progress(t.String(), &count, start)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, c.workers)
	var wg sync.WaitGroup
	for w := range c.workers {
		lo, hi := c.tenants*w/c.workers, c.tenants*(w+1)/c.workers
		wg.Go(func() {
			if err := copyRange(ctx, c, t, names, cols, gen(w, lo, hi), &count); err != nil {
				errs[w] = fmt.Errorf("worker %d (tenants %d..%d): %w", w, lo, hi-1, err)
				cancel()
			}
		})
	}
	wg.Wait()
	res.rows, res.took = count.Load(), time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("load %s: %w", t, err)
	}
	return res, nil
}

func copyRange[T any](ctx context.Context, c *config, t table[T], names []string, cols []column[T], seq iter.Seq[*T], count *atomic.Int64) error {
	conn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	next, stop := iter.Pull(seq)
	defer stop()
	src := &source[T]{next: next, cols: cols, vals: make([]any, len(cols)), count: count}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{t.schema, t.name}, names, src)
	return err
}

// Value conversions into the types pgx encodes without reflection.

func uuidVal(b [16]byte) any { return pgtype.UUID{Bytes: b, Valid: true} }

func optUUID(b [16]byte) any {
	if b == ([16]byte{}) {
		return nil
	}
	return uuidVal(b)
}

func tsVal(ms int64) any { return time.UnixMilli(ms).UTC() }

func optTS(ms int64) any {
	if ms == 0 {
		return nil
	}
	return tsVal(ms)
}

func optDate(ms int64) any {
	if ms == 0 {
		return nil
	}
	return pgtype.Date{Time: time.UnixMilli(ms).UTC(), Valid: true}
}

// parallel runs jobs over c.workers connections, each connection taking the next job when it is free.
func parallel(ctx context.Context, c *config, jobs []string) error {
	var next atomic.Int64
	errs := make([]error, c.workers)
	var wg sync.WaitGroup
	for w := range c.workers {
		wg.Go(func() {
			conn, err := c.connect(ctx)
			if err != nil {
				errs[w] = err
				return
			}
			defer conn.Close(ctx)
			for {
				k := int(next.Add(1)) - 1
				if k >= len(jobs) {
					return
				}
				t0 := time.Now()
				if _, err := conn.Exec(ctx, jobs[k]); err != nil {
					errs[w] = fmt.Errorf("%s: %w", jobs[k], err)
					return
				}
				c.logf("    %-7s %s", round(time.Since(t0)), jobs[k])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
