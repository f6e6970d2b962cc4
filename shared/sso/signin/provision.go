package signin

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
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/membership"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// JoinedBySSO is the user.joined Via of a membership provisioned by a first single sign-on, beside
// pubsub.JoinedByInvitation and pubsub.JoinedByAdmin.
const JoinedBySSO = "sso"

// account is the person as the provider speaks for them.
type account struct {
	// issuer and subject name the provider's account: the link to the identity.
	issuer, subject string
	// email is the verified, normalised email; name the display name a new identity gets.
	email, name string
}

// provision finds the identity of the provider's account, makes it a member of o with the connection's default
// role unless it already is one (keeping its role), and opens its session: one directory transaction through
// the SSO entry point. The identity is the one linked to (issuer, subject) when there is a link, whatever the
// email says now; otherwise the one of the email, found or created, which the link then names. Linking an
// identity by email proves that email (identity.ClaimEmail): an identity whose email was never proven loses
// its password and sessions, which whoever registered the address may have set up. A new membership is then
// recorded in the tenant store (activity and user.joined), in a second transaction, because the two stores may
// be different databases; as with sign-up, a failure there is logged and does not undo the sign-in.
func (s *Service) provision(ctx context.Context, o org, conn sso.Connection, acct account) (Result, error) {
	email, name := acct.email, acct.name
	if conn.DefaultRole == access.Owner || !slices.Contains(access.Roles, conn.DefaultRole) {
		return Result{}, fmt.Errorf("%w: default role %q", ErrMisconfigured, conn.DefaultRole)
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	now := s.o.Now()
	var res Result
	err := s.o.Directory.Platform(ctx, db.EntrySSO, func(tx pgx.Tx) error {
		var status string
		// FOR SHARE holds off a concurrent suspension until this sign-in has committed or seen it.
		if err := tx.QueryRow(ctx, `SELECT status FROM directory.tenants WHERE id = $1 FOR SHARE`, o.id).Scan(&status); err != nil {
			return err
		}
		if status != tenancy.StatusActive {
			return ErrNotFound
		}
		if !s.o.TrustUnverifiedDomains {
			var verified bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory.domains
				WHERE tenant_id = $1 AND verified_at IS NOT NULL AND ($2 = domain OR right($2, length(domain) + 1) = '.' || domain))`,
				o.id, domain).Scan(&verified); err != nil {
				return err
			}
			if !verified {
				return ErrDomainNotVerified
			}
		}
		// A new identity is named from the ID token; an existing one keeps its name and email, which the event
		// then carries.
		id, err := s.linkedIdentity(ctx, tx, acct, &email, &name, now)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if id, err = s.identity(ctx, tx, email, &name); err != nil {
				return err
			}
			if res.Claimed, err = identity.ClaimEmail(ctx, tx, id, now); err != nil {
				return err
			}
			if res.Linked, err = link(ctx, tx, acct, id, o.id, now); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		role := conn.DefaultRole
		if res.Joined, err = membership.Add(ctx, tx, o.id, id, role, time.Time{}); err != nil {
			return err
		}
		if !res.Joined {
			if role, err = membership.Role(ctx, tx, o.id, id); err != nil {
				return err
			}
		}
		res.Session = identity.Session{Principal: token.Principal{IdentityID: id, TenantID: o.id, Role: role, AMR: identity.AMRSSO(o.id)}, TenantSlug: o.slug}
		return s.o.Identity.StartSession(ctx, tx, &res.Session, now)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDomainNotVerified) {
			return Result{}, err
		}
		return Result{}, fmt.Errorf("provision %s in %s: %w", email, o.slug, err)
	}
	if !res.Joined {
		return res, nil
	}
	p := res.Session.Principal
	err = s.o.Tenants.InTenant(ctx, o.id, func(tx pgx.Tx) error {
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: o.id, ActorID: p.IdentityID, EntityType: "member", EntityID: p.IdentityID, Action: activity.Created,
			Changes: map[string]activity.Change{"email": {New: email}, "role": {New: p.Role}, "via": {New: JoinedBySSO}},
		}, activity.Event{Type: pubsub.TypeUserJoined, Payload: pubsub.UserJoined{
			IdentityID: p.IdentityID, Email: email, Name: name, Role: p.Role, Via: JoinedBySSO, ActorID: p.IdentityID,
		}})
	})
	if err != nil {
		s.o.Log.ErrorContext(ctx, "sso membership committed but its user.joined event was not recorded",
			"tenant_id", o.id.String(), "identity_id", p.IdentityID.String(), "error", err.Error())
	}
	return res, nil
}

// identity returns the id of the identity with email, creating one named *name without a password when there
// is none; *name becomes the stored name either way.
func (s *Service) identity(ctx context.Context, tx pgx.Tx, email string, name *string) (uuid.UUID, error) {
	f, err := identity.FindOrCreate(ctx, tx, identity.NewIdentity{Email: email, Name: *name})
	if err != nil {
		return uuid.Nil, err
	}
	*name = f.Name
	return f.ID, nil
}

// linkedIdentity returns the identity linked to acct's provider account, with its stored email and name in
// *email and *name, and records the sign-in on the link; pgx.ErrNoRows when there is no link.
func (s *Service) linkedIdentity(ctx context.Context, tx pgx.Tx, acct account, email, name *string, now time.Time) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `WITH l AS (
			UPDATE directory.sso_links SET last_login_at = $3 WHERE issuer = $1 AND subject = $2 RETURNING identity_id
		)
		SELECT i.id, i.email, i.name FROM l JOIN directory.identities i ON i.id = l.identity_id`,
		acct.issuer, acct.subject, now).Scan(&id, email, name)
	return id, err
}

// link records that acct's provider account is identityID, first met through tenantID's connection, and
// reports whether this call created the link (a concurrent first sign-in of the same account may have).
func link(ctx context.Context, tx pgx.Tx, acct account, identityID, tenantID uuid.UUID, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO directory.sso_links (issuer, subject, identity_id, tenant_id, created_at, last_login_at)
		VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (issuer, subject) DO NOTHING`, acct.issuer, acct.subject, identityID, tenantID, now)
	if err != nil {
		return false, fmt.Errorf("link %s at %s: %w", identityID, acct.issuer, err)
	}
	return tag.RowsAffected() == 1, nil
}
