// Package events writes a tenant's events to its outbox, in the transaction of the change they describe, so
// an event exists exactly when its change committed. Publishing after commit, and republishing what a failed
// publish left behind, read the same rows.
package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Emit writes one event of eventType with payload to tenantID's outbox inside tx and returns its id, which
// becomes the CloudEvent id consumers deduplicate on. eventType must be in the pubsub catalogue. A change of a
// tenant's data does not call Emit itself: activity.Record writes its activity row and its events in one call,
// so neither side can be forgotten.
func Emit(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, eventType string, payload any) (uuid.UUID, error) {
	return write(ctx, tx, eventType, payload, `INSERT INTO tenant.outbox (tenant_id, id, type, data) VALUES ($1, $2, $3, $4)`,
		func(id uuid.UUID, data []byte) []any { return []any{tenantID, id, eventType, data} })
}

// EmitPlatform writes an event that belongs to no tenant (a password reset is a person's, not an
// organization's) to the directory's outbox inside tx, a directory transaction. subject names what the event
// is about (an identity id) and becomes the CloudEvent subject.
func EmitPlatform(ctx context.Context, tx pgx.Tx, eventType, subject string, payload any) (uuid.UUID, error) {
	return write(ctx, tx, eventType, payload, `INSERT INTO directory.outbox (id, type, subject, data) VALUES ($1, $2, $3, $4)`,
		func(id uuid.UUID, data []byte) []any { return []any{id, eventType, subject, data} })
}

// write checks eventType against the catalogue, encodes payload, gives the event a new id and inserts it with
// insert, whose arguments args builds from the id and the encoded data. The two outboxes differ only there.
func write(ctx context.Context, tx pgx.Tx, eventType string, payload any, insert string, args func(id uuid.UUID, data []byte) []any) (uuid.UUID, error) {
	if _, ok := pubsub.TopicOf(eventType); !ok {
		return uuid.Nil, fmt.Errorf("emit %s: not in the event catalogue", eventType)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return uuid.Nil, fmt.Errorf("emit %s: encode: %w", eventType, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, fmt.Errorf("emit %s: %w", eventType, err)
	}
	if _, err := tx.Exec(ctx, insert, args(id, data)...); err != nil {
		return uuid.Nil, fmt.Errorf("emit %s: %w", eventType, err)
	}
	return id, nil
}
