// Package work holds the product's domain: projects now, tasks, comments and attachments later. Every method
// takes the tenant explicitly, runs inside db.InTenant, names tenant_id in its SQL (so Citus routes it to one
// shard; row-level security is the second wall), and writes its activity row and outbox event in the
// transaction of the change.
package work

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/events"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Project is a tenant's project as the API shows it.
type Project struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedBy   uuid.UUID `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ProjectInput is what a client sends to create or replace a project.
type ProjectInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Limits on a project's fields, matching the table's check constraints.
const (
	MaxNameLength        = 200
	MaxDescriptionLength = 10000
)

// Validate trims the input and reports every failing field.
func (in *ProjectInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	var errs valid.Errors
	errs.Check(in.Name != "", "name", "is required")
	errs.Check(utf8.RuneCountInString(in.Name) <= MaxNameLength, "name", fmt.Sprintf("must be at most %d characters", MaxNameLength))
	errs.Check(utf8.RuneCountInString(in.Description) <= MaxDescriptionLength, "description", fmt.Sprintf("must be at most %d characters", MaxDescriptionLength))
	// PostgreSQL text cannot hold NUL; refusing it here keeps it a 422 rather than a driver error.
	errs.Check(!strings.ContainsRune(in.Name, 0), "name", "must not contain NUL characters")
	errs.Check(!strings.ContainsRune(in.Description, 0), "description", "must not contain NUL characters")
	return errs.Err()
}

// Projects is the store of projects.
type Projects struct {
	tenants *db.Tenants
}

// NewProjects returns the project store over the tenant handle.
func NewProjects(tenants *db.Tenants) *Projects {
	return &Projects{tenants: tenants}
}

const projectColumns = `id, name, description, created_by, created_at, updated_at`

func scanProject(row pgx.Row) (Project, error) {
	var p Project
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// Create adds a project to tenantID on behalf of actorID.
func (s *Projects) Create(ctx context.Context, tenantID, actorID uuid.UUID, in ProjectInput) (Project, error) {
	if err := in.Validate(); err != nil {
		return Project{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	var p Project
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		p, err = scanProject(tx.QueryRow(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, description, created_by)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+projectColumns, tenantID, id, in.Name, in.Description, actorID))
		if err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Created,
			Changes: map[string]activity.Change{"name": {New: p.Name}, "description": {New: p.Description}},
		}); err != nil {
			return err
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectCreated, pubsub.ProjectCreated{ProjectID: id, Name: p.Name, ActorID: actorID})
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	return p, nil
}

// Get returns a live project of tenantID. A deleted project, or one of another tenant, is db.ErrNotFound.
func (s *Projects) Get(ctx context.Context, tenantID, id uuid.UUID) (Project, error) {
	var p Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		p, err = scanProject(tx.QueryRow(ctx, `SELECT `+projectColumns+` FROM tenant.projects
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, id))
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("load project %s: %w", id, err)
	}
	return p, nil
}

// List returns one page of tenantID's live projects, newest first.
func (s *Projects) List(ctx context.Context, tenantID uuid.UUID, req page.Request) (page.Page[Project], error) {
	var items []Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// Two statements rather than "$2 IS NULL OR id < $2", so each plan keeps its index condition on id.
		sql, args := `SELECT `+projectColumns+` FROM tenant.projects WHERE tenant_id = $1 AND deleted_at IS NULL
			ORDER BY id DESC LIMIT $2`, []any{tenantID, req.Limit + 1}
		if req.After != uuid.Nil {
			sql, args = `SELECT `+projectColumns+` FROM tenant.projects WHERE tenant_id = $1 AND deleted_at IS NULL
				AND id < $3 ORDER BY id DESC LIMIT $2`, append(args, req.After)
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) { return scanProject(r) })
		return err
	})
	if err != nil {
		return page.Page[Project]{}, fmt.Errorf("list projects: %w", err)
	}
	return page.Of(req, items, func(p Project) uuid.UUID { return p.ID }), nil
}

// Update replaces a live project's name and description. A write that changes nothing records nothing.
func (s *Projects) Update(ctx context.Context, tenantID, actorID, id uuid.UUID, in ProjectInput) (Project, error) {
	if err := in.Validate(); err != nil {
		return Project{}, err
	}
	var p Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		old, err := scanProject(tx.QueryRow(ctx, `SELECT `+projectColumns+` FROM tenant.projects
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`, tenantID, id))
		if err != nil {
			return err
		}
		changes := map[string]activity.Change{}
		if old.Name != in.Name {
			changes["name"] = activity.Change{Old: old.Name, New: in.Name}
		}
		if old.Description != in.Description {
			changes["description"] = activity.Change{Old: old.Description, New: in.Description}
		}
		if len(changes) == 0 {
			p = old
			return nil
		}
		p, err = scanProject(tx.QueryRow(ctx, `UPDATE tenant.projects SET name = $3, description = $4, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+projectColumns, tenantID, id, in.Name, in.Description))
		if err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Updated, Changes: changes,
		}); err != nil {
			return err
		}
		changed := make([]string, 0, len(changes))
		for _, f := range []string{"name", "description"} {
			if _, ok := changes[f]; ok {
				changed = append(changed, f)
			}
		}
		_, err = events.Emit(ctx, tx, tenantID, pubsub.TypeProjectUpdated, pubsub.ProjectUpdated{ProjectID: id, Changed: changed, ActorID: actorID})
		return err
	})
	if err != nil {
		return Project{}, fmt.Errorf("update project %s: %w", id, err)
	}
	return p, nil
}

// Delete soft-deletes a live project: it disappears from reads but stays restorable.
func (s *Projects) Delete(ctx context.Context, tenantID, actorID, id uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var deletedAt time.Time
		if err := tx.QueryRow(ctx, `UPDATE tenant.projects SET deleted_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING deleted_at`, tenantID, id).Scan(&deletedAt); err != nil {
			return err
		}
		if err := activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Deleted,
		}); err != nil {
			return err
		}
		_, err := events.Emit(ctx, tx, tenantID, pubsub.TypeProjectDeleted, pubsub.ProjectDeleted{ProjectID: id, DeletedAt: deletedAt, ActorID: actorID})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete project %s: %w", id, err)
	}
	return nil
}
