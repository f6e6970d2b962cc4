package db

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Entry names one of the few audited doors to cross-tenant work (DESIGN.md rule 5). Its field is unexported,
// so the set below is the whole set: adding a door means adding it here, where review sees it.
type Entry struct{ name string }

// String returns the entry's name as it appears in the audit log.
func (e Entry) String() string { return e.name }

// The platform entry points.
var (
	// EntrySignUp creates an organization, its owner identity and the owner's membership.
	EntrySignUp = Entry{"sign_up"}
	// EntryLogin looks an identity up by email and reads its memberships across organizations.
	EntryLogin = Entry{"login"}
)

// Directory is the handle on the control-plane store. It has no general query method: every use goes through
// a named entry point, which is logged.
type Directory struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// NewDirectory wraps pool as the directory handle.
func NewDirectory(pool *pgxpool.Pool, log *slog.Logger) *Directory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{pool: pool, log: log}
}

// Platform runs fn in one directory transaction on behalf of entry point e, and records that it did.
func (d *Directory) Platform(ctx context.Context, e Entry, fn func(pgx.Tx) error) error {
	d.log.DebugContext(ctx, "platform entry", "entry", e.name)
	if err := InTx(ctx, d.pool, pgx.TxOptions{}, fn); err != nil {
		return fmt.Errorf("%s: %w", e.name, err)
	}
	return nil
}

// Ping checks that the directory answers, for health checks.
func (d *Directory) Ping(ctx context.Context) error {
	return d.pool.Ping(ctx)
}
