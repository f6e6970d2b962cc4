package activity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

var errAbort = errors.New("abort the change")

// TestRecord shows that Record writes a change's activity row and its outbox events in the change's
// transaction: both commit together, both roll back together (the change failing after Record, or one of its
// events being refused), a change without an event writes nothing, and another tenant sees none of it.
func TestRecord(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	projectCreated := func(id uuid.UUID) activity.Event {
		return activity.Event{Type: pubsub.TypeProjectCreated, Payload: pubsub.ProjectCreated{ProjectID: id, Name: "P"}}
	}
	cases := []struct {
		name         string
		evs          func(id uuid.UUID) []activity.Event
		after        error // returned by the change after Record, rolling its transaction back
		wantErr      bool
		wantActivity int
		wantEvents   int
	}{
		{name: "committed: row and event", evs: func(id uuid.UUID) []activity.Event { return []activity.Event{projectCreated(id)} },
			wantActivity: 1, wantEvents: 1},
		{name: "committed: row and two events", evs: func(id uuid.UUID) []activity.Event {
			return []activity.Event{projectCreated(id), {Type: pubsub.TypeProjectUpdated, Payload: pubsub.ProjectUpdated{ProjectID: id}}}
		}, wantActivity: 1, wantEvents: 2},
		{name: "change fails after Record: neither", evs: func(id uuid.UUID) []activity.Event { return []activity.Event{projectCreated(id)} },
			after: errAbort, wantErr: true},
		{name: "an event refused: neither", evs: func(id uuid.UUID) []activity.Event {
			return []activity.Event{projectCreated(id), {Type: "project.not_in_catalogue", Payload: struct{}{}}}
		}, wantErr: true},
		{name: "no event: nothing", evs: func(uuid.UUID) []activity.Event { return nil }, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tenant, other, id := uuid.New(), uuid.New(), uuid.New()
			err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
				if err := activity.Record(ctx, tx, activity.Entry{
					TenantID: tenant, EntityType: "project", EntityID: id, Action: activity.Created,
				}, tc.evs(id)...); err != nil {
					return err
				}
				return tc.after
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Record: err = %v, want error %v", err, tc.wantErr)
			}
			if tc.after != nil && !errors.Is(err, tc.after) {
				t.Fatalf("Record: err = %v, want %v", err, tc.after)
			}
			var rows, evs int
			if err := d.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenant.activity WHERE tenant_id = $1 AND entity_id = $2),
				(SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND data->>'project_id' = $2::text)`, tenant, id).Scan(&rows, &evs); err != nil {
				t.Fatal(err)
			}
			if rows != tc.wantActivity || evs != tc.wantEvents {
				t.Errorf("activity rows = %d, events = %d; want %d, %d", rows, evs, tc.wantActivity, tc.wantEvents)
			}
			// Another tenant, through the application role and its row-level security, sees none of it.
			err = d.DB.Tenants.InTenant(ctx, other, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenant.activity), (SELECT count(*) FROM tenant.outbox)`).Scan(&rows, &evs)
			})
			if err != nil {
				t.Fatal(err)
			}
			if rows != 0 || evs != 0 {
				t.Errorf("another tenant sees %d activity rows and %d events, want none", rows, evs)
			}
		})
	}
}

// TestRecordOnly shows that RecordOnly writes the activity row and no event.
func TestRecordOnly(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	tenant, id := uuid.New(), uuid.New()
	if err := d.DB.Tenants.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		return activity.RecordOnly(ctx, tx, activity.Entry{TenantID: tenant, EntityType: "attachment", EntityID: id, Action: activity.Created})
	}); err != nil {
		t.Fatal(err)
	}
	var rows, evs int
	if err := d.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM tenant.activity WHERE tenant_id = $1 AND entity_id = $2),
		(SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1)`, tenant, id).Scan(&rows, &evs); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || evs != 0 {
		t.Errorf("activity rows = %d, events = %d; want 1, 0", rows, evs)
	}
}
