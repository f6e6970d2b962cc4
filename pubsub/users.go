package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// UserInvited is the payload of user.invited: someone was invited into an organization by email. It carries
// the raw invitation token, because the notifier builds the email's link from it; the token therefore sits in
// the tenant's outbox until the event is published, and consumers must never log the payload.
type UserInvited struct {
	InvitationID uuid.UUID `json:"invitation_id"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	ExpiresAt    time.Time `json:"expires_at"`
	// InvitedBy is the identity that sent the invitation; InviterName and InviterEmail are for the email's text.
	InvitedBy    uuid.UUID `json:"invited_by"`
	InviterName  string    `json:"inviter_name"`
	InviterEmail string    `json:"inviter_email"`
	TenantID     uuid.UUID `json:"tenant_id"`
	TenantSlug   string    `json:"tenant_slug"`
	TenantName   string    `json:"tenant_name"`
	// Token is the secret the invitee presents to POST /v1/invitations/accept; only its SHA-256 is stored.
	Token string `json:"token"`
}

// InvitationRevoked is the payload of user.invitation_revoked: an open invitation was withdrawn.
type InvitationRevoked struct {
	InvitationID uuid.UUID `json:"invitation_id"`
	Email        string    `json:"email"`
	Role         string    `json:"role"`
	ActorID      uuid.UUID `json:"actor_id"`
}

// Ways a person joins an organization, as UserJoined.Via names them.
const (
	JoinedByInvitation = "invitation"
	JoinedByAdmin      = "added"
)

// UserJoined is the payload of user.joined: an identity became a member, by accepting an invitation or by an
// admin adding it directly (Via).
type UserJoined struct {
	IdentityID uuid.UUID `json:"identity_id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	Role       string    `json:"role"`
	Via        string    `json:"via"`
	// InvitationID is set when Via is JoinedByInvitation.
	InvitationID *uuid.UUID `json:"invitation_id,omitempty"`
	// ActorID is who made the change: the new member when accepting, the admin when adding.
	ActorID uuid.UUID `json:"actor_id"`
}

// UserRoleChanged is the payload of user.role_changed.
type UserRoleChanged struct {
	IdentityID uuid.UUID `json:"identity_id"`
	OldRole    string    `json:"old_role"`
	NewRole    string    `json:"new_role"`
	ActorID    uuid.UUID `json:"actor_id"`
}

// UserRemoved is the payload of user.removed: a membership ended, by an admin's removal or by the member
// leaving (ActorID equals IdentityID). The identity's sessions in the organization were revoked with it.
type UserRemoved struct {
	IdentityID uuid.UUID `json:"identity_id"`
	Email      string    `json:"email"`
	Role       string    `json:"role"`
	ActorID    uuid.UUID `json:"actor_id"`
}
