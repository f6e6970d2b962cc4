package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// deferred is a constraint or index of a loaded table that the seed drops before loading and recreates from its
// catalogued definition afterwards: building an index by sorting every row once is several times faster than
// maintaining it row by row, and adding a foreign key back checks every row in one join instead of one lookup
// per row. Primary keys and unique constraints are recreated before the indexes and foreign keys, so a
// duplicate or a dangling reference still fails the run, only later.
type deferred struct {
	kind   string // "key" (primary or unique), "index" or "foreign key"
	table  string
	name   string
	drop   string
	create string
}

// deferrable lists the primary keys, unique constraints, foreign keys and other indexes of tables, except the
// keys that tables outside the list reference.
func deferrable(ctx context.Context, conn *pgx.Conn, tables []string) ([]deferred, error) {
	rows, err := conn.Query(ctx, `
		SELECT CASE contype WHEN 'f' THEN 'foreign key' ELSE 'key' END, conrelid::regclass::text, quote_ident(conname),
			pg_get_constraintdef(oid), pg_relation_size(conrelid)
		FROM pg_constraint c
		WHERE contype IN ('p', 'u', 'f') AND conrelid = ANY ($1::text[]::regclass[])
		  -- A key that a table the seed does not load references stays (directory.identities' for password
		  -- resets, invitations, ...): dropping it would mean dropping foreign keys the seed knows nothing of.
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid
		                  AND c.contype <> 'f' AND NOT r.conrelid = ANY ($1::text[]::regclass[]))
		UNION ALL
		SELECT 'index', i.indrelid::regclass::text, format('%I.%I', n.nspname, ci.relname),
			pg_get_indexdef(i.indexrelid), pg_relation_size(i.indrelid)
		FROM pg_index i
		JOIN pg_class ci ON ci.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = ci.relnamespace
		WHERE i.indrelid = ANY ($1::text[]::regclass[])
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 5 DESC, 2, 3`, tables)
	if err != nil {
		return nil, fmt.Errorf("list keys and indexes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (deferred, error) {
		var d deferred
		var def string
		var size int64
		if err := r.Scan(&d.kind, &d.table, &d.name, &def, &size); err != nil {
			return d, err
		}
		if d.kind == "index" {
			d.drop, d.create = `DROP INDEX `+d.name, def
		} else {
			d.drop = `ALTER TABLE ` + d.table + ` DROP CONSTRAINT ` + d.name
			d.create = `ALTER TABLE ` + d.table + ` ADD CONSTRAINT ` + d.name + ` ` + def
		}
		return d, nil
	})
}

// dropDeferred drops the keys, indexes and foreign keys of the loaded tables, foreign keys first (a key
// cannot go while a foreign key references it), and returns them. The seed only fills an empty database, so
// a run that dies before they are back is re-run with -reset, which migrates them back.
func (c *config) dropDeferred(ctx context.Context) ([]deferred, error) {
	tables, err := c.loaded(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	all, err := deferrable(ctx, conn, tables)
	if err != nil {
		return nil, err
	}
	for _, kind := range []string{"foreign key", "index", "key"} {
		for _, d := range all {
			if d.kind != kind {
				continue
			}
			if _, err := conn.Exec(ctx, d.drop); err != nil {
				return nil, fmt.Errorf("drop %s %s: %w", d.kind, d.name, err)
			}
		}
	}
	return all, nil
}

// recreate builds back the dropped objects of one kind over the loading connections, largest table first.
// Adding foreign keys in parallel is safe: each statement locks its own table and then the one it references,
// and the references form no cycle, so the connections may wait on each other but never deadlock.
func (c *config) recreate(ctx context.Context, all []deferred, kind string) error {
	var jobs []string
	for _, d := range all {
		if d.kind == kind {
			jobs = append(jobs, d.create)
		}
	}
	return parallel(ctx, c, jobs)
}
