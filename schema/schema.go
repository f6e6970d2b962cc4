// Package schema holds the embedded SQL migrations of Hyperscale's two stores and applies them.
//
// The directory store (control plane: tenants, identities, memberships, refresh tokens) and the tenant store
// (data plane: everything a tenant owns) are migrated separately, each with its own version table, because in
// production they may live on different clusters. In dev and tests both live in one database, in the
// PostgreSQL schemas "directory" and "tenant".
package schema

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver goose runs on
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// AppRole is the role the functions connect as (or are granted): it owns nothing and has no BYPASSRLS.
const AppRole = "hyperscale_app"

// Store names one of the two stores; it is also the PostgreSQL schema its tables live in.
type Store string

const (
	// Directory is the control-plane store.
	Directory Store = "directory"
	// Tenant is the data-plane store.
	Tenant Store = "tenant"
)

// Stores lists both stores in the order they are migrated.
var Stores = []Store{Directory, Tenant}

//go:embed directory/*.sql tenant/*.sql
var migrations embed.FS

// Migrate applies every pending migration of store to the database behind dsn. It must run as the role
// that is to own the tables, never as AppRole. Concurrent callers are serialised by a PostgreSQL session lock.
func Migrate(ctx context.Context, dsn string, store Store, log *slog.Logger) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("migrate %s: open: %w", store, err)
	}
	defer db.Close()
	// The version table lives inside the store's schema, so the schema has to exist before goose looks.
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+string(store)); err != nil {
		return fmt.Errorf("migrate %s: create schema: %w", store, err)
	}
	p, err := provider(db, store, log)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", store, err)
	}
	return nil
}

// Files returns the migration files of store, for checks and tools that read them.
func Files(store Store) (fs.FS, error) {
	return fs.Sub(migrations, string(store))
}

func provider(db *sql.DB, store Store, log *slog.Logger) (*goose.Provider, error) {
	fsys, err := Files(store)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", store, err)
	}
	st, err := database.NewStore(database.DialectPostgres, string(store)+".goose_db_version")
	if err != nil {
		return nil, fmt.Errorf("migrate %s: version store: %w", store, err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migrate %s: locker: %w", store, err)
	}
	opts := []goose.ProviderOption{goose.WithStore(st), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	p, err := goose.NewProvider("", db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", store, err)
	}
	return p, nil
}
