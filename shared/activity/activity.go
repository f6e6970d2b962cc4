// Package activity records the trail of who changed what in a tenant: one row per create, update and delete,
// written in the transaction of the change, together with the outbox events the change raises. Record writes
// both in one call, so a change cannot have its row without its event or the other way round; the
// application role may insert and read the trail, never change or remove it.
package activity

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/coditect/hyperscale/shared/events"
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

// Event is one outbox event a change raises: its type, which must be in the pubsub catalogue, and its payload.
type Event struct {
	Type    string
	Payload any
}

// Record writes change e's activity row and the events evs it raises to e.TenantID's outbox inside tx, the
// change's transaction, so the row and the events commit or roll back with the change. A change raises at
// least one event: Record without one is an error, found by the first test of the change, rather than an
// event a consumer silently never gets. The few changes without an event of their own call RecordOnly.
func Record(ctx context.Context, tx pgx.Tx, e Entry, evs ...Event) error {
	if len(evs) == 0 {
		return fmt.Errorf("record activity %s %s: no event (a change without one calls RecordOnly)", e.Action, e.EntityType)
	}
	if err := record(ctx, tx, e); err != nil {
		return err
	}
	for _, ev := range evs {
		if _, err := events.Emit(ctx, tx, e.TenantID, ev.Type, ev.Payload); err != nil {
			return fmt.Errorf("record activity %s %s: %w", e.Action, e.EntityType, err)
		}
	}
	return nil
}

// RecordOnly writes change e's activity row inside tx and raises no event. It is for the changes whose event
// comes with a later change (an attachment's attachment.added when its upload completes, not when it is
// announced) or that the event catalogue has none for; each call says which.
func RecordOnly(ctx context.Context, tx pgx.Tx, e Entry) error {
	return record(ctx, tx, e)
}

func record(ctx context.Context, tx pgx.Tx, e Entry) error {
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
