package work

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MetricStorageBytes is the usage metric of the bytes an organization holds in Cloud Storage (complete
// attachments). It is a gauge: each day's row holds the value at the end of that UTC day.
const MetricStorageBytes = "storage_bytes"

// addUsage adds delta to tenantID's gauge metric inside tx, in today's (UTC) row. The first change of a day
// starts from the newest earlier row, so a day without changes needs no row and the newest row is always the
// current value.
//
// Two concurrent changes stay exact: the newest row is locked, so the second waits for the first; if the
// first created today's row, the second's insert conflicts with it and adds only its delta, and if today's row
// was the one locked, the second re-reads it after the wait.
func addUsage(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, metric string, delta int64) error {
	var prev int64
	err := tx.QueryRow(ctx, `SELECT value FROM tenant.usage_counters WHERE tenant_id = $1 AND metric = $2
		ORDER BY day DESC LIMIT 1 FOR UPDATE`, tenantID, metric).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read usage %s: %w", metric, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tenant.usage_counters AS u (tenant_id, metric, day, value)
		VALUES ($1, $2, (now() AT TIME ZONE 'UTC')::date, $3::bigint + $4::bigint)
		ON CONFLICT (tenant_id, metric, day) DO UPDATE SET value = u.value + $4::bigint, updated_at = now()`,
		tenantID, metric, prev, delta); err != nil {
		return fmt.Errorf("add usage %s: %w", metric, err)
	}
	return nil
}

// Usage reads an organization's usage counters, for billing and for the organization's own view.
type Usage struct {
	tenants *db.Tenants
}

// NewUsage returns the usage reader over d's tenant handle.
func NewUsage(d *db.DB) *Usage {
	return &Usage{tenants: d.Tenants}
}

// StorageBytes returns the bytes tenantID holds now in complete attachments.
func (u *Usage) StorageBytes(ctx context.Context, tenantID uuid.UUID) (int64, error) {
	return u.Gauge(ctx, tenantID, MetricStorageBytes, time.Time{})
}

// Gauge returns tenantID's gauge metric at the end of the UTC day of at, or now when at is zero; 0 when it
// never changed by then. A daily usage report asks for a past day and gets the same answer however often it
// asks.
func (u *Usage) Gauge(ctx context.Context, tenantID uuid.UUID, metric string, at time.Time) (int64, error) {
	var v int64
	err := u.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		if at.IsZero() {
			err = tx.QueryRow(ctx, `SELECT value FROM tenant.usage_counters WHERE tenant_id = $1 AND metric = $2
				ORDER BY day DESC LIMIT 1`, tenantID, metric).Scan(&v)
		} else {
			day := at.UTC().Format(time.DateOnly)
			err = tx.QueryRow(ctx, `SELECT value FROM tenant.usage_counters WHERE tenant_id = $1 AND metric = $2
				AND day <= $3::date ORDER BY day DESC LIMIT 1`, tenantID, metric, day).Scan(&v)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			v = 0
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read usage %s: %w", metric, err)
	}
	return v, nil
}
