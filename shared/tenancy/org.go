package tenancy

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/obs"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// MaxNameLength bounds an organization's name, as the directory's check constraint does.
const MaxNameLength = 200

// TenantInput is the body of PUT /v1/tenants/me. The slug is not in it: it names the organization in URLs and
// logins and is fixed at sign-up.
type TenantInput struct {
	Name string `json:"name"`
}

// Validate trims the input and reports every failing field.
func (in *TenantInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	var errs valid.Errors
	errs.Check(in.Name != "" && utf8.RuneCountInString(in.Name) <= MaxNameLength, "name", fmt.Sprintf("must be 1 to %d characters", MaxNameLength))
	errs.Check(!strings.ContainsRune(in.Name, 0), "name", "must not contain NUL characters")
	errs.CheckDisplayText("name", in.Name)
	return errs.Err()
}

// Organizations reads and renames an organization's own directory row.
type Organizations struct {
	dir     *db.Directory
	tenants *db.Tenants
	log     *slog.Logger
}

// NewOrganizations returns the store over both handles: the organization lives in the directory, its activity
// and events in its tenant store.
func NewOrganizations(dir *db.Directory, tenants *db.Tenants, log *slog.Logger) *Organizations {
	return &Organizations{dir: dir, tenants: tenants, log: obs.OrDiscard(log)}
}

const tenantColumns = `id, slug, name, status, plan, created_at`

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.Status, &t.Plan, &t.CreatedAt)
	return t, err
}

// Get returns organization tenantID.
func (s *Organizations) Get(ctx context.Context, tenantID uuid.UUID) (Tenant, error) {
	var t Tenant
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		t, err = scanTenant(tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM directory.tenants WHERE id = $1`, tenantID))
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("load tenant %s: %w", tenantID, err)
	}
	return t, nil
}

// Rename changes organization tenantID's name on behalf of actorID. A rename to the same name records nothing.
//
// The directory and the tenant store may be different databases: the directory's transaction decides, then
// the tenant store records the activity row and the tenant.updated event; a failure of the second is logged
// and does not undo the rename (as in SignUp).
func (s *Organizations) Rename(ctx context.Context, tenantID, actorID uuid.UUID, in TenantInput) (Tenant, error) {
	if err := in.Validate(); err != nil {
		return Tenant{}, err
	}
	var (
		t       Tenant
		oldName string
	)
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// NO KEY UPDATE, not UPDATE: the lock must not wait for rows being inserted with a foreign key to the
		// tenant (memberships, domains), which take KEY SHARE.
		old, err := scanTenant(tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM directory.tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID))
		if err != nil {
			return err
		}
		oldName, t = old.Name, old
		if old.Name == in.Name {
			return nil
		}
		t, err = scanTenant(tx.QueryRow(ctx, `UPDATE directory.tenants SET name = $2, updated_at = now() WHERE id = $1
			RETURNING `+tenantColumns, tenantID, in.Name))
		return err
	})
	if err != nil {
		return Tenant{}, fmt.Errorf("rename tenant %s: %w", tenantID, err)
	}
	if oldName == t.Name {
		return t, nil
	}
	recordInTenant(ctx, s.tenants, s.log, tenantID, pubsub.TypeTenantUpdated, func(ctx context.Context, tx pgx.Tx) error {
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "tenant", EntityID: tenantID, Action: activity.Updated,
			Changes: map[string]activity.Change{"name": {Old: oldName, New: t.Name}},
		}, activity.Event{Type: pubsub.TypeTenantUpdated, Payload: pubsub.TenantUpdated{
			TenantID: tenantID, Name: t.Name, Changed: []string{"name"}, ActorID: actorID,
		}})
	})
	return t, nil
}

// recordInTenant writes the activity row and event of a change that already committed in the directory. The
// two stores cannot share a transaction, so the directory's commit decides the change and a failure here is
// logged for an operator rather than reported to a client whose change did happen. A client that goes away
// after the directory's commit must not cancel the record, so fn runs without the request's cancellation.
func recordInTenant(ctx context.Context, tenants *db.Tenants, log *slog.Logger, tenantID uuid.UUID, eventType string, fn func(context.Context, pgx.Tx) error) {
	ctx = context.WithoutCancel(ctx)
	if err := tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error { return fn(ctx, tx) }); err != nil {
		log.ErrorContext(ctx, "directory change committed but its activity and event were not recorded",
			"tenant_id", tenantID.String(), "event", eventType, "error", err.Error())
	}
}
