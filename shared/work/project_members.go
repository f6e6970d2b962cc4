package work

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/membership"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ProjectAccess is CanAccess inside the caller's tenant transaction, for a store that checks access and writes
// in one transaction (assigning a task).
func ProjectAccess(ctx context.Context, tx pgx.Tx, tenantID, projectID, identityID uuid.UUID, orgRole string) (bool, error) {
	var hasMembers, isMember bool
	err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2),
			EXISTS (SELECT 1 FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3)
		FROM tenant.projects WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, tenantID, projectID, identityID).Scan(&hasMembers, &isMember)
	if err != nil {
		return false, db.Classify(err)
	}
	switch {
	case !access.ValidRole(orgRole):
		return false, nil
	case orgManagesProjects(orgRole):
		return true, nil
	case hasMembers:
		return isMember, nil
	default:
		return orgRole != access.Viewer, nil
	}
}

// OrganizationRole returns identityID's role in organization tenantID from the directory, and db.ErrNotFound
// when they are not a member.
func OrganizationRole(ctx context.Context, dir *db.Directory, tenantID, identityID uuid.UUID) (string, error) {
	var role string
	err := dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		role, err = membership.Role(ctx, tx, tenantID, identityID)
		return err
	})
	if err == nil && role == "" {
		err = db.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("organization role of %s: %w", identityID, err)
	}
	return role, nil
}

// Project roles, on top of the organization roles. A project owner manages the project (members, deletion,
// restore) including its other owners; a project admin manages it except for owners (it may not add, change
// or remove an owner, nor make one); a project member has access to it. Organization owners and admins manage
// every project as project owners do. An organization viewer may be a project member, never owner or admin.
const (
	ProjectRoleOwner  = "owner"
	ProjectRoleAdmin  = "admin"
	ProjectRoleMember = "member"
)

// ProjectRoles lists every project role.
var ProjectRoles = []string{ProjectRoleOwner, ProjectRoleAdmin, ProjectRoleMember}

// ProjectMember is one identity's membership of a project.
type ProjectMember struct {
	ProjectID  uuid.UUID `json:"project_id"`
	IdentityID uuid.UUID `json:"identity_id"`
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"created_at"`
}

// ProjectMemberInput is what a client sends to add a member to a project.
type ProjectMemberInput struct {
	IdentityID string `json:"identity_id"`
	Role       string `json:"role"`
}

// ProjectRoleInput is what a client sends to change a project member's role.
type ProjectRoleInput struct {
	Role string `json:"role"`
}

func checkProjectRole(errs *valid.Errors, role string) {
	errs.Check(slices.Contains(ProjectRoles, role), "role", "must be one of "+strings.Join(ProjectRoles, ", "))
}

// ProjectMembers is the store of project memberships. It reads the directory to check that a new member
// belongs to the organization, so it holds both handles.
type ProjectMembers struct {
	dir     *db.Directory
	tenants *db.Tenants
}

// NewProjectMembers returns the project membership store over d's directory and tenant handles.
func NewProjectMembers(d *db.DB) *ProjectMembers {
	return &ProjectMembers{dir: d.Directory, tenants: d.Tenants}
}

// mayManageProjectMember reports whether an actor may move a member from oldRole to newRole ("" for absent,
// so adding has oldRole "" and removing newRole "").
func mayManageProjectMember(actorOrgRole, actorProjectRole, oldRole, newRole string) bool {
	switch {
	case orgManagesProjects(actorOrgRole), actorProjectRole == ProjectRoleOwner:
		return true
	case actorProjectRole == ProjectRoleAdmin:
		return oldRole != ProjectRoleOwner && newRole != ProjectRoleOwner
	}
	return false
}

// checkOrganizationMember reads the directory to check that identityID belongs to the organization and that
// an organization viewer is given no managing project role. It runs before the tenant transaction rather than
// inside it: the stores are never in one transaction, and holding a tenant connection while waiting for a
// directory one could exhaust a shared pool. When the check fails, an unknown project (or another tenant's),
// or when existing is set a project member that is not there, still answers db.ErrNotFound, so the failure
// says nothing about ids outside the caller's organization.
func (s *ProjectMembers) checkOrganizationMember(ctx context.Context, tenantID, projectID, identityID uuid.UUID, role string, existing bool) error {
	var errs valid.Errors
	orgRole, err := OrganizationRole(ctx, s.dir, tenantID, identityID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		errs.Add("identity_id", "is not a member of the organization")
	case err != nil:
		return err
	case orgRole == access.Viewer && role != ProjectRoleMember:
		errs.Add("role", "an organization viewer can only be a project member")
	default:
		return nil
	}
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var live bool
		return tx.QueryRow(ctx, `SELECT true FROM tenant.projects p WHERE p.tenant_id = $1 AND p.id = $2 AND p.deleted_at IS NULL
			AND (NOT $4 OR EXISTS (SELECT 1 FROM tenant.project_members m WHERE m.tenant_id = $1 AND m.project_id = $2 AND m.identity_id = $3))`,
			tenantID, projectID, identityID, existing).Scan(&live)
	})
	if err != nil {
		return err
	}
	return errs
}

// List returns one page of a live project's members, by identity id.
func (s *ProjectMembers) List(ctx context.Context, tenantID, projectID uuid.UUID, req page.Request) (page.Page[ProjectMember], error) {
	var items []ProjectMember
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// One statement answers both "does the project exist" (no row) and its page (NULL member when empty).
		rows, err := tx.Query(ctx, `SELECT m.identity_id, m.role, m.created_at FROM tenant.projects p
			LEFT JOIN LATERAL (SELECT identity_id, role, created_at FROM tenant.project_members
				WHERE tenant_id = $1 AND project_id = $2 AND identity_id > $3 ORDER BY identity_id LIMIT $4) m ON true
			WHERE p.tenant_id = $1 AND p.id = $2 AND p.deleted_at IS NULL`, tenantID, projectID, req.After, req.Limit+1)
		if err != nil {
			return err
		}
		found := false
		for rows.Next() {
			found = true
			var (
				id      *uuid.UUID
				role    *string
				created *time.Time
			)
			if err := rows.Scan(&id, &role, &created); err != nil {
				rows.Close()
				return err
			}
			if id != nil {
				items = append(items, ProjectMember{ProjectID: projectID, IdentityID: *id, Role: *role, CreatedAt: *created})
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !found {
			return db.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return page.Page[ProjectMember]{}, fmt.Errorf("list members of project %s: %w", projectID, err)
	}
	return page.Of(req, items, func(m ProjectMember) uuid.UUID { return m.IdentityID }), nil
}

// Add makes an organization member a member of a live project. The actor (actorID with organization role
// actorOrgRole) must manage the project; a project admin may not add an owner (ErrProjectForbidden). An
// identity outside the organization, or a viewer given owner or admin, is a valid.Errors; a member already
// there is ErrAlreadyProjectMember.
func (s *ProjectMembers) Add(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, projectID uuid.UUID, in ProjectMemberInput) (ProjectMember, error) {
	var errs valid.Errors
	identityID := errs.CheckID("identity_id", in.IdentityID)
	checkProjectRole(&errs, in.Role)
	if err := errs.Err(); err != nil {
		return ProjectMember{}, err
	}
	if err := s.checkOrganizationMember(ctx, tenantID, projectID, identityID, in.Role, false); err != nil {
		return ProjectMember{}, fmt.Errorf("add member to project %s: %w", projectID, err)
	}
	m := ProjectMember{ProjectID: projectID, IdentityID: identityID, Role: in.Role}
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockLiveProject(ctx, tx, tenantID, projectID, actorID)
		if err != nil {
			return err
		}
		if !mayManageProjectMember(actorOrgRole, l.actorRole, "", in.Role) {
			return ErrProjectForbidden
		}
		err = tx.QueryRow(ctx, `INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, project_id, identity_id) DO NOTHING RETURNING created_at`,
			tenantID, projectID, identityID, in.Role).Scan(&m.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrAlreadyProjectMember
		}
		if err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: projectID, Action: ActionMemberAdded,
			Changes: map[string]activity.Change{"identity_id": {New: identityID}, "role": {New: in.Role}},
		}, activity.Event{Type: pubsub.TypeProjectMemberAdded, Payload: pubsub.ProjectMemberAdded{ProjectID: projectID, IdentityID: identityID, Role: in.Role, ActorID: actorID}})
	})
	if err != nil {
		return ProjectMember{}, fmt.Errorf("add member to project %s: %w", projectID, err)
	}
	return m, nil
}

// loadProjectMember reads and locks one member row of a locked project.
func loadProjectMember(ctx context.Context, tx pgx.Tx, tenantID, projectID, identityID uuid.UUID) (ProjectMember, error) {
	m := ProjectMember{ProjectID: projectID, IdentityID: identityID}
	err := tx.QueryRow(ctx, `SELECT role, created_at FROM tenant.project_members
		WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3 FOR UPDATE`, tenantID, projectID, identityID).Scan(&m.Role, &m.CreatedAt)
	return m, err
}

// lockLiveProject locks a live project for a change of its members, with the actor's role in it; a deleted
// project is db.ErrNotFound, as its members are not managed until it is restored.
func lockLiveProject(ctx context.Context, tx pgx.Tx, tenantID, projectID, actorID uuid.UUID) (lockedProject, error) {
	l, err := lockProject(ctx, tx, tenantID, projectID, actorID)
	if err == nil && l.deletedAt != nil {
		return lockedProject{}, db.ErrNotFound
	}
	return l, err
}

// keepProjectOwner refuses, with ErrLastProjectOwner, to take away a member whose role is role when that member
// is the project's only owner. The project row is locked, so no concurrent change can remove the other owner
// between this count and the write.
func keepProjectOwner(ctx context.Context, tx pgx.Tx, tenantID, projectID uuid.UUID, role string) error {
	if role != ProjectRoleOwner {
		return nil
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2 AND role = $3`,
		tenantID, projectID, ProjectRoleOwner).Scan(&n)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastProjectOwner
	}
	return nil
}

// SetRole changes a project member's role. Permissions as Add (a project admin may neither promote to nor
// demote from owner); demoting the last owner is ErrLastProjectOwner; an organization viewer cannot be made
// owner or admin (valid.Errors). Setting the role a member has already changes and records nothing.
func (s *ProjectMembers) SetRole(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, projectID, identityID uuid.UUID, in ProjectRoleInput) (ProjectMember, error) {
	var errs valid.Errors
	checkProjectRole(&errs, in.Role)
	if err := errs.Err(); err != nil {
		return ProjectMember{}, err
	}
	if in.Role != ProjectRoleMember {
		if err := s.checkOrganizationMember(ctx, tenantID, projectID, identityID, in.Role, true); err != nil {
			return ProjectMember{}, fmt.Errorf("change role of %s in project %s: %w", identityID, projectID, err)
		}
	}
	var m ProjectMember
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockLiveProject(ctx, tx, tenantID, projectID, actorID)
		if err != nil {
			return err
		}
		if m, err = loadProjectMember(ctx, tx, tenantID, projectID, identityID); err != nil {
			return err
		}
		old := m.Role
		if !mayManageProjectMember(actorOrgRole, l.actorRole, old, in.Role) {
			return ErrProjectForbidden
		}
		if old == in.Role {
			return nil
		}
		if err := keepProjectOwner(ctx, tx, tenantID, projectID, old); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tenant.project_members SET role = $4 WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3`,
			tenantID, projectID, identityID, in.Role); err != nil {
			return err
		}
		m.Role = in.Role
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: projectID, Action: ActionMemberRoleChanged,
			Changes: map[string]activity.Change{"identity_id": {Old: identityID, New: identityID}, "role": {Old: old, New: in.Role}},
		}, activity.Event{Type: pubsub.TypeProjectMemberRoleChanged, Payload: pubsub.ProjectMemberRoleChanged{ProjectID: projectID, IdentityID: identityID, OldRole: old, NewRole: in.Role, ActorID: actorID}})
	})
	if err != nil {
		return ProjectMember{}, fmt.Errorf("change role of %s in project %s: %w", identityID, projectID, err)
	}
	return m, nil
}

// Remove takes a member out of a project. Those who manage the project may remove members (a project admin
// not an owner), and every member may leave by themselves; the last owner cannot go (ErrLastProjectOwner).
func (s *ProjectMembers) Remove(ctx context.Context, tenantID, actorID uuid.UUID, actorOrgRole string, projectID, identityID uuid.UUID) error {
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		l, err := lockLiveProject(ctx, tx, tenantID, projectID, actorID)
		if err != nil {
			return err
		}
		m, err := loadProjectMember(ctx, tx, tenantID, projectID, identityID)
		if err != nil {
			return err
		}
		if identityID != actorID && !mayManageProjectMember(actorOrgRole, l.actorRole, m.Role, "") {
			return ErrProjectForbidden
		}
		if err := keepProjectOwner(ctx, tx, tenantID, projectID, m.Role); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tenant.project_members WHERE tenant_id = $1 AND project_id = $2 AND identity_id = $3`,
			tenantID, projectID, identityID); err != nil {
			return err
		}
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "project", EntityID: projectID, Action: ActionMemberRemoved,
			Changes: map[string]activity.Change{"identity_id": {Old: identityID}, "role": {Old: m.Role}},
		}, activity.Event{Type: pubsub.TypeProjectMemberRemoved, Payload: pubsub.ProjectMemberRemoved{ProjectID: projectID, IdentityID: identityID, Role: m.Role, ActorID: actorID}})
	})
	if err != nil {
		return fmt.Errorf("remove %s from project %s: %w", identityID, projectID, err)
	}
	return nil
}
