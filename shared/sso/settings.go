package sso

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// LoadConnection reads tenantID's connection from its settings (tenant.settings.sso). An organization without
// settings, or whose settings hold no connection, yields db.ErrNotFound; a disabled connection is returned as
// it is, for the caller to refuse.
func LoadConnection(ctx context.Context, tenants *db.Tenants, tenantID uuid.UUID) (Connection, error) {
	var raw []byte
	err := tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT sso FROM tenant.settings WHERE tenant_id = $1`, tenantID).Scan(&raw)
	})
	if err != nil {
		return Connection{}, fmt.Errorf("load sso connection: %w", err)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return Connection{}, fmt.Errorf("load sso connection: %w", db.ErrNotFound)
	}
	var c Connection
	if err := json.Unmarshal(raw, &c); err != nil {
		return Connection{}, fmt.Errorf("load sso connection: decode: %w", err)
	}
	return c, nil
}
