package work

import (
	"context"
	"errors"
	"fmt"

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
