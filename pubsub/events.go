// Package pubsub is Hyperscale's event catalogue: the type of every event, the topic it is published to, and
// the payload it carries. Producers write these payloads to their tenant's outbox in the transaction of the
// change; the publisher wraps them in a CloudEvents 1.0 envelope whose subject is the tenant id.
package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// Event types, as they appear in the CloudEvents "type" attribute.
const (
	TypeTenantCreated  = "tenant.created"
	TypeProjectCreated = "project.created"
	TypeProjectUpdated = "project.updated"
	TypeProjectDeleted = "project.deleted"

	TypeTaskCreated       = "task.created"
	TypeTaskAssigned      = "task.assigned"
	TypeTaskStatusChanged = "task.status_changed"
	TypeTaskUpdated       = "task.updated"
	TypeTaskDeleted       = "task.deleted"

	TypeTenantUpdated         = "tenant.updated"
	TypeTenantSettingsUpdated = "tenant.settings_updated"
	TypeDomainAdded           = "tenant.domain_added"
	TypeDomainVerified        = "tenant.domain_verified"
	TypeDomainRemoved         = "tenant.domain_removed"

	TypeUserInvited            = "user.invited"
	TypeInvitationRevoked      = "user.invitation_revoked"
	TypeUserJoined             = "user.joined"
	TypeUserRoleChanged        = "user.role_changed"
	TypeUserRemoved            = "user.removed"
	TypePasswordResetRequested = "auth.password_reset_requested"

	// TypeEmailVerificationRequested carries a link that proves an identity owns its email.
	TypeEmailVerificationRequested = "identity.email_verification_requested"

	TypeCommentCreated    = "comment.created"
	TypeCommentUpdated    = "comment.updated"
	TypeCommentDeleted    = "comment.deleted"
	TypeAttachmentAdded   = "attachment.added"
	TypeAttachmentDeleted = "attachment.deleted"

	TypeProjectRestored          = "project.restored"
	TypeProjectMemberAdded       = "project.member_added"
	TypeProjectMemberRoleChanged = "project.member_role_changed"
	TypeProjectMemberRemoved     = "project.member_removed"
)

// Topics, one per domain, so subscribers filter by type within a small stream.
const (
	TopicTenants  = "tenants"
	TopicProjects = "projects"
	TopicMembers  = "members"
	// TopicIdentity carries events of a person rather than of an organization (the subject is the identity).
	TopicIdentity = "identity"
	// TopicTasks carries events of tasks and of what hangs on them (comments, attachments).
	TopicTasks = "tasks"
)

// TopicOf returns the topic an event type is published to, and false for a type the catalogue lacks.
func TopicOf(eventType string) (string, bool) {
	t, ok := topics[eventType]
	return t, ok
}

var topics = map[string]string{
	TypeTenantCreated:  TopicTenants,
	TypeProjectCreated: TopicProjects,
	TypeProjectUpdated: TopicProjects,
	TypeProjectDeleted: TopicProjects,

	TypeTaskCreated:       TopicTasks,
	TypeTaskAssigned:      TopicTasks,
	TypeTaskStatusChanged: TopicTasks,
	TypeTaskUpdated:       TopicTasks,
	TypeTaskDeleted:       TopicTasks,

	TypeTenantUpdated:         TopicTenants,
	TypeTenantSettingsUpdated: TopicTenants,
	TypeDomainAdded:           TopicTenants,
	TypeDomainVerified:        TopicTenants,
	TypeDomainRemoved:         TopicTenants,

	TypeUserInvited:            TopicMembers,
	TypeInvitationRevoked:      TopicMembers,
	TypeUserJoined:             TopicMembers,
	TypeUserRoleChanged:        TopicMembers,
	TypeUserRemoved:            TopicMembers,
	TypePasswordResetRequested: TopicIdentity,

	TypeEmailVerificationRequested: TopicIdentity,

	TypeCommentCreated:    TopicTasks,
	TypeCommentUpdated:    TopicTasks,
	TypeCommentDeleted:    TopicTasks,
	TypeAttachmentAdded:   TopicTasks,
	TypeAttachmentDeleted: TopicTasks,

	TypeProjectRestored:          TopicProjects,
	TypeProjectMemberAdded:       TopicProjects,
	TypeProjectMemberRoleChanged: TopicProjects,
	TypeProjectMemberRemoved:     TopicProjects,
}

// TenantCreated is the payload of tenant.created: an organization signed up.
type TenantCreated struct {
	TenantID uuid.UUID `json:"tenant_id"`
	Slug     string    `json:"slug"`
	Name     string    `json:"name"`
	OwnerID  uuid.UUID `json:"owner_id"`
}

// ProjectCreated is the payload of project.created.
type ProjectCreated struct {
	ProjectID uuid.UUID `json:"project_id"`
	Name      string    `json:"name"`
	ActorID   uuid.UUID `json:"actor_id"`
}

// ProjectUpdated is the payload of project.updated; Changed lists the fields that changed.
type ProjectUpdated struct {
	ProjectID uuid.UUID `json:"project_id"`
	Changed   []string  `json:"changed"`
	ActorID   uuid.UUID `json:"actor_id"`
}

// ProjectDeleted is the payload of project.deleted (a soft delete; the project can be restored).
type ProjectDeleted struct {
	ProjectID uuid.UUID `json:"project_id"`
	DeletedAt time.Time `json:"deleted_at"`
	ActorID   uuid.UUID `json:"actor_id"`
}
