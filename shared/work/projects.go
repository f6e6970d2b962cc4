// Package work holds the product's domain: projects and their members, tasks, comments, attachments and the
// reading of the activity trail. Every method takes the tenant explicitly, runs inside db.InTenant, names
// tenant_id in its SQL (so Citus routes it to one shard; row-level security is the second wall), and writes
// its activity row and outbox event in the transaction of the change.
package work

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Project statuses.
const (
	ProjectActive    = "active"
	ProjectOnHold    = "on_hold"
	ProjectCompleted = "completed"
)

// ProjectStatuses lists every project status.
var ProjectStatuses = []string{ProjectActive, ProjectOnHold, ProjectCompleted}

// RestoreWindowDays is how long a deleted project stays restorable.
const RestoreWindowDays = 30

// Errors of project operations beyond the data library's sentinels; the HTTP edge maps each to its answer.
var (
	// ErrProjectForbidden: the actor's organization and project roles do not allow the change.
	ErrProjectForbidden = fault.New(fault.Forbidden, "forbidden", "only the organization's owners and admins and the project's owners and admins may do this (a project admin not to an owner)")
	// ErrProjectNotDeleted: restore was asked of a live project.
	ErrProjectNotDeleted = fault.New(fault.Conflict, "not_deleted", "the project is not deleted")
	// ErrRestoreWindowPassed: the project was deleted more than RestoreWindowDays ago.
	ErrRestoreWindowPassed = fault.New(fault.Gone, "restore_window_passed", "the project was deleted more than 30 days ago and can no longer be restored")
	// ErrLastProjectOwner: the change would leave the project without an owner.
	ErrLastProjectOwner = fault.New(fault.Conflict, "last_owner", "a project keeps at least one owner: make another member owner first")
	// ErrAlreadyProjectMember: the identity is a member of the project already.
	ErrAlreadyProjectMember = fault.New(fault.Conflict, "already_member", "the identity is a member of the project already; change its role instead")
)

// Project is a tenant's project as the API shows it.
type Project struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Archived    bool      `json:"archived"`
	// ArchivedAt is when the project was archived, null while it is not.
	ArchivedAt *time.Time `json:"archived_at"`
	CreatedBy  uuid.UUID  `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// ProjectInput is what a client sends to create or replace a project. PUT replaces name and description (an
// absent description becomes empty); status and archived, when absent, keep their current values (on create:
// active and not archived), so that renaming a project never reopens or unarchives it by omission.
type ProjectInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Status is one of ProjectStatuses.
	Status *string `json:"status,omitempty"`
	// Archived archives the project (true) or brings it back from the archive (false).
	Archived *bool `json:"archived,omitempty"`
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
	errs.CheckDisplayText("name", in.Name)
	errs.Check(!strings.ContainsRune(in.Description, 0), "description", "must not contain NUL characters")
	if in.Status != nil {
		errs.Check(slices.Contains(ProjectStatuses, *in.Status), "status", "must be one of "+strings.Join(ProjectStatuses, ", "))
	}
	return errs.Err()
}

// Projects is the store of projects.
type Projects struct {
	tenants *db.Tenants
}

// NewProjects returns the project store over d's tenant handle.
func NewProjects(d *db.DB) *Projects {
	return &Projects{tenants: d.Tenants}
}

const projectColumns = `id, name, description, status, archived_at, created_by, created_at, updated_at`

func scanProject(row pgx.Row, extra ...any) (Project, error) {
	var p Project
	err := row.Scan(append([]any{&p.ID, &p.Name, &p.Description, &p.Status, &p.ArchivedAt, &p.CreatedBy, &p.CreatedAt, &p.UpdatedAt}, extra...)...)
	p.Archived = p.ArchivedAt != nil
	return p, err
}

// Create adds a project to tenantID on behalf of actorID, who becomes the project's owner in the same
// transaction.
func (s *Projects) Create(ctx context.Context, tenantID, actorID uuid.UUID, in ProjectInput) (Project, error) {
	if err := in.Validate(); err != nil {
		return Project{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	status := ProjectActive
	if in.Status != nil {
		status = *in.Status
	}
	archived := in.Archived != nil && *in.Archived
	var p Project
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		p, err = scanProject(tx.QueryRow(ctx, `INSERT INTO tenant.projects (tenant_id, id, name, description, status, archived_at, created_by)
			VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::boolean THEN now() END, $7) RETURNING `+projectColumns,
			tenantID, id, in.Name, in.Description, status, archived, actorID))
		if err != nil {
			return err
		}
		if err := writeProjectNameSuffixes(ctx, tx, tenantID, id, p.Name, false); err != nil {
			return err
		}
		// Full-text search rows of the name and description (search.go).
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindProject, id, searchText{}, searchText{title: p.Name, body: p.Description}); err != nil {
			return err
		}
		if actorID != uuid.Nil {
			if _, err := tx.Exec(ctx, `INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role)
				VALUES ($1, $2, $3, $4)`, tenantID, id, actorID, ProjectRoleOwner); err != nil {
				return err
			}
		}
		changes := map[string]activity.Change{"name": {New: p.Name}, "description": {New: p.Description}, "status": {New: p.Status}}
		if p.Archived {
			changes["archived"] = activity.Change{New: true}
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Created, Changes: changes,
		}, activity.Event{Type: pubsub.TypeProjectCreated, Payload: pubsub.ProjectCreated{ProjectID: id, Name: p.Name, ActorID: actorID}})
	})
	if err != nil {
		return Project{}, fmt.Errorf("create project: %w", err)
	}
	return p, nil
}

// Get returns a live project of tenantID, archived or not. A deleted project, or one of another tenant, is
// db.ErrNotFound.
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

// Update replaces a live project's name and description, and its status and archive state when in gives them.
// A write that changes nothing records nothing.
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
		status, archived := old.Status, old.Archived
		if in.Status != nil {
			status = *in.Status
		}
		if in.Archived != nil {
			archived = *in.Archived
		}
		changes := map[string]activity.Change{}
		if old.Name != in.Name {
			changes["name"] = activity.Change{Old: old.Name, New: in.Name}
		}
		if old.Description != in.Description {
			changes["description"] = activity.Change{Old: old.Description, New: in.Description}
		}
		if old.Status != status {
			changes["status"] = activity.Change{Old: old.Status, New: status}
		}
		if old.Archived != archived {
			changes["archived"] = activity.Change{Old: old.Archived, New: archived}
		}
		if len(changes) == 0 {
			p = old
			return nil
		}
		p, err = scanProject(tx.QueryRow(ctx, `UPDATE tenant.projects SET name = $3, description = $4, status = $5,
				archived_at = CASE WHEN $6::boolean THEN coalesce(archived_at, now()) END, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+projectColumns, tenantID, id, in.Name, in.Description, status, archived))
		if err != nil {
			return err
		}
		if _, renamed := changes["name"]; renamed {
			if err := writeProjectNameSuffixes(ctx, tx, tenantID, id, p.Name, true); err != nil {
				return err
			}
		}
		// Full-text search rows (search.go); nothing to do, and no round trip, unless the text changed.
		if err := writeSearchTerms(ctx, tx, nil, tenantID, searchKindProject, id,
			searchText{title: old.Name, body: old.Description}, searchText{title: p.Name, body: p.Description}); err != nil {
			return err
		}
		changed := make([]string, 0, len(changes))
		for _, f := range []string{"name", "description", "status", "archived"} {
			if _, ok := changes[f]; ok {
				changed = append(changed, f)
			}
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Updated, Changes: changes,
		}, activity.Event{Type: pubsub.TypeProjectUpdated, Payload: pubsub.ProjectUpdated{ProjectID: id, Changed: changed, ActorID: actorID}})
	})
	if err != nil {
		return Project{}, fmt.Errorf("update project %s: %w", id, err)
	}
	return p, nil
}

// lockedProject is a project row locked for a change, with the acting identity's role in it.
type lockedProject struct {
	deletedAt *time.Time
	// restorable is true for a project deleted less than RestoreWindowDays ago.
	restorable bool
	// actorRole is the actor's project role, "" when they are not a project member.
	actorRole string
}

// lockProject locks the project row (deleted or not), which serialises every change to the project and its
// membership, and reads the actor's project role in the same round trip.
func lockProject(ctx context.Context, tx pgx.Tx, tenantID, id, actorID uuid.UUID) (lockedProject, error) {
	var l lockedProject
	var role *string
	err := tx.QueryRow(ctx, `SELECT p.deleted_at, coalesce(p.deleted_at > now() - make_interval(days => $4), false),
			(SELECT m.role FROM tenant.project_members m WHERE m.tenant_id = $1 AND m.project_id = $2 AND m.identity_id = $3)
		FROM tenant.projects p WHERE p.tenant_id = $1 AND p.id = $2 FOR UPDATE OF p`, tenantID, id, actorID, RestoreWindowDays).
		Scan(&l.deletedAt, &l.restorable, &role)
	if role != nil {
		l.actorRole = *role
	}
	return l, err
}

// orgManagesProjects reports whether an organization role manages every project of the organization.
func orgManagesProjects(orgRole string) bool {
	return orgRole == access.Owner || orgRole == access.Admin
}

// Delete soft-deletes a live project: it disappears from reads, with its tasks, comments and attachments, but
// stays restorable for RestoreWindowDays. Organization owners and admins and the project's owners and admins
// may delete it; others get ErrProjectForbidden.
func (s *Projects) Delete(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, id uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, id, actorID)
		if err != nil {
			return err
		}
		if l.deletedAt != nil {
			return db.ErrNotFound
		}
		if !orgManagesProjects(actorOrgRole) && l.actorRole != ProjectRoleOwner && l.actorRole != ProjectRoleAdmin {
			return ErrProjectForbidden
		}
		var deletedAt time.Time
		if err := tx.QueryRow(ctx, `UPDATE tenant.projects SET deleted_at = now(), updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING deleted_at`, tenantID, id).Scan(&deletedAt); err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: activity.Deleted,
		}, activity.Event{Type: pubsub.TypeProjectDeleted, Payload: pubsub.ProjectDeleted{ProjectID: id, DeletedAt: deletedAt, ActorID: actorID}})
	})
	if err != nil {
		return fmt.Errorf("delete project %s: %w", id, err)
	}
	return nil
}

// Activity actions of projects beyond created, updated and deleted. Membership changes are recorded on the
// project (entity "project", its id), so the project's trail shows who joined and left it.
const (
	ActionRestored          = "restored"
	ActionMemberAdded       = "member_added"
	ActionMemberRoleChanged = "member_role_changed"
	ActionMemberRemoved     = "member_removed"
)

// Restore brings back a project deleted less than RestoreWindowDays ago, with everything it hid. Who may:
// as Delete. A live project is ErrProjectNotDeleted, one deleted longer ago ErrRestoreWindowPassed, an
// unknown one (or another tenant's) db.ErrNotFound.
func (s *Projects) Restore(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, id uuid.UUID) (Project, error) {
	var p Project
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockProject(ctx, tx, tenantID, id, actorID)
		if err != nil {
			return err
		}
		if !orgManagesProjects(actorOrgRole) && l.actorRole != ProjectRoleOwner && l.actorRole != ProjectRoleAdmin {
			return ErrProjectForbidden
		}
		switch {
		case l.deletedAt == nil:
			return ErrProjectNotDeleted
		case !l.restorable:
			return ErrRestoreWindowPassed
		}
		p, err = scanProject(tx.QueryRow(ctx, `UPDATE tenant.projects SET deleted_at = NULL, updated_at = now()
			WHERE tenant_id = $1 AND id = $2 RETURNING `+projectColumns, tenantID, id))
		if err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: id, Action: ActionRestored,
			Changes: map[string]activity.Change{"deleted_at": {Old: *l.deletedAt, New: nil}},
		}, activity.Event{Type: pubsub.TypeProjectRestored, Payload: pubsub.ProjectRestored{ProjectID: id, DeletedAt: *l.deletedAt, ActorID: actorID}})
	})
	if err != nil {
		return Project{}, fmt.Errorf("restore project %s: %w", id, err)
	}
	return p, nil
}
