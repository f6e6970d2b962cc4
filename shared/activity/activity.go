// Package activity records the trail of who changed what in a tenant: one row per create, update and delete,
// written in the transaction of the change. The application role may insert and read the trail, never change
// or remove it.
package activity

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Actions recorded in the trail.
const (
	Created = "created"
	Updated = "updated"
	Deleted = "deleted"
)

// Change is one field's value before and after an update.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

// Entry is one row of the trail.
type Entry struct {
	TenantID   uuid.UUID
	ActorID    uuid.UUID
	EntityType string
	EntityID   uuid.UUID
	Action     string
	// Changes maps each changed field to its old and new value; for a create, the initial values.
	Changes map[string]Change
}

// Record writes e inside tx.
func Record(ctx context.Context, tx pgx.Tx, e Entry) error {
	changes := e.Changes
	if changes == nil {
		changes = map[string]Change{}
	}
	data, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("record activity: encode changes: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	var actor *uuid.UUID
	if e.ActorID != uuid.Nil {
		actor = &e.ActorID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tenant.activity (tenant_id, id, actor_id, entity_type, entity_id, action, changes)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.TenantID, id, actor, e.EntityType, e.EntityID, e.Action, data); err != nil {
		return fmt.Errorf("record activity %s %s: %w", e.Action, e.EntityType, err)
	}
	return nil
}
