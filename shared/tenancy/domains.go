package tenancy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/activity"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/obs"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Errors of custom domains.
var (
	// ErrDomainTaken means another organization has verified the domain, so no other claim on it may be made
	// or verified; which organization is not told.
	ErrDomainTaken = fault.New(fault.Conflict, "domain_taken", "another organization has verified this domain; if yours controls it, contact support")
	// ErrDomainClaimed means the organization itself claims the domain already (pending or verified).
	ErrDomainClaimed = fault.New(fault.Conflict, "domain_claimed", "your organization claims this domain already")
	// ErrClaimExpired means a pending claim outlived its time to verify; a new claim starts again.
	ErrClaimExpired = fault.New(fault.Conflict, "claim_expired", "this claim expired before it was verified; remove it and claim the domain again for a new token")
	// ErrDomainsUnavailable means the deployment's domain configuration is invalid (logged at start).
	ErrDomainsUnavailable = fault.New(fault.Unavailable, "domains_unavailable", "custom domains are misconfigured on this deployment")
	// ErrTooManyDomains means the organization has MaxDomains domains already.
	ErrTooManyDomains = fault.New(fault.Conflict, "too_many_domains", fmt.Sprintf("an organization may have at most %d domains; remove one first", MaxDomains))
)

// MaxDomains bounds an organization's custom domains.
const MaxDomains = 20

// ChallengePrefix is the label under which an organization publishes a domain's verification token as a TXT
// record: _hyperscale-challenge.<domain>.
const ChallengePrefix = "_hyperscale-challenge."

// DefaultLookupTimeout bounds one DNS lookup of a verification.
const DefaultLookupTimeout = 5 * time.Second

// DefaultClaimTTL is how long a pending claim may be verified, unless DomainConfig says otherwise.
const DefaultClaimTTL = 7 * 24 * time.Hour

// Claim states, as Domain.Status shows them.
const (
	// ClaimPending is a claim that may still be verified.
	ClaimPending = "pending"
	// ClaimVerified is a claim whose DNS record was found: the organization's domain, for good.
	ClaimVerified = "verified"
	// ClaimExpired is a pending claim past its expiry: it can no longer be verified and lists no more.
	ClaimExpired = "expired"
)

// DomainConfig is the custom-domain part of a function's configuration.
type DomainConfig struct {
	// ClaimTTL is how long after a claim its DNS record may be verified. A pending claim past it is dead: it
	// cannot be verified, lists no more and counts toward no limit.
	ClaimTTL time.Duration `env:"DOMAIN_CLAIM_TTL, default=168h"`
}

// MaxClaimTTL bounds DomainConfig.ClaimTTL: a claim that waits longer than this holds a name nobody proved.
const MaxClaimTTL = 90 * 24 * time.Hour

// Validate reports a claim lifetime outside (0, MaxClaimTTL].
func (c DomainConfig) Validate() error {
	if c.ClaimTTL <= 0 || c.ClaimTTL > MaxClaimTTL {
		return fmt.Errorf("DOMAIN_CLAIM_TTL %s is outside (0s, %s]", c.ClaimTTL, MaxClaimTTL)
	}
	return nil
}

// PlatformDomains are the platform's own names: no organization may claim them or a name under them.
var PlatformDomains = []string{"hyperscale.app", "localhost"}

// Domain is an organization's custom domain as the API shows it.
type Domain struct {
	ID         uuid.UUID  `json:"id"`
	Domain     string     `json:"domain"`
	Verified   bool       `json:"verified"`
	VerifiedAt *time.Time `json:"verified_at"`
	// Status is ClaimPending, ClaimVerified or ClaimExpired.
	Status string `json:"status"`
	// ExpiresAt is when a pending claim lapses; nil once verified, since a verified domain does not expire.
	ExpiresAt    *time.Time   `json:"expires_at"`
	Verification Verification `json:"verification"`
	CreatedAt    time.Time    `json:"created_at"`
}

// Verification is the DNS record that proves an organization controls a domain.
type Verification struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

// VerificationError means the domain's verification record was not found in DNS.
type VerificationError struct {
	// Expected is the record that was looked for.
	Expected Verification
	// Reason says what was found instead, for people.
	Reason string
}

// Error names the record expected.
func (e *VerificationError) Error() string {
	return fmt.Sprintf("expected a %s record at %s with the value %s: %s", e.Expected.Type, e.Expected.Name, e.Expected.Value, e.Reason)
}

// Unwrap gives the refusal its kind and code, with the record expected as its detail.
func (e *VerificationError) Unwrap() error {
	return fault.New(fault.Conflict, "verification_failed", e.Error())
}

// DomainInput is the body of POST /v1/tenants/me/domains.
type DomainInput struct {
	Domain string `json:"domain"`
}

var (
	labelPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// A top-level domain starts with a letter, which also keeps dotted numbers (IPv4 addresses) out.
	tldPattern = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// normalizeDomain lower-cases and trims name and drops a trailing root dot; msg says why the result is not a
// domain an organization may claim, or is "".
func normalizeDomain(name string, reserved []string) (domain, msg string) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	for _, r := range d {
		if r > 0x7e || r < 0x21 {
			return d, "must be an ASCII domain name (write an internationalised name in its xn-- form)"
		}
	}
	switch {
	case d == "":
		return d, "is required"
	case len(d) > 253:
		return d, "must be at most 253 characters"
	case net.ParseIP(strings.Trim(d, "[]")) != nil:
		return d, "must be a domain name, not an IP address"
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return d, "must have at least two labels, like example.com"
	}
	for _, l := range labels {
		if !labelPattern.MatchString(l) {
			return d, "must be a domain name: labels of 1 to 63 letters, digits or inner dashes, separated by dots"
		}
	}
	if !tldPattern.MatchString(labels[len(labels)-1]) {
		return d, "must end in a top-level domain that starts with a letter"
	}
	for _, r := range reserved {
		if d == r || strings.HasSuffix(d, "."+r) {
			return d, "is a domain of the platform itself"
		}
	}
	return d, ownershipProblem(d)
}

// TXTResolver looks up DNS TXT records; *net.Resolver is one.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Domains is the store of organizations' custom domains. A verified domain is unique across organizations, so
// claims live in the directory; their activity and events go to the owning organization's tenant store.
type Domains struct {
	dir      *db.Directory
	tenants  *db.Tenants
	resolver TXTResolver
	timeout  time.Duration
	claimTTL time.Duration
	reserved []string
	log      *slog.Logger
}

// NewDomains returns the store. resolver answers verification lookups (nil: the system's resolver), each
// bounded by DefaultLookupTimeout. reserved adds names to PlatformDomains that no organization may claim,
// such as the deployment's own host names.
func NewDomains(dir *db.Directory, tenants *db.Tenants, resolver TXTResolver, log *slog.Logger, reserved ...string) *Domains {
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	all := append([]string{}, PlatformDomains...)
	for _, r := range reserved {
		if r = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r)), "."); r != "" {
			all = append(all, r)
		}
	}
	return &Domains{dir: dir, tenants: tenants, resolver: resolver, timeout: DefaultLookupTimeout, claimTTL: DefaultClaimTTL,
		reserved: all, log: obs.OrDiscard(log)}
}

// WithConfig returns a copy of s whose new claims live as long as cfg says; cfg is validated already.
func (s *Domains) WithConfig(cfg DomainConfig) *Domains {
	c := *s
	c.claimTTL = cfg.ClaimTTL
	return &c
}

// domainColumns read a claim with its state, computed against the transaction's clock, the same clock that
// decides whether a claim may still be verified.
const domainColumns = `id, domain, verification_token, created_at, verified_at, expires_at,
	CASE WHEN verified_at IS NOT NULL THEN 'verified' WHEN expires_at <= now() THEN 'expired' ELSE 'pending' END`

// liveClaim is the condition of a claim that counts: verified, or pending and not expired.
const liveClaim = `(verified_at IS NOT NULL OR expires_at > now())`

func scanDomain(row pgx.Row) (Domain, error) {
	var (
		d       Domain
		expires time.Time
	)
	err := row.Scan(&d.ID, &d.Domain, &d.Verification.Value, &d.CreatedAt, &d.VerifiedAt, &expires, &d.Status)
	d.Verified = d.VerifiedAt != nil
	if !d.Verified {
		d.ExpiresAt = &expires
	}
	d.Verification.Type = "TXT"
	d.Verification.Name = ChallengePrefix + d.Domain
	return d, err
}

// Add claims a domain for tenantID on behalf of actorID, with a fresh verification token, pending until
// verified or until the claim lifetime passes. Other organizations' pending claims on the name do not stand in
// the way; one that verified it does: ErrDomainTaken. A name the organization claims already is
// ErrDomainClaimed, unless that claim expired, in which case the new claim replaces it. An organization with
// MaxDomains live claims gets ErrTooManyDomains. A public suffix, or a public email provider's domain or a
// name under it, is refused as invalid input.
func (s *Domains) Add(ctx context.Context, tenantID, actorID uuid.UUID, in DomainInput) (Domain, error) {
	name, msg := normalizeDomain(in.Domain, s.reserved)
	if msg != "" {
		return Domain{}, valid.Errors{{Field: "domain", Message: msg}}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Domain{}, fmt.Errorf("add domain: %w", err)
	}
	var d Domain
	// The claim is the organization's own business but for one question, whether another organization has
	// verified the name, which makes this a platform entry: the answer is a yes or no, never whose it is.
	err = s.dir.Platform(ctx, db.EntryDomainClaim, func(tx pgx.Tx) error {
		// The organization's row is the lock that makes count-then-insert hold against concurrent additions;
		// NO KEY UPDATE does not wait for inserts that merely reference the organization. The count is its own
		// statement: under READ COMMITTED only a statement begun after the lock was granted sees the domains
		// the previous holder added.
		var n int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM directory.tenants WHERE id = $1 FOR NO KEY UPDATE`, tenantID).Scan(&n); err != nil {
			return err
		}
		// The organization's own expired claim on the name is dead; the new claim takes its place.
		if _, err := tx.Exec(ctx, `DELETE FROM directory.domains WHERE tenant_id = $1 AND domain = $2
			AND verified_at IS NULL AND expires_at <= now()`, tenantID, name); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM directory.domains WHERE tenant_id = $1 AND `+liveClaim, tenantID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxDomains {
			return ErrTooManyDomains
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM directory.domains WHERE domain = $1 AND tenant_id <> $2
			AND verified_at IS NOT NULL)`, name, tenantID).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ErrDomainTaken
		}
		// A verification racing this claim may still win; the claim then stays pending and can never verify.
		d, err = scanDomain(tx.QueryRow(ctx, `INSERT INTO directory.domains (id, tenant_id, domain, verification_token, expires_at)
			VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING `+domainColumns,
			id, tenantID, name, rand.Text(), s.claimTTL.Seconds()))
		if errors.Is(db.Classify(err), db.ErrConflict) {
			return ErrDomainClaimed
		}
		return err
	})
	if err != nil {
		return Domain{}, fmt.Errorf("add domain %s: %w", name, err)
	}
	// The directory decided; the organization's trail and event follow in its tenant store.
	recordInTenant(ctx, s.tenants, s.log, tenantID, pubsub.TypeDomainAdded, func(ctx context.Context, tx pgx.Tx) error {
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "domain", EntityID: d.ID, Action: activity.Created,
			Changes: map[string]activity.Change{"domain": {New: d.Domain}},
		}, activity.Event{Type: pubsub.TypeDomainAdded, Payload: pubsub.DomainAdded{DomainID: d.ID, Domain: d.Domain, ActorID: actorID}})
	})
	return d, nil
}

// List returns tenantID's live claims, verified and pending, oldest first (at most MaxDomains, so there is no
// paging). Expired claims are left out; Get still finds one by its id.
func (s *Domains) List(ctx context.Context, tenantID uuid.UUID) ([]Domain, error) {
	items := []Domain{}
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+domainColumns+` FROM directory.domains WHERE tenant_id = $1 AND `+liveClaim+`
			ORDER BY id`, tenantID)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Domain, error) { return scanDomain(r) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return items, nil
}

// Get returns domain id of tenantID; one of another organization is db.ErrNotFound.
func (s *Domains) Get(ctx context.Context, tenantID, id uuid.UUID) (Domain, error) {
	var d Domain
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) (err error) {
		d, err = scanDomain(tx.QueryRow(ctx, `SELECT `+domainColumns+` FROM directory.domains WHERE tenant_id = $1 AND id = $2`, tenantID, id))
		return err
	})
	if err != nil {
		return Domain{}, fmt.Errorf("load domain %s: %w", id, err)
	}
	return d, nil
}

// Remove deletes domain id of tenantID on behalf of actorID, freeing the name for any organization.
func (s *Domains) Remove(ctx context.Context, tenantID, actorID, id uuid.UUID) error {
	var name string
	err := s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `DELETE FROM directory.domains WHERE tenant_id = $1 AND id = $2 RETURNING domain`, tenantID, id).Scan(&name)
	})
	if err != nil {
		return fmt.Errorf("remove domain %s: %w", id, err)
	}
	recordInTenant(ctx, s.tenants, s.log, tenantID, pubsub.TypeDomainRemoved, func(ctx context.Context, tx pgx.Tx) error {
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "domain", EntityID: id, Action: activity.Deleted,
			Changes: map[string]activity.Change{"domain": {Old: name}},
		}, activity.Event{Type: pubsub.TypeDomainRemoved, Payload: pubsub.DomainRemoved{DomainID: id, Domain: name, ActorID: actorID}})
	})
	return nil
}

// Verify looks the domain's verification record up in DNS and marks the domain verified when one of the TXT
// values at its challenge name equals its token; otherwise it returns a *VerificationError. A domain verified
// already is returned as it is, without a lookup. An expired claim is ErrClaimExpired, without a lookup; a claim
// whose record is found on a name another organization verified first is ErrDomainTaken.
func (s *Domains) Verify(ctx context.Context, tenantID, actorID, id uuid.UUID) (Domain, error) {
	d, err := s.Get(ctx, tenantID, id)
	if err != nil {
		return Domain{}, fmt.Errorf("verify domain: %w", err)
	}
	if d.Verified {
		return d, nil
	}
	if d.Status == ClaimExpired {
		return Domain{}, fmt.Errorf("verify domain %s: %w", d.Domain, ErrClaimExpired)
	}
	// The lookup runs outside any transaction: no row is locked while DNS answers.
	if err := s.lookup(ctx, d.Verification); err != nil {
		return Domain{}, fmt.Errorf("verify domain %s: %w", d.Domain, err)
	}
	var changed bool
	err = s.dir.ForTenant(ctx, tenantID, func(tx pgx.Tx) error {
		// The partial unique index on verified names decides between organizations: the first to commit its
		// verification wins and every later one breaks the index, without reading any other claim.
		v, err := scanDomain(tx.QueryRow(ctx, `UPDATE directory.domains SET verified_at = now()
			WHERE tenant_id = $1 AND id = $2 AND verified_at IS NULL AND expires_at > now() RETURNING `+domainColumns, tenantID, id))
		switch {
		case err == nil:
			d, changed = v, true
			return nil
		case errors.Is(db.Classify(err), db.ErrConflict):
			return ErrDomainTaken
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		// A concurrent verification of the organization's own won, the claim expired during the lookup, or it
		// was removed meanwhile.
		d, err = scanDomain(tx.QueryRow(ctx, `SELECT `+domainColumns+` FROM directory.domains WHERE tenant_id = $1 AND id = $2`, tenantID, id))
		if err == nil && d.Status == ClaimExpired {
			return ErrClaimExpired
		}
		return err
	})
	if err != nil {
		return Domain{}, fmt.Errorf("verify domain %s: %w", id, err)
	}
	if !changed {
		return d, nil
	}
	recordInTenant(ctx, s.tenants, s.log, tenantID, pubsub.TypeDomainVerified, func(ctx context.Context, tx pgx.Tx) error {
		return activity.Record(ctx, tx, activity.Entry{
			TenantID: tenantID, ActorID: actorID, EntityType: "domain", EntityID: id, Action: activity.Updated,
			Changes: map[string]activity.Change{"verified_at": {Old: nil, New: d.VerifiedAt}},
		}, activity.Event{Type: pubsub.TypeDomainVerified, Payload: pubsub.DomainVerified{
			DomainID: id, Domain: d.Domain, VerifiedAt: *d.VerifiedAt, ActorID: actorID,
		}})
	})
	return d, nil
}

// lookup returns nil when a TXT record at want.Name holds want.Value, and a *VerificationError otherwise. A
// failed lookup is the same answer: the record could not be seen, and trying again later may help.
func (s *Domains) lookup(ctx context.Context, want Verification) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	records, err := s.resolver.LookupTXT(ctx, want.Name)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &VerificationError{Expected: want, Reason: "DNS has no TXT record at that name"}
	case err != nil:
		s.log.InfoContext(ctx, "domain verification lookup failed", "name", want.Name, "error", err.Error())
		return &VerificationError{Expected: want, Reason: "the DNS lookup failed; try again once the record is published"}
	}
	for _, r := range records {
		if strings.Trim(strings.TrimSpace(r), `"`) == want.Value {
			return nil
		}
	}
	return &VerificationError{Expected: want, Reason: fmt.Sprintf("DNS has %d TXT record(s) at that name, none with this value", len(records))}
}
