package db

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Config is the database part of a function's configuration.
type Config struct {
	// URL is the directory store's DSN, connecting as the application role.
	URL string `env:"DATABASE_URL"`
	// TenantURL is the tenant store's default backend; empty means the directory's DSN.
	TenantURL string `env:"TENANT_DATABASE_URL"`
	// CloudSQLInstance ("project:region:instance"), when set, makes every connection go through the Cloud SQL
	// connector with IAM authentication; the DSN then names only the user and database.
	CloudSQLInstance string `env:"CLOUDSQL_INSTANCE"`
	// MaxConns is small on purpose: Cloud Run multiplies it by the number of instances.
	MaxConns int32 `env:"DB_MAX_CONNS, default=4"`
	// ExecMode is pgx's query exec mode. Behind PgBouncer older than 1.21, or without max_prepared_statements,
	// use "exec": the default caches named prepared statements that a transaction pooler cannot track.
	ExecMode string `env:"DB_EXEC_MODE, default=cache_statement"`
}

var execModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// Validate reports every problem with the database configuration at once.
func (c *Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required"))
	} else if _, err := pgx.ParseConfig(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("DATABASE_URL: %w", err))
	}
	if c.TenantURL != "" {
		if _, err := pgx.ParseConfig(c.TenantURL); err != nil {
			errs = append(errs, fmt.Errorf("TENANT_DATABASE_URL: %w", err))
		}
	}
	if c.MaxConns < 1 || c.MaxConns > 100 {
		errs = append(errs, fmt.Errorf("DB_MAX_CONNS must be between 1 and 100, got %d", c.MaxConns))
	}
	if _, ok := execModes[c.ExecMode]; !ok {
		errs = append(errs, fmt.Errorf("DB_EXEC_MODE %q is not one of cache_statement, cache_describe, describe_exec, exec, simple_protocol", c.ExecMode))
	}
	return errors.Join(errs...)
}
