// Package db is Hyperscale's data library: connection pools, the directory (control-plane) handle with its
// named platform entry points, and the tenant (data-plane) handle whose only way in is InTenant.
//
// Tenant code never holds a connection outside a transaction that began with SET LOCAL app.tenant_id, so
// row-level security always has a tenant to filter on and PgBouncer in transaction mode never sees session
// state (DESIGN.md, tenant data rules 2, 3 and 6).
package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"cloud.google.com/go/cloudsqlconn"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB holds the two stores' handles of one process.
type DB struct {
	// Directory is the control-plane store.
	Directory *Directory
	// Tenants is the data-plane store.
	Tenants *Tenants

	closers []func()
}

// Open connects to both stores as configured. When the tenant store has no DSN of its own, both handles share
// one pool, so a small instance holds one set of connections.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*DB, error) {
	d := &DB{}
	var dial func(ctx context.Context, network, addr string) (net.Conn, error)
	if cfg.CloudSQLInstance != "" {
		dialer, err := cloudsqlconn.NewDialer(ctx, cloudsqlconn.WithIAMAuthN(), cloudsqlconn.WithLazyRefresh())
		if err != nil {
			return nil, fmt.Errorf("open database: cloud sql dialer: %w", err)
		}
		d.closers = append(d.closers, func() { _ = dialer.Close() })
		instance := cfg.CloudSQLInstance
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) { return dialer.Dial(ctx, instance) }
	}
	dirPool, err := NewPool(ctx, cfg.URL, cfg, dial)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open directory: %w", err)
	}
	d.closers = append(d.closers, dirPool.Close)
	tenantPool := dirPool
	if cfg.TenantURL != "" && cfg.TenantURL != cfg.URL {
		if tenantPool, err = NewPool(ctx, cfg.TenantURL, cfg, dial); err != nil {
			d.Close()
			return nil, fmt.Errorf("open tenant store: %w", err)
		}
		d.closers = append(d.closers, tenantPool.Close)
	}
	d.Directory = NewDirectory(dirPool, log)
	d.Tenants = NewTenants(SingleBackend{Pool: tenantPool})
	return d, nil
}

// Close releases every pool and the Cloud SQL dialer, newest first.
func (d *DB) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// NewPool builds a pgx pool for dsn with the configured size and exec mode; dial, when not nil, replaces the
// network dialer (the Cloud SQL connector).
func NewPool(ctx context.Context, dsn string, cfg Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse dsn: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if mode, ok := execModes[cfg.ExecMode]; ok {
		pc.ConnConfig.DefaultQueryExecMode = mode
	}
	if dial != nil {
		pc.ConnConfig.DialFunc = dial
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return pool, nil
}

// InTx runs fn in a transaction on pool. It commits when fn returns nil and rolls back otherwise, keeping fn's
// error as the cause (a failed rollback is joined to it, never put in its place). Errors are classified into
// the package's sentinels.
func InTx(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) (err error) {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return Classify(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if err == nil {
			return
		}
		// The request's context may be the reason fn failed; the rollback still has to reach the server.
		rbErr := tx.Rollback(context.WithoutCancel(ctx))
		if rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
	}()
	if err := fn(tx); err != nil {
		return Classify(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}
