package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// ProjectRestored is the payload of project.restored: a soft-deleted project came back within its restore
// window, and its tasks, comments and attachments with it.
type ProjectRestored struct {
	ProjectID uuid.UUID `json:"project_id"`
	// DeletedAt is when the project had been deleted.
	DeletedAt time.Time `json:"deleted_at"`
	ActorID   uuid.UUID `json:"actor_id"`
}

// ProjectMemberChange is what project.member_added and project.member_removed say: whose membership of which
// project, in which role, an actor made or ended.
type ProjectMemberChange struct {
	ProjectID  uuid.UUID `json:"project_id"`
	IdentityID uuid.UUID `json:"identity_id"`
	Role       string    `json:"role"`
	ActorID    uuid.UUID `json:"actor_id"`
}

// ProjectMemberAdded is the payload of project.member_added: an organization member joined a project.
type ProjectMemberAdded ProjectMemberChange

// ProjectMemberRoleChanged is the payload of project.member_role_changed.
type ProjectMemberRoleChanged struct {
	ProjectID  uuid.UUID `json:"project_id"`
	IdentityID uuid.UUID `json:"identity_id"`
	OldRole    string    `json:"old_role"`
	NewRole    string    `json:"new_role"`
	ActorID    uuid.UUID `json:"actor_id"`
}

// ProjectMemberRemoved is the payload of project.member_removed (removed by a manager or left by themselves).
type ProjectMemberRemoved ProjectMemberChange
