package members

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/membership"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation is an open invitation as admins see it. Its token is never shown: only the invitee's email gets it.
type Invitation struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	InvitedBy uuid.UUID `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

const invitationColumns = `id, email, role, invited_by, created_at, expires_at`

func scanInvitation(row pgx.Row) (Invitation, error) {
	var inv Invitation
	err := row.Scan(&inv.ID, &inv.Email, &inv.Role, &inv.InvitedBy, &inv.CreatedAt, &inv.ExpiresAt)
	return inv, err
}

// InviteInput is the body of POST /v1/users/invite.
type InviteInput struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Validate normalises the input and reports every failing field.
func (in *InviteInput) Validate() error {
	var errs valid.Errors
	email, ok := identity.NormalizeEmail(in.Email)
	errs.Check(ok, "email", "must be a valid email address")
	in.Email = email
	in.Role = strings.TrimSpace(in.Role)
	errs.Check(access.ValidRole(in.Role), "role", "must be one of owner, admin, member, viewer")
	return errs.Err()
}

// newToken returns a fresh invitation token and the SHA-256 that is stored in its place.
func newToken() (string, []byte) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	tok := base64.RawURLEncoding.EncodeToString(raw)
	return tok, tokenHash(tok)
}

func tokenHash(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// Invite invites in.Email into tenantID with in.Role on behalf of actorID, valid for InvitationTTL from now.
// Inviting an owner needs an owner. An email that is already a member is ErrAlreadyMember; one with an open
// invitation is ErrInvitationExists (an expired one is closed first, so it never blocks a new invitation).
//
// The raw token leaves only in the user.invited event, for the notifier's email; only its SHA-256 is stored in
// the directory. Because that event is the invitation's only way to its invitee, an invitation whose event
// could not be written is revoked again and the call fails, unlike the other changes of this package.
func (s *Store) Invite(ctx context.Context, tenantID, actorID uuid.UUID, in InviteInput, now time.Time) (Invitation, error) {
	if err := in.Validate(); err != nil {
		return Invitation{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Invitation{}, fmt.Errorf("invite: %w", err)
	}
	tok, hash := newToken()
	var (
		inv   Invitation
		event = pubsub.UserInvited{Email: in.Email, Role: in.Role, InvitedBy: actorID, TenantID: tenantID, Token: tok}
	)
	err = s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		var role string
		err := tx.QueryRow(ctx, `SELECT m.role, i.name, i.email, t.slug, t.name FROM directory.memberships m
			JOIN directory.identities i ON i.id = m.identity_id
			JOIN directory.tenants t ON t.id = m.tenant_id
			WHERE m.tenant_id = $1 AND m.identity_id = $2`, tenantID, actorID).
			Scan(&role, &event.InviterName, &event.InviterEmail, &event.TenantSlug, &event.TenantName)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrForbidden
		}
		if err != nil {
			return err
		}
		if !mayGrant(role, in.Role) {
			return ErrForbidden
		}
		var member bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory.memberships m
			JOIN directory.identities i ON i.id = m.identity_id WHERE m.tenant_id = $1 AND i.email = $2)`,
			tenantID, in.Email).Scan(&member); err != nil {
			return err
		}
		if member {
			return ErrAlreadyMember
		}
		// An expired invitation is still "open" to the unique index; closing it at its expiry keeps that fact
		// readable (revoked_at = expires_at) and frees the email for a new one.
		if _, err := tx.Exec(ctx, `UPDATE directory.invitations SET revoked_at = expires_at
			WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at <= $3`,
			tenantID, in.Email, now); err != nil {
			return err
		}
		inv, err = scanInvitation(tx.QueryRow(ctx, `INSERT INTO directory.invitations
			(id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+invitationColumns,
			id, tenantID, in.Email, in.Role, hash, actorID, now, now.Add(InvitationTTL)))
		if errors.Is(db.Classify(err), db.ErrConflict) && db.Constraint(err) == "invitations_open" {
			return ErrInvitationExists
		}
		return err
	})
	if err != nil {
		return Invitation{}, fmt.Errorf("invite %s: %w", in.Email, err)
	}
	event.InvitationID, event.ExpiresAt = inv.ID, inv.ExpiresAt
	err = s.recordErr(ctx, tenantID, nil, activity.Entry{
		TenantID: tenantID, ActorID: actorID, EntityType: EntityInvitation, EntityID: inv.ID, Action: activity.Created,
		Changes: map[string]activity.Change{"email": {New: inv.Email}, "role": {New: inv.Role}, "expires_at": {New: inv.ExpiresAt}},
	}, pubsub.TypeUserInvited, event)
	if err != nil {
		// Without its event nobody would ever receive the token: withdraw the invitation so the admin can retry.
		detached := context.WithoutCancel(ctx)
		werr := s.dir.ForTenant(detached, tenantID, func(tx pgx.Tx) error {
			_, err := tx.Exec(detached, `UPDATE directory.invitations SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, inv.ID, now)
			return err
		})
		if werr != nil {
			s.log.ErrorContext(ctx, "invitation without its event could not be withdrawn", "tenant_id", tenantID.String(),
				"invitation_id", inv.ID.String(), "error", werr.Error())
		}
		return Invitation{}, fmt.Errorf("invite %s: record event: %w", in.Email, err)
	}
	return inv, nil
}

// Invitations returns one page of tenantID's open invitations (neither accepted, revoked nor expired at now),
// newest first.
func (s *Store) Invitations(ctx context.Context, tenantID uuid.UUID, req page.Request, now time.Time) (page.Page[Invitation], error) {
	sql := `SELECT ` + invitationColumns + ` FROM directory.invitations
		WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3`
	args := []any{tenantID, req.Limit + 1, now}
	if req.After != uuid.Nil {
		args = append(args, req.After)
		sql += ` AND id < $4`
	}
	sql += ` ORDER BY id DESC LIMIT $2`
	var items []Invitation
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invitation, error) { return scanInvitation(r) })
		return err
	})
	if err != nil {
		return page.Page[Invitation]{}, fmt.Errorf("list invitations: %w", err)
	}
	return page.Of(req, items, func(i Invitation) uuid.UUID { return i.ID }), nil
}

// Revoke withdraws invitation id of tenantID on behalf of actorID. An invitation already accepted or revoked,
// or of another organization, is db.ErrNotFound; an expired one may still be revoked.
func (s *Store) Revoke(ctx context.Context, tenantID, actorID, id uuid.UUID, now time.Time) error {
	var inv Invitation
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		role, err := actorRole(ctx, tx, tenantID, actorID)
		if err != nil {
			return err
		}
		if !access.Can(role, access.ManageMembers) {
			return ErrForbidden
		}
		inv, err = scanInvitation(tx.QueryRow(ctx, `UPDATE directory.invitations SET revoked_at = $3
			WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL
			RETURNING `+invitationColumns, tenantID, id, now))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke invitation %s: %w", id, err)
	}
	s.record(ctx, tenantID, activity.Entry{
		TenantID: tenantID, ActorID: actorID, EntityType: EntityInvitation, EntityID: id, Action: activity.Deleted,
		Changes: map[string]activity.Change{"email": {Old: inv.Email}, "role": {Old: inv.Role}},
	}, pubsub.TypeInvitationRevoked, pubsub.InvitationRevoked{InvitationID: id, Email: inv.Email, Role: inv.Role, ActorID: actorID})
	return nil
}

// AcceptInput is what the invitee sends: the token from the email and, for a person without an identity yet,
// the name and password of the identity to create.
type AcceptInput struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// Validate trims the input and reports every failing field that can be judged without the invitation (the
// password policy applies only when an identity is created, see Accept).
func (in *AcceptInput) Validate() error {
	in.Token = strings.TrimSpace(in.Token)
	in.Name = strings.TrimSpace(in.Name)
	var errs valid.Errors
	errs.Check(in.Token != "", "token", "is required")
	checkName(&errs, "name", in.Name, false)
	return errs.Err()
}

// Accepted is the result of accepting an invitation: the new membership and its first session.
type Accepted struct {
	Member  Member
	Session identity.Session
}

// pending is an open invitation found by its token, with its organization and the invitee's identity if any.
type pending struct {
	id, tenantID     uuid.UUID
	email, role      string
	slug, status     string
	identityID       *uuid.UUID
	passwordHash     *string
	verified         bool   // the existing identity proved it owns the email
	createIdentityAs string // the password hash of the identity to create, or to claim an unverified one with
}

// Accept redeems an invitation token: it makes the invitee a member with the invitation's role, marks the
// invitation accepted (it works once) and opens the new member's first session, all in one directory
// transaction through the invitation platform entry.
//
// An unknown, expired, revoked or already accepted token is ErrInvitationNotFound, one answer for all. When the
// invited email has no identity, in.Password is required and must satisfy the password policy; the identity is
// created with it and in.Name. When it has one, in.Password must be that identity's password
// (identity.ErrInvalidCredentials otherwise), unless proven is that identity: the caller showed a valid access
// token of it, which proves the person as well as a password would. An existing identity keeps its name.
//
// The token came by mail to the invited address, so redeeming it proves the acceptor owns the email: the
// identity is marked verified. An existing identity that never proved its email may have been created by
// anyone, so its password is not asked for and gives no access: without proven, the acceptor sets a new
// password (in.Password, under the password policy) and identity.ClaimUnverified drops whatever the creator
// set up (the old password, every session, the second factor) before the membership is added.
func (s *Store) Accept(ctx context.Context, in AcceptInput, proven uuid.UUID, now time.Time) (Accepted, error) {
	if err := in.Validate(); err != nil {
		return Accepted{}, err
	}
	hash := tokenHash(in.Token)
	var p pending
	err := s.dir.Platform(ctx, db.EntryInvitation, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT inv.id, inv.tenant_id, inv.email, inv.role, t.slug, t.status, i.id, i.password_hash,
				coalesce(i.email_verified_at IS NOT NULL, false)
			FROM directory.invitations inv
			JOIN directory.tenants t ON t.id = inv.tenant_id
			LEFT JOIN directory.identities i ON i.email = inv.email
			WHERE inv.token_hash = $1 AND inv.accepted_at IS NULL AND inv.revoked_at IS NULL AND inv.expires_at > $2`,
			hash, now).Scan(&p.id, &p.tenantID, &p.email, &p.role, &p.slug, &p.status, &p.identityID, &p.passwordHash, &p.verified)
	})
	switch {
	case errors.Is(err, db.ErrNotFound):
		return Accepted{}, ErrInvitationNotFound
	case err != nil:
		return Accepted{}, fmt.Errorf("accept invitation: %w", err)
	case p.status == tenancy.StatusSuspended:
		return Accepted{}, ErrTenantSuspended
	case p.status != tenancy.StatusActive:
		return Accepted{}, ErrInvitationNotFound
	}
	// Passwords are checked and hashed outside the transaction, so no lock is held across argon2.
	switch {
	case p.identityID == nil, *p.identityID != proven && !p.verified:
		var errs valid.Errors
		identity.ValidatePassword(&errs, "password", in.Password)
		if err := errs.Err(); err != nil {
			return Accepted{}, err
		}
		p.createIdentityAs = s.ids.HashPassword(in.Password)
	case *p.identityID == proven:
	case p.passwordHash == nil || in.Password == "":
		return Accepted{}, identity.ErrInvalidCredentials
	default:
		ok, err := identity.CheckPassword(in.Password, *p.passwordHash)
		if err != nil {
			return Accepted{}, fmt.Errorf("accept invitation: %w", err)
		}
		if !ok {
			return Accepted{}, identity.ErrInvalidCredentials
		}
	}
	var acc Accepted
	err = s.dir.Platform(ctx, db.EntryInvitation, func(tx pgx.Tx) error {
		// Lock the invitation and re-check that it is still open: a concurrent accept of the same token waits
		// here and then finds it accepted.
		var still bool
		if err := tx.QueryRow(ctx, `SELECT true FROM directory.invitations
			WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE`, p.id, now).Scan(&still); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrInvitationNotFound
			}
			return err
		}
		var identityID uuid.UUID
		if p.identityID != nil {
			identityID = *p.identityID
			if p.createIdentityAs != "" {
				// The acceptor took over an unverified identity: nothing its creator set survives.
				claimed, err := identity.ClaimUnverified(ctx, tx, identityID, now)
				if err != nil {
					return err
				}
				if !claimed {
					// Verified concurrently: a retry asks for the password.
					return fmt.Errorf("identity %s verified concurrently: %w", p.email, db.ErrConflict)
				}
				if _, err := tx.Exec(ctx, `UPDATE directory.identities SET password_hash = $2 WHERE id = $1`,
					identityID, p.createIdentityAs); err != nil {
					return err
				}
			} else if err := identity.MarkVerified(ctx, tx, identityID, now); err != nil {
				return err
			}
		} else {
			f, err := identity.FindOrCreate(ctx, tx, identity.NewIdentity{Email: p.email, Name: in.Name, PasswordHash: p.createIdentityAs, VerifiedAt: &now})
			if err != nil {
				return err
			}
			if !f.Created {
				// A concurrent sign-up of the same email makes this a conflict; the invitation stays open for a
				// retry, which then finds the identity and asks for its password.
				return fmt.Errorf("identity %s created concurrently: %w", p.email, db.ErrConflict)
			}
			identityID = f.ID
		}
		added, err := membership.Add(ctx, tx, p.tenantID, identityID, p.role, now)
		if err != nil {
			return err
		}
		if !added {
			return ErrAlreadyMember
		}
		if _, err := tx.Exec(ctx, `UPDATE directory.invitations SET accepted_at = $2 WHERE id = $1`, p.id, now); err != nil {
			return err
		}
		if acc.Member, err = getMember(ctx, tx, p.tenantID, identityID); err != nil {
			return err
		}
		acc.Session = identity.Session{Principal: token.Principal{IdentityID: identityID, TenantID: p.tenantID, Role: p.role}, TenantSlug: p.slug}
		return s.ids.StartSession(ctx, tx, &acc.Session, now)
	})
	if err != nil {
		return Accepted{}, fmt.Errorf("accept invitation %s: %w", p.id, err)
	}
	invitationID := p.id
	m := acc.Member
	s.record(ctx, p.tenantID, activity.Entry{
		TenantID: p.tenantID, ActorID: m.ID, EntityType: EntityMember, EntityID: m.ID, Action: activity.Created,
		Changes: map[string]activity.Change{"email": {New: m.Email}, "role": {New: m.Role}, "invitation_id": {New: invitationID}},
	}, pubsub.TypeUserJoined, pubsub.UserJoined{
		IdentityID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, Via: pubsub.JoinedByInvitation, InvitationID: &invitationID, ActorID: m.ID,
	})
	return acc, nil
}
