// Package tenancy holds organizations (tenants) in the directory: their slug, name, status, plan and
// placement, and the sign-up that creates one together with its owner.
package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
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
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrSlugTaken means another organization already has the slug.
var ErrSlugTaken = fault.New(fault.Conflict, "slug_taken", "an organization with this slug exists")

// Tenant is an organization as the API shows it.
type Tenant struct {
	ID        uuid.UUID `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Plan      string    `json:"plan"`
	CreatedAt time.Time `json:"created_at"`
}

// slugPattern matches the directory's check constraint: 3 to 63 lower-case letters, digits and inner dashes,
// so a slug can be a DNS label.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// reserved slugs would collide with the platform's own host names and paths.
var reserved = []string{"admin", "api", "app", "auth", "billing", "docs", "help", "login", "root", "static", "status", "support", "system", "www"}

// Owner is the person who signs an organization up.
type Owner struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// SignUpInput is the body of POST /v1/tenants.
type SignUpInput struct {
	Name  string `json:"name"`
	Slug  string `json:"slug"`
	Owner Owner  `json:"owner"`
}

// Validate normalises the input and reports every failing field.
func (in *SignUpInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Slug = strings.TrimSpace(in.Slug)
	in.Owner.Name = strings.TrimSpace(in.Owner.Name)
	var errs valid.Errors
	errs.Check(in.Name != "" && utf8.RuneCountInString(in.Name) <= 200, "name", "must be 1 to 200 characters")
	switch {
	case !slugPattern.MatchString(in.Slug) || strings.Contains(in.Slug, "--"):
		errs.Add("slug", "must be 3 to 63 lower-case letters, digits or single dashes, starting and ending with a letter or digit")
	case slices.Contains(reserved, in.Slug):
		errs.Add("slug", "is reserved")
	}
	errs.Check(utf8.RuneCountInString(in.Owner.Name) <= 200, "owner.name", "must be at most 200 characters")
	identity.ValidateCredentials(&errs, "owner.", in.Owner.Email, in.Owner.Password)
	for _, f := range []struct{ field, v string }{{"name", in.Name}, {"owner.name", in.Owner.Name}, {"owner.password", in.Owner.Password}} {
		errs.Check(!strings.ContainsRune(f.v, 0), f.field, "must not contain NUL characters")
	}
	errs.CheckDisplayText("name", in.Name)
	errs.CheckDisplayText("owner.name", in.Owner.Name)
	return errs.Err()
}

// Service signs organizations up.
type Service struct {
	dir     *db.Directory
	tenants *db.Tenants
	ids     *identity.Service
	log     *slog.Logger
}

// New returns the tenancy service.
func New(dir *db.Directory, tenants *db.Tenants, ids *identity.Service, log *slog.Logger) *Service {
	return &Service{dir: dir, tenants: tenants, ids: ids, log: obs.OrDiscard(log)}
}

// SignUp creates the organization, its owner's identity (or reuses it, when the email already has one and the
// password matches) and the owner's membership, and opens the owner's first session. An owner whose email is
// not verified is sent a verification link (identity.RequestVerification) in the same transaction. It is not
// throttled; sign-ups from the network go through SignUpFrom.
//
// The directory and the tenant store may be different databases, so this is two transactions: the directory's
// first (it decides whether the slug is free), then the tenant's activity row and tenant.created event. A
// failure of the second is logged and does not undo the sign-up.
func (s *Service) SignUp(ctx context.Context, in SignUpInput, now time.Time) (Tenant, identity.Session, error) {
	return s.signUp(ctx, "", false, in, now)
}

// SignUpFrom is SignUp for a request from client (its IP address, or "" when unknown), under the identity
// service's limits (identity.CheckSignUp): a taken slug is ErrSlugTaken before any password work; an existing
// email whose password does not match is identity.ErrInvalidCredentials after the same password-hash work as a
// new email, and counts as a failed login of that email from client; past the limits it is a
// *identity.ThrottledError.
func (s *Service) SignUpFrom(ctx context.Context, client string, in SignUpInput, now time.Time) (Tenant, identity.Session, error) {
	return s.signUp(ctx, client, true, in, now)
}

func (s *Service) signUp(ctx context.Context, client string, throttled bool, in SignUpInput, now time.Time) (Tenant, identity.Session, error) {
	if err := in.Validate(); err != nil {
		return Tenant{}, identity.Session{}, err
	}
	// The password work happens here, outside the transaction below, so that no row lock is held across it.
	owner, err := s.ids.CheckSignUp(ctx, identity.SignUpCheck{
		Email: in.Owner.Email, Password: in.Owner.Password, Client: client, Throttled: throttled,
		Before: func(ctx context.Context, tx pgx.Tx) error {
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory.tenants WHERE slug = $1)`, in.Slug).Scan(&taken); err != nil {
				return err
			}
			if taken {
				return ErrSlugTaken
			}
			return nil
		},
	}, now)
	if err != nil {
		return Tenant{}, identity.Session{}, fmt.Errorf("sign up %s: %w", in.Slug, err)
	}
	tenantID, err := uuid.NewV7()
	if err != nil {
		return Tenant{}, identity.Session{}, fmt.Errorf("sign up: %w", err)
	}
	var (
		t    Tenant
		sess identity.Session
	)
	err = s.dir.Platform(ctx, db.EntrySignUp, func(tx pgx.Tx) error {
		ownerID, err := s.owner(ctx, tx, owner, in.Owner.Name)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, $3)
			RETURNING id, slug, name, status, plan, created_at`, tenantID, in.Slug, in.Name).
			Scan(&t.ID, &t.Slug, &t.Name, &t.Status, &t.Plan, &t.CreatedAt)
		if errors.Is(db.Classify(err), db.ErrConflict) {
			return ErrSlugTaken
		}
		if err != nil {
			return err
		}
		if _, err := membership.Add(ctx, tx, tenantID, ownerID, access.Owner, time.Time{}); err != nil {
			return err
		}
		if err := s.ids.SignedUp(ctx, tx, owner, now); err != nil {
			return err
		}
		// The owner's email is unproven until the link this sends is followed (an owner who signed up before
		// and already proved it gets none).
		if err := identity.RequestVerification(ctx, tx, ownerID, now); err != nil && !errors.Is(err, identity.ErrAlreadyVerified) {
			return err
		}
		sess.Principal = token.Principal{IdentityID: ownerID, TenantID: tenantID, Role: access.Owner, AMR: identity.AMRPassword}
		sess.TenantSlug = t.Slug
		return s.ids.StartSession(ctx, tx, &sess, now)
	})
	if err != nil {
		return Tenant{}, identity.Session{}, fmt.Errorf("sign up %s: %w", in.Slug, err)
	}
	err = s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: sess.Principal.IdentityID, EntityType: "tenant", EntityID: tenantID, Action: activity.Created,
			Changes: map[string]activity.Change{"name": {New: t.Name}, "slug": {New: t.Slug}},
		}, activity.Event{Type: pubsub.TypeTenantCreated, Payload: pubsub.TenantCreated{
			TenantID: tenantID, Slug: t.Slug, Name: t.Name, OwnerID: sess.Principal.IdentityID,
		}})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "sign-up committed but its tenant.created event was not recorded",
			"tenant_id", tenantID.String(), "error", err.Error())
	}
	return t, sess, nil
}

// owner returns the id of the sign-up's owner inside tx: the existing identity CheckSignUp matched, provided its
// password is still the one checked, or a new identity with o's hash. A password changed in between, or an
// identity created with the email by a concurrent sign-up since the check, is ErrInvalidCredentials: the check
// is not repeated, so no path does more password work than another.
func (s *Service) owner(ctx context.Context, tx pgx.Tx, o identity.SignUpOwner, name string) (uuid.UUID, error) {
	if o.IdentityID != uuid.Nil {
		// KEY SHARE, as the membership's foreign key takes anyway: the identity cannot go away under the sign-up.
		err := tx.QueryRow(ctx, `SELECT id FROM directory.identities WHERE id = $1 AND password_hash = $2 FOR KEY SHARE`,
			o.IdentityID, o.Hash).Scan(new(uuid.UUID))
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, identity.ErrInvalidCredentials
		}
		if err != nil {
			return uuid.Nil, err
		}
		return o.IdentityID, nil
	}
	f, err := identity.FindOrCreate(ctx, tx, identity.NewIdentity{Email: o.Email, Name: name, PasswordHash: o.Hash})
	if err != nil {
		return uuid.Nil, err
	}
	if !f.Created {
		return uuid.Nil, identity.ErrInvalidCredentials
	}
	return f.ID, nil
}
