package pubsub

import (
	"time"

	"github.com/google/uuid"
)

// TenantUpdated is the payload of tenant.updated: the organization's own fields changed (today only its name;
// the slug is fixed at sign-up). Changed lists the fields that changed.
type TenantUpdated struct {
	TenantID uuid.UUID `json:"tenant_id"`
	Name     string    `json:"name"`
	Changed  []string  `json:"changed"`
	ActorID  uuid.UUID `json:"actor_id"`
}

// TenantSettingsUpdated is the payload of tenant.settings_updated. Changed lists the top-level settings that
// changed ("features", "limits", "preferences", "sso"); the values are not carried, so no secret travels with
// the event and consumers read the settings they need.
type TenantSettingsUpdated struct {
	TenantID uuid.UUID `json:"tenant_id"`
	Changed  []string  `json:"changed"`
	ActorID  uuid.UUID `json:"actor_id"`
}

// DomainChange is what tenant.domain_added and tenant.domain_removed say: which domain an actor claimed or
// gave up.
type DomainChange struct {
	DomainID uuid.UUID `json:"domain_id"`
	Domain   string    `json:"domain"`
	ActorID  uuid.UUID `json:"actor_id"`
}

// DomainAdded is the payload of tenant.domain_added: a custom domain was claimed and awaits DNS verification.
type DomainAdded DomainChange

// DomainVerified is the payload of tenant.domain_verified: the domain's TXT record proved the organization
// controls it.
type DomainVerified struct {
	DomainID   uuid.UUID `json:"domain_id"`
	Domain     string    `json:"domain"`
	VerifiedAt time.Time `json:"verified_at"`
	ActorID    uuid.UUID `json:"actor_id"`
}

// DomainRemoved is the payload of tenant.domain_removed: the domain is free for any organization to claim.
type DomainRemoved DomainChange
