// Package members holds who belongs to an organization and how they got there: memberships and their roles
// (owner, admin, member, viewer), members added directly by an admin, invitations by email and their
// acceptance.
//
// Memberships, identities and invitations live in the directory store, while the activity trail and the outbox
// live in the tenant store, which may be another database. A change is therefore two transactions: the
// directory's first (it decides whether the change happens), then the tenant's activity row and outbox event.
// A failure of the second is logged and does not undo the first, as with sign-up.
//
// Every method that an organization's member calls re-reads the actor's role from the directory inside its
// transaction: an access token carries the role it was minted with for up to its lifetime, and an admin who
// was just demoted or removed must not keep managing members until it expires.
package members

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/membership"
	"github.com/coditect/hyperscale/shared/obs"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Errors a caller maps to answers. Unknown members and invitations, and those of another organization, are
// db.ErrNotFound.
var (
	// ErrForbidden means the actor's current role (read from the directory, not the token) may not make the
	// change, or the actor is no longer a member.
	ErrForbidden = fault.New(fault.Forbidden, "forbidden", "your role in this organization may not make this change")
	// ErrAlreadyMember means the identity already belongs to the organization.
	ErrAlreadyMember = fault.New(fault.Conflict, "already_member", "this person is already a member of the organization")
	// ErrLastOwner means the change would leave the organization without an owner.
	ErrLastOwner = fault.New(fault.Conflict, "last_owner", "the organization must keep at least one owner; make someone else owner first")
	// ErrInvitationExists means the email already has an open invitation to the organization.
	ErrInvitationExists = fault.New(fault.Conflict, "invitation_exists", "this email already has an open invitation; revoke it to send another")
	// ErrInvitationNotFound covers an unknown, expired, revoked and already accepted invitation token alike.
	ErrInvitationNotFound = fault.New(fault.NotFound, "invitation_not_found", "the invitation does not exist, has expired, was revoked or was already used")
	// ErrTenantSuspended means the invitation's organization is suspended.
	ErrTenantSuspended = fault.New(fault.Forbidden, "tenant_suspended", "this organization is suspended")
)

// Activity entity types this package records.
const (
	EntityMember     = "member"
	EntityInvitation = "invitation"
)

// MaxNameLength bounds a person's name, as the directory's check constraint does.
const MaxNameLength = 200

// Member is one member of an organization as the API shows it. ID is the identity's id.
type Member struct {
	ID       uuid.UUID `json:"id"`
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	JoinedAt time.Time `json:"joined_at"`
}

// Tenant is the organization part of a profile.
type Tenant struct {
	ID   uuid.UUID `json:"id"`
	Slug string    `json:"slug"`
	Name string    `json:"name"`
}

// Profile is the caller's own view of themself in their current organization (GET /v1/users/me).
type Profile struct {
	Member
	Tenant Tenant `json:"tenant"`
}

// Store is the directory's record of organizations' members and invitations.
type Store struct {
	dir     *db.Directory
	tenants *db.Tenants
	ids     *identity.Service
	log     *slog.Logger
}

// New returns the store. ids starts the session of a person accepting an invitation and hashes new passwords.
func New(dir *db.Directory, tenants *db.Tenants, ids *identity.Service, log *slog.Logger) *Store {
	return &Store{dir: dir, tenants: tenants, ids: ids, log: obs.OrDiscard(log)}
}

// Filter narrows a member list.
type Filter struct {
	// Role keeps members of this role only; empty keeps all.
	Role string
	// Query keeps members whose name or email contains it, ignoring case; empty keeps all.
	Query string
}

// MaxQueryLength bounds a search string.
const MaxQueryLength = 200

// Validate trims the filter and reports every failing parameter.
func (f *Filter) Validate() error {
	f.Role = strings.TrimSpace(f.Role)
	f.Query = strings.TrimSpace(f.Query)
	var errs valid.Errors
	errs.Check(f.Role == "" || access.ValidRole(f.Role), "role", "must be one of owner, admin, member, viewer")
	errs.Check(utf8.RuneCountInString(f.Query) <= MaxQueryLength, "q", fmt.Sprintf("must be at most %d characters", MaxQueryLength))
	errs.Check(utf8.ValidString(f.Query) && !strings.ContainsRune(f.Query, 0), "q", "must be valid text without NUL characters")
	return errs.Err()
}

// likePattern makes q a LIKE pattern matching it as a plain substring: the wildcards and the escape character
// a client sends stand for themselves.
func likePattern(q string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
}

const memberColumns = `i.id, i.email, i.name, m.role, m.created_at`

func scanMember(row pgx.Row) (Member, error) {
	var m Member
	err := row.Scan(&m.ID, &m.Email, &m.Name, &m.Role, &m.JoinedAt)
	return m, err
}

// List returns one page of tenantID's members in identity order, filtered by f.
func (s *Store) List(ctx context.Context, tenantID uuid.UUID, f Filter, req page.Request) (page.Page[Member], error) {
	if err := f.Validate(); err != nil {
		return page.Page[Member]{}, err
	}
	sql := `SELECT ` + memberColumns + ` FROM directory.memberships m
		JOIN directory.identities i ON i.id = m.identity_id
		WHERE m.tenant_id = $1`
	args := []any{tenantID, req.Limit + 1}
	if f.Role != "" {
		args = append(args, f.Role)
		sql += fmt.Sprintf(` AND m.role = $%d`, len(args))
	}
	if f.Query != "" {
		args = append(args, likePattern(f.Query))
		sql += fmt.Sprintf(` AND (i.email ILIKE $%[1]d ESCAPE '\' OR i.name ILIKE $%[1]d ESCAPE '\')`, len(args))
	}
	if req.After != uuid.Nil {
		args = append(args, req.After)
		sql += fmt.Sprintf(` AND m.identity_id > $%d`, len(args))
	}
	sql += ` ORDER BY m.identity_id LIMIT $2`
	var items []Member
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) { return scanMember(r) })
		return err
	})
	if err != nil {
		return page.Page[Member]{}, fmt.Errorf("list members: %w", err)
	}
	return page.Of(req, items, func(m Member) uuid.UUID { return m.ID }), nil
}

func getMember(ctx context.Context, tx pgx.Tx, tenantID, identityID uuid.UUID) (Member, error) {
	return scanMember(tx.QueryRow(ctx, `SELECT `+memberColumns+` FROM directory.memberships m
		JOIN directory.identities i ON i.id = m.identity_id
		WHERE m.tenant_id = $1 AND m.identity_id = $2`, tenantID, identityID))
}

// Profile returns identityID's profile in tenantID, with the role the directory holds now. An identity that is
// no longer a member is db.ErrNotFound.
func (s *Store) Profile(ctx context.Context, tenantID, identityID uuid.UUID) (Profile, error) {
	var p Profile
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		p, err = profile(ctx, tx, tenantID, identityID)
		return err
	})
	if err != nil {
		return Profile{}, fmt.Errorf("load profile %s: %w", identityID, err)
	}
	return p, nil
}

func profile(ctx context.Context, tx pgx.Tx, tenantID, identityID uuid.UUID) (Profile, error) {
	var p Profile
	err := tx.QueryRow(ctx, `SELECT `+memberColumns+`, t.id, t.slug, t.name FROM directory.memberships m
		JOIN directory.identities i ON i.id = m.identity_id
		JOIN directory.tenants t ON t.id = m.tenant_id
		WHERE m.tenant_id = $1 AND m.identity_id = $2`, tenantID, identityID).
		Scan(&p.ID, &p.Email, &p.Name, &p.Role, &p.JoinedAt, &p.Tenant.ID, &p.Tenant.Slug, &p.Tenant.Name)
	return p, err
}

// ProfileInput is the body of PUT /v1/users/me.
type ProfileInput struct {
	Name string `json:"name"`
}

// Validate trims the input and reports every failing field.
func (in *ProfileInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	var errs valid.Errors
	checkName(&errs, "name", in.Name, true)
	return errs.Err()
}

// checkName checks a person's trimmed name; PostgreSQL text cannot hold NUL, so refusing it keeps it a 422.
func checkName(errs *valid.Errors, field, name string, required bool) {
	n := utf8.RuneCountInString(name)
	switch {
	case required && n == 0:
		errs.Add(field, "is required")
	case n > MaxNameLength:
		errs.Add(field, fmt.Sprintf("must be at most %d characters", MaxNameLength))
	}
	errs.Check(utf8.ValidString(name) && !strings.ContainsRune(name, 0), field, "must be valid text without NUL characters")
	errs.CheckDisplayText(field, name)
}

// UpdateProfile renames identityID, a member of tenantID. A name belongs to the person, so the change shows in
// every organization they belong to; its activity row is recorded in tenantID, where it was made. The event
// catalogue has no type for a renamed person, so no event is written.
func (s *Store) UpdateProfile(ctx context.Context, tenantID, identityID uuid.UUID, in ProfileInput) (Profile, error) {
	if err := in.Validate(); err != nil {
		return Profile{}, err
	}
	var (
		p   Profile
		old string
	)
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// The membership check names the tenant, so a person removed from tenantID cannot act through it.
		err := tx.QueryRow(ctx, `SELECT i.name FROM directory.identities i
			JOIN directory.memberships m ON m.identity_id = i.id AND m.tenant_id = $1
			WHERE i.id = $2 FOR UPDATE OF i`, tenantID, identityID).Scan(&old)
		if err != nil {
			return err
		}
		if old != in.Name {
			if _, err := tx.Exec(ctx, `UPDATE directory.identities SET name = $2, updated_at = now() WHERE id = $1`, identityID, in.Name); err != nil {
				return err
			}
		}
		p, err = profile(ctx, tx, tenantID, identityID)
		return err
	})
	if err != nil {
		return Profile{}, fmt.Errorf("update profile %s: %w", identityID, err)
	}
	if old != in.Name {
		s.record(ctx, tenantID, activity.Entry{
			TenantID: tenantID, ActorID: identityID, EntityType: EntityMember, EntityID: identityID, Action: activity.Updated,
			Changes: map[string]activity.Change{"name": {Old: old, New: in.Name}},
		}, "", nil)
	}
	return p, nil
}

// AddInput is the body of POST /v1/users: an admin adds a member directly.
type AddInput struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// Validate normalises the input and reports every failing field.
func (in *AddInput) Validate() error {
	var errs valid.Errors
	email, ok := identity.NormalizeEmail(in.Email)
	errs.Check(ok, "email", "must be a valid email address")
	in.Email = email
	in.Name = strings.TrimSpace(in.Name)
	checkName(&errs, "name", in.Name, false)
	in.Role = strings.TrimSpace(in.Role)
	errs.Check(access.ValidRole(in.Role), "role", "must be one of owner, admin, member, viewer")
	return errs.Err()
}

// actorRole returns the actor's current role in tenantID, or ErrForbidden when the actor is not a member.
func actorRole(ctx context.Context, tx pgx.Tx, tenantID, actorID uuid.UUID) (string, error) {
	role, err := membership.Role(ctx, tx, tenantID, actorID)
	if err == nil && role == "" {
		return "", ErrForbidden
	}
	return role, err
}

// mayGrant reports whether actorRole may manage members of role: every role but owner needs ManageMembers,
// owner needs ManageOwners as well.
func mayGrant(actorRole, role string) bool {
	if !access.Can(actorRole, access.ManageMembers) {
		return false
	}
	return role != access.Owner || access.Can(actorRole, access.ManageOwners)
}

// Add makes the identity with in.Email a member of tenantID with in.Role, on behalf of actorID. When the email
// has no identity yet, one is created without a password (and with in.Name): its owner sets a password through
// a password reset, or signs in with the organization's SSO. An existing identity keeps its own name.
func (s *Store) Add(ctx context.Context, tenantID, actorID uuid.UUID, in AddInput) (Member, error) {
	if err := in.Validate(); err != nil {
		return Member{}, err
	}
	var m Member
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		role, err := actorRole(ctx, tx, tenantID, actorID)
		if err != nil {
			return err
		}
		if !mayGrant(role, in.Role) {
			return ErrForbidden
		}
		// Identities are global (one per email), so this statement cannot name the tenant; it creates or finds
		// the person, and the membership below is what ties them to tenantID.
		f, err := identity.FindOrCreate(ctx, tx, identity.NewIdentity{Email: in.Email, Name: in.Name})
		if err != nil {
			return err
		}
		added, err := membership.Add(ctx, tx, tenantID, f.ID, in.Role, time.Time{})
		if err != nil {
			return err
		}
		if !added {
			return ErrAlreadyMember
		}
		m, err = getMember(ctx, tx, tenantID, f.ID)
		return err
	})
	if err != nil {
		return Member{}, fmt.Errorf("add member %s: %w", in.Email, err)
	}
	s.record(ctx, tenantID, activity.Entry{
		TenantID: tenantID, ActorID: actorID, EntityType: EntityMember, EntityID: m.ID, Action: activity.Created,
		Changes: map[string]activity.Change{"email": {New: m.Email}, "role": {New: m.Role}},
	}, pubsub.TypeUserJoined, pubsub.UserJoined{
		IdentityID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, Via: pubsub.JoinedByAdmin, ActorID: actorID,
	})
	return m, nil
}

// RoleInput is the body of PUT /v1/users/{id}/role.
type RoleInput struct {
	Role string `json:"role"`
}

// Validate normalises the input and reports every failing field.
func (in *RoleInput) Validate() error {
	in.Role = strings.TrimSpace(in.Role)
	var errs valid.Errors
	errs.Check(access.ValidRole(in.Role), "role", "must be one of owner, admin, member, viewer")
	return errs.Err()
}

// lockRoles locks the memberships of tenantID's owners, of the actor and of the target, in identity order, and
// returns their current roles. Every change of an owner's membership takes these locks first, so two concurrent
// demotions or removals of the last two owners serialise: the second sees the first's result (READ COMMITTED
// re-reads a row it waited for and drops it when it no longer matches) and finds one owner left. Taking the
// locks in one statement in one order keeps two such changes from deadlocking.
func lockRoles(ctx context.Context, tx pgx.Tx, tenantID, actorID, targetID uuid.UUID) (roles map[uuid.UUID]string, owners int, err error) {
	rows, err := tx.Query(ctx, `SELECT identity_id, role FROM directory.memberships
		WHERE tenant_id = $1 AND (role = 'owner' OR identity_id = $2 OR identity_id = $3)
		ORDER BY identity_id FOR UPDATE`, tenantID, actorID, targetID)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	roles = map[uuid.UUID]string{}
	for rows.Next() {
		var (
			id   uuid.UUID
			role string
		)
		if err := rows.Scan(&id, &role); err != nil {
			return nil, 0, err
		}
		roles[id] = role
		if role == access.Owner {
			owners++
		}
	}
	return roles, owners, rows.Err()
}

// ChangeRole gives targetID, a member of tenantID, the role in.Role on behalf of actorID. Granting or taking
// the owner role needs an owner; the last owner cannot be demoted (ErrLastOwner). Setting the role a member
// already has changes and records nothing.
//
// The change gives the membership a new version (a directory trigger draws it), so the member's access tokens
// minted before, which carry the old role and version, are refused as stale within the session-check bound
// (SESSION_CHECK_TTL); a refresh mints one with the new role.
func (s *Store) ChangeRole(ctx context.Context, tenantID, actorID, targetID uuid.UUID, in RoleInput) (Member, error) {
	if err := in.Validate(); err != nil {
		return Member{}, err
	}
	var (
		m       Member
		oldRole string
	)
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		roles, owners, err := lockRoles(ctx, tx, tenantID, actorID, targetID)
		if err != nil {
			return err
		}
		actor, ok := roles[actorID]
		if !ok || !access.Can(actor, access.ManageMembers) {
			return ErrForbidden
		}
		old, ok := roles[targetID]
		if !ok {
			return db.ErrNotFound
		}
		oldRole = old
		if !mayGrant(actor, old) || !mayGrant(actor, in.Role) {
			return ErrForbidden
		}
		if old == in.Role {
			m, err = getMember(ctx, tx, tenantID, targetID)
			return err
		}
		if old == access.Owner && owners <= 1 {
			return ErrLastOwner
		}
		if _, err := tx.Exec(ctx, `UPDATE directory.memberships SET role = $3 WHERE tenant_id = $1 AND identity_id = $2`,
			tenantID, targetID, in.Role); err != nil {
			return err
		}
		m, err = getMember(ctx, tx, tenantID, targetID)
		return err
	})
	if err != nil {
		return Member{}, fmt.Errorf("change role of member %s: %w", targetID, err)
	}
	if oldRole != in.Role {
		s.record(ctx, tenantID, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: EntityMember, EntityID: targetID, Action: activity.Updated,
			Changes: map[string]activity.Change{"role": {Old: oldRole, New: in.Role}},
		}, pubsub.TypeUserRoleChanged, pubsub.UserRoleChanged{IdentityID: targetID, OldRole: oldRole, NewRole: in.Role, ActorID: actorID})
	}
	return m, nil
}

// Remove ends targetID's membership of tenantID on behalf of actorID, and revokes the refresh-token families
// the identity holds in tenantID, so its sessions there end at their next refresh. Any member may remove
// themself (leave); removing someone else needs ManageMembers, and an owner ManageOwners. The last owner
// cannot be removed (ErrLastOwner), not even by themself.
func (s *Store) Remove(ctx context.Context, tenantID, actorID, targetID uuid.UUID, now time.Time) error {
	var m Member
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		roles, owners, err := lockRoles(ctx, tx, tenantID, actorID, targetID)
		if err != nil {
			return err
		}
		actor, ok := roles[actorID]
		if !ok {
			return ErrForbidden
		}
		role, ok := roles[targetID]
		if !ok {
			return db.ErrNotFound
		}
		if actorID != targetID && !mayGrant(actor, role) {
			return ErrForbidden
		}
		if role == access.Owner && owners <= 1 {
			return ErrLastOwner
		}
		if m, err = getMember(ctx, tx, tenantID, targetID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`, tenantID, targetID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE directory.refresh_token_families SET revoked_at = $3
			WHERE identity_id = $1 AND tenant_id = $2 AND revoked_at IS NULL`, targetID, tenantID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove member %s: %w", targetID, err)
	}
	// Their project memberships go in the same tenant-store transaction as the record of the removal, so lists
	// of a project's members never show someone who has left the organization.
	leave := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM tenant.project_members WHERE tenant_id = $1 AND identity_id = $2`, tenantID, targetID)
		return err
	}
	s.recordAfter(ctx, tenantID, leave, activity.Entry{
		TenantID: tenantID, ActorID: actorID, EntityType: EntityMember, EntityID: targetID, Action: activity.Deleted,
		Changes: map[string]activity.Change{"email": {Old: m.Email}, "role": {Old: m.Role}},
	}, pubsub.TypeUserRemoved, pubsub.UserRemoved{IdentityID: targetID, Email: m.Email, Role: m.Role, ActorID: actorID})
	return nil
}

// record writes a committed directory change's activity row and, when eventType is not empty, its outbox event,
// in one tenant-store transaction. The directory transaction has committed by then and cannot be undone, so a
// failure here is logged at ERROR for an operator rather than answered as a failed request.
func (s *Store) record(ctx context.Context, tenantID uuid.UUID, e activity.Entry, eventType string, payload any) {
	s.recordAfter(ctx, tenantID, nil, e, eventType, payload)
}

// recordAfter is record with a tenant-store statement of the change's own (before, when not nil) run first in
// the same transaction.
func (s *Store) recordAfter(ctx context.Context, tenantID uuid.UUID, before func(context.Context, pgx.Tx) error, e activity.Entry, eventType string, payload any) {
	if err := s.recordErr(ctx, tenantID, before, e, eventType, payload); err != nil {
		s.log.ErrorContext(ctx, "directory change committed but its activity or event was not recorded",
			"tenant_id", tenantID.String(), "entity", e.EntityType, "entity_id", e.EntityID.String(), "action", e.Action,
			"event", eventType, "error", err.Error())
	}
}

func (s *Store) recordErr(ctx context.Context, tenantID uuid.UUID, before func(context.Context, pgx.Tx) error, e activity.Entry, eventType string, payload any) error {
	// The request may be cancelled once the directory committed; the record of what happened still belongs.
	ctx = context.WithoutCancel(ctx)
	return s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		if before != nil {
			if err := before(ctx, tx); err != nil {
				return err
			}
		}
		if eventType == "" {
			// A directory change the event catalogue has no event for.
			return activity.RecordOnly(ctx, tx, e)
		}
		return activity.Record(ctx, tx, e, activity.Event{Type: eventType, Payload: payload})
	})
}
