package tenancy_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/google/uuid"
)

// fakeDNS answers TXT lookups from a map; a name it lacks is NXDOMAIN, as net.Resolver reports it.
type fakeDNS struct {
	mu      sync.Mutex
	records map[string][]string
	err     error
	lookups []string
	// during runs inside a lookup, as whatever may happen while DNS answers.
	during func()
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, name)
	if f.during != nil {
		f.during()
	}
	if f.err != nil {
		return nil, f.err
	}
	if r, ok := f.records[name]; ok {
		return r, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeDNS) set(name string, values ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.records == nil {
		f.records = map[string][]string{}
	}
	f.records[name] = values
}

func TestDomainValidation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, &fakeDNS{}, errorLog(t), "API.Example.org.")
	org := newOrg(t, d, "acme")
	tests := []struct {
		in, want string // want "": refused
	}{
		{"acme.com", "acme.com"},
		{"  WWW.Acme.COM. ", "www.acme.com"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"a-b.c-d.co.uk", "a-b.c-d.co.uk"},
		{"hyperscale.app.acme.com", "hyperscale.app.acme.com"},
		{"notlocalhost.com", "notlocalhost.com"},
		{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com"},
		// Names that merely resemble a provider's, or lie under a private public suffix, are anyone's.
		{"gmail.acme.com", "gmail.acme.com"},
		{"notgmail.com", "notgmail.com"},
		{"gmx-group.com", "gmx-group.com"},
		{"yahoo.acme.com", "yahoo.acme.com"},
		{"acme.github.io", "acme.github.io"},

		{"", ""},
		{"   ", ""},
		{"localhost", ""},
		{"acme", ""},
		{"app.localhost", ""},
		{"hyperscale.app", ""},
		{"Tenant.Hyperscale.App", ""},
		{"api.example.org", ""},
		{"eu.api.example.org", ""},
		{"192.168.1.10", ""},
		{"10.0.0.256", ""},
		{"::1", ""},
		{"[2001:db8::1]", ""},
		{"acme.com/path", ""},
		{"https://acme.com", ""},
		{"acme.com:443", ""},
		{"*.acme.com", ""},
		{"_dmarc.acme.com", ""},
		{"-acme.com", ""},
		{"acme-.com", ""},
		{"acme..com", ""},
		{".acme.com", ""},
		{"acme.com..", ""},
		{"ac me.com", ""},
		{"acme.com\x00", ""},
		{"bücher.example", ""},
		{strings.Repeat("a", 64) + ".com", ""},
		{strings.Repeat("abcdefghi.", 26) + "com", ""},
		// Public suffixes belong to no one.
		{"co.uk", ""},
		{"com.au", ""},
		{"github.io", ""},
		// Public email providers, their subdomains and, for brands listed as brand.*, any of their suffixes.
		{"gmail.com", ""},
		{"GMail.com.", ""},
		{"mail.gmail.com", ""},
		{"googlemail.com", ""},
		{"outlook.com", ""},
		{"outlook.fr", ""},
		{"hotmail.co.uk", ""},
		{"live.com", ""},
		{"yahoo.com", ""},
		{"yahoo.co.jp", ""},
		{"icloud.com", ""},
		{"me.com", ""},
		{"aol.com", ""},
		{"proton.me", ""},
		{"protonmail.com", ""},
		{"gmx.de", ""},
		{"gmx.net", ""},
		{"mx.gmx.co.uk", ""},
		{"mail.ru", ""},
		{"yandex.ru", ""},
		{"yandex.com.tr", ""},
		{"qq.com", ""},
		{"163.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := s.Add(context.Background(), org, uuid.New(), tenancy.DomainInput{Domain: tc.in})
			if tc.want == "" {
				if f := fields(t, err); strings.Join(f, ",") != "domain" {
					t.Fatalf("failing fields %v, want domain", f)
				}
				return
			}
			if err != nil || got.Domain != tc.want {
				t.Fatalf("Add(%q) = %q, %v; want %q", tc.in, got.Domain, err, tc.want)
			}
		})
	}
}

func TestDomainLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	dns := &fakeDNS{}
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, dns, errorLog(t))
	org, actor := newOrg(t, d, "acme"), uuid.New()

	if l, err := s.List(ctx, org); err != nil || l == nil || len(l) != 0 {
		t.Fatalf("first List = %#v, %v; want an empty, non-nil list", l, err)
	}
	dom, err := s.Add(ctx, org, actor, tenancy.DomainInput{Domain: "Login.Acme.COM"})
	if err != nil {
		t.Fatal(err)
	}
	v := dom.Verification
	if dom.Domain != "login.acme.com" || dom.Verified || dom.VerifiedAt != nil || dom.ID.Version() != 7 || dom.CreatedAt.IsZero() ||
		v.Type != "TXT" || v.Name != "_hyperscale-challenge.login.acme.com" || len(v.Value) < 20 {
		t.Fatalf("added %+v", dom)
	}
	other, err := s.Add(ctx, org, actor, tenancy.DomainInput{Domain: "acme.org"})
	if err != nil || other.Verification.Value == v.Value {
		t.Fatalf("second domain %+v, %v; want its own token", other, err)
	}
	if dom.Status != tenancy.ClaimPending || dom.ExpiresAt == nil || dom.ExpiresAt.Sub(dom.CreatedAt) != tenancy.DefaultClaimTTL {
		t.Fatalf("added %+v; want a pending claim expiring after %s", dom, tenancy.DefaultClaimTTL)
	}
	if l, err := s.List(ctx, org); err != nil || len(l) != 2 || l[0].ID != dom.ID || l[0].Verification != v || l[1].ID != other.ID {
		t.Fatalf("List = %+v, %v; want both, oldest first", l, err)
	}

	// Verification fails while DNS lacks the record, holds another value, or does not answer.
	verifyFails := func(why string) {
		t.Helper()
		_, err := s.Verify(ctx, org, actor, dom.ID)
		var verr *tenancy.VerificationError
		if !errors.As(err, &verr) || verr.Expected != v || !strings.Contains(err.Error(), v.Name) || !strings.Contains(err.Error(), v.Value) {
			t.Fatalf("Verify with %s: %v; want a VerificationError naming %+v", why, err, v)
		}
	}
	verifyFails("no record")
	dns.set(v.Name, "some-other-token", "v=spf1 -all")
	verifyFails("other values")
	dns.set(v.Name+".", v.Value)
	verifyFails("the record at another name")
	dns.err = &net.DNSError{Err: "i/o timeout", Name: v.Name, IsTimeout: true}
	verifyFails("a DNS timeout")
	dns.err = nil
	if got, _ := s.Get(ctx, org, dom.ID); got.Verified {
		t.Fatal("a failed verification marked the domain verified")
	}

	dns.set(v.Name, "unrelated", ` "`+v.Value+`" `)
	verified, err := s.Verify(ctx, org, actor, dom.ID)
	if err != nil || !verified.Verified || verified.VerifiedAt == nil || verified.ID != dom.ID || verified.Verification != v ||
		verified.Status != tenancy.ClaimVerified || verified.ExpiresAt != nil {
		t.Fatalf("Verify = %+v, %v", verified, err)
	}
	// Verifying again answers the domain without asking DNS or recording anything.
	lookups := len(dns.lookups)
	dns.err = errors.New("DNS must not be asked")
	if again, err := s.Verify(ctx, org, actor, dom.ID); err != nil || !again.VerifiedAt.Equal(*verified.VerifiedAt) {
		t.Fatalf("second Verify = %+v, %v", again, err)
	}
	if len(dns.lookups) != lookups {
		t.Fatal("a verified domain was looked up again")
	}

	if err := s.Remove(ctx, org, actor, dom.ID); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Remove": func() error { return s.Remove(ctx, org, actor, dom.ID) },
		"Verify": func() error { _, err := s.Verify(ctx, org, actor, dom.ID); return err },
		"Get":    func() error { _, err := s.Get(ctx, org, dom.ID); return err },
	} {
		if err := call(); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("%s after removal: %v, want not found", name, err)
		}
	}
	if l, err := s.List(ctx, org); err != nil || len(l) != 1 || l[0].ID != other.ID {
		t.Fatalf("List after removal = %+v, %v", l, err)
	}
	// A removed domain is free to claim again, with a new token.
	again, err := s.Add(ctx, org, actor, tenancy.DomainInput{Domain: "login.acme.com"})
	if err != nil || again.Verification.Value == v.Value || again.Verified {
		t.Fatalf("re-adding a removed domain: %+v, %v", again, err)
	}

	var trail string
	if err := d.Owner.QueryRow(ctx, `SELECT string_agg(action || ':' || (changes->>'domain' IS NOT NULL)::text, ',' ORDER BY id) FROM tenant.activity
		WHERE tenant_id = $1 AND entity_type = 'domain' AND entity_id = $2 AND actor_id = $3`, org, dom.ID, actor).Scan(&trail); err != nil {
		t.Fatal(err)
	}
	if trail != "created:true,updated:false,deleted:true" {
		t.Fatalf("activity of the domain %s", trail)
	}
	var evs string
	if err := d.Owner.QueryRow(ctx, `SELECT string_agg(type, ',' ORDER BY id) FROM tenant.outbox
		WHERE tenant_id = $1 AND data->>'domain_id' = $2::text AND data->>'domain' = 'login.acme.com' AND data->>'actor_id' = $3::text`,
		org, dom.ID, actor).Scan(&evs); err != nil {
		t.Fatal(err)
	}
	if evs != "tenant.domain_added,tenant.domain_verified,tenant.domain_removed" {
		t.Fatalf("events of the domain %s", evs)
	}
}

// Pending claims do not block one another; the first verification takes the name, for good.
func TestDomainClaimsFirstVerificationWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	dns := &fakeDNS{}
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, dns, errorLog(t))
	a, b, c := newOrg(t, d, "alpha"), newOrg(t, d, "bravo"), newOrg(t, d, "charlie")
	claimA, err := s.Add(ctx, a, uuid.New(), tenancy.DomainInput{Domain: "shared.example"})
	if err != nil {
		t.Fatal(err)
	}
	claimB, err := s.Add(ctx, b, uuid.New(), tenancy.DomainInput{Domain: "SHARED.example."})
	if err != nil || claimB.Domain != "shared.example" || claimB.Verification.Value == claimA.Verification.Value {
		t.Fatalf("B's claim beside A's pending one: %+v, %v; want its own pending claim", claimB, err)
	}
	if _, err := s.Add(ctx, a, uuid.New(), tenancy.DomainInput{Domain: "shared.example"}); !errors.Is(err, tenancy.ErrDomainClaimed) {
		t.Fatalf("A claiming its own name again: %v, want ErrDomainClaimed", err)
	}
	// Each organization lists only its own claim, with its own token.
	for o, want := range map[uuid.UUID]tenancy.Domain{a: claimA, b: claimB} {
		if l, err := s.List(ctx, o); err != nil || len(l) != 1 || l[0].ID != want.ID || l[0].Verification != want.Verification {
			t.Fatalf("%s lists %+v, %v; want only %+v", o, l, err, want)
		}
	}

	// Both publish their token; A verifies first.
	dns.set(claimA.Verification.Name, claimA.Verification.Value, claimB.Verification.Value)
	if v, err := s.Verify(ctx, a, uuid.New(), claimA.ID); err != nil || !v.Verified {
		t.Fatalf("A's verification: %+v, %v", v, err)
	}
	if _, err := s.Verify(ctx, b, uuid.New(), claimB.ID); !errors.Is(err, tenancy.ErrDomainTaken) || strings.Contains(err.Error(), a.String()) {
		t.Fatalf("B's verification after A's: %v, want ErrDomainTaken naming no one", err)
	}
	if got, err := s.Get(ctx, b, claimB.ID); err != nil || got.Verified || got.Status != tenancy.ClaimPending {
		t.Fatalf("B's claim after its refused verification: %+v, %v; want it pending", got, err)
	}
	if _, err := s.Add(ctx, c, uuid.New(), tenancy.DomainInput{Domain: "shared.example"}); !errors.Is(err, tenancy.ErrDomainTaken) {
		t.Fatalf("C's claim on the verified name: %v, want ErrDomainTaken", err)
	}
	if _, err := s.Add(ctx, c, uuid.New(), tenancy.DomainInput{Domain: "eu.shared.example"}); err != nil {
		t.Fatalf("C's claim on a name under the verified one: %v; DNS proof is per name", err)
	}
	if l, err := s.List(ctx, c); err != nil || len(l) != 1 || l[0].Domain != "eu.shared.example" {
		t.Fatalf("C lists %+v (%v) after its refused claim", l, err)
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type <> 'tenant.domain_added'`, b); n != 0 {
		t.Fatalf("B's refused verification emitted %d events", n)
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM directory.domains WHERE domain = 'shared.example' AND verified_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d verified claims on the name, want 1", n)
	}

	// Once A lets the name go, B's pending claim may verify after all.
	if err := s.Remove(ctx, a, uuid.New(), claimA.ID); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Verify(ctx, b, uuid.New(), claimB.ID); err != nil || !v.Verified {
		t.Fatalf("B's verification once A removed its domain: %+v, %v", v, err)
	}

	if _, err := s.Add(ctx, uuid.New(), uuid.New(), tenancy.DomainInput{Domain: "ghost.example"}); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("claim for an organization that does not exist: %v, want not found", err)
	}
}

// Verifications racing on one name: exactly one organization gets it.
func TestDomainConcurrentVerifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	dns := &fakeDNS{}
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, dns, errorLog(t))
	const n = 6
	orgs, claims := make([]uuid.UUID, n), make([]tenancy.Domain, n)
	var tokens []string
	for i := range n {
		orgs[i] = newOrg(t, d, fmt.Sprintf("racer-%d", i))
		c, err := s.Add(ctx, orgs[i], uuid.New(), tenancy.DomainInput{Domain: "race.example"})
		if err != nil {
			t.Fatal(err)
		}
		claims[i] = c
		tokens = append(tokens, c.Verification.Value)
	}
	dns.set(claims[0].Verification.Name, tokens...)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.Verify(ctx, orgs[i], uuid.New(), claims[i].ID) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, tenancy.ErrDomainTaken):
			t.Errorf("verification %d: %v, want nil or ErrDomainTaken", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d verifications succeeded, want exactly 1", won)
	}
}

// A pending claim lapses: it cannot be verified, lists no more, counts toward no limit, and the organization
// may claim the name afresh. A verified claim never lapses.
func TestDomainClaimExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	dns := &fakeDNS{}
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, dns, errorLog(t)).WithConfig(tenancy.DomainConfig{ClaimTTL: time.Hour})
	org, other := newOrg(t, d, "acme"), newOrg(t, d, "other")
	claim, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: "old.example"})
	if err != nil || claim.ExpiresAt == nil || claim.ExpiresAt.Sub(claim.CreatedAt) != time.Hour {
		t.Fatalf("claim %+v, %v; want one expiring after the configured hour", claim, err)
	}
	kept, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: "kept.example"})
	if err != nil {
		t.Fatal(err)
	}
	dns.set(kept.Verification.Name, kept.Verification.Value)
	if _, err := s.Verify(ctx, org, uuid.New(), kept.ID); err != nil {
		t.Fatal(err)
	}
	// Both claims' time runs out; only the pending one lapses.
	if _, err := d.Owner.Exec(ctx, `UPDATE directory.domains SET expires_at = now() - interval '1 second' WHERE tenant_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	dns.set(claim.Verification.Name, claim.Verification.Value) // the record is there: only the expiry refuses
	lookups := len(dns.lookups)
	if _, err := s.Verify(ctx, org, uuid.New(), claim.ID); !errors.Is(err, tenancy.ErrClaimExpired) {
		t.Fatalf("verifying an expired claim: %v, want ErrClaimExpired", err)
	}
	if len(dns.lookups) != lookups {
		t.Fatal("an expired claim was looked up in DNS")
	}
	if got, err := s.Get(ctx, org, claim.ID); err != nil || got.Verified || got.Status != tenancy.ClaimExpired {
		t.Fatalf("the expired claim reads %+v, %v", got, err)
	}
	if got, err := s.Get(ctx, org, kept.ID); err != nil || got.Status != tenancy.ClaimVerified {
		t.Fatalf("the verified domain reads %+v, %v; want it verified still", got, err)
	}
	if l, err := s.List(ctx, org); err != nil || len(l) != 1 || l[0].ID != kept.ID {
		t.Fatalf("List = %+v, %v; want only the verified domain", l, err)
	}
	// Another organization's claim on the lapsed name is untouched by it.
	if _, err := s.Add(ctx, other, uuid.New(), tenancy.DomainInput{Domain: "old.example"}); err != nil {
		t.Fatal(err)
	}
	// The organization claims the name again: a new claim, with a new token, replaces the dead one.
	again, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: "old.example"})
	if err != nil || again.ID == claim.ID || again.Verification.Value == claim.Verification.Value || again.Status != tenancy.ClaimPending {
		t.Fatalf("claiming the lapsed name again: %+v, %v", again, err)
	}
	if _, err := s.Get(ctx, org, claim.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("the replaced claim: %v, want not found", err)
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM directory.domains WHERE domain = 'old.example'`); n != 2 {
		t.Fatalf("%d claims on the name, want the two live ones", n)
	}
}

// A claim that lapses while DNS answers does not verify: the expiry is decided in the verifying statement.
func TestDomainClaimExpiresDuringLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	dns := &fakeDNS{}
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, dns, errorLog(t))
	org := newOrg(t, d, "acme")
	claim, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: "slow.example"})
	if err != nil {
		t.Fatal(err)
	}
	dns.set(claim.Verification.Name, claim.Verification.Value)
	dns.during = func() {
		if _, err := d.Owner.Exec(ctx, `UPDATE directory.domains SET expires_at = now() - interval '1 second' WHERE id = $1`, claim.ID); err != nil {
			t.Error(err)
		}
	}
	if _, err := s.Verify(ctx, org, uuid.New(), claim.ID); !errors.Is(err, tenancy.ErrClaimExpired) {
		t.Fatalf("a claim that lapsed during the lookup: %v, want ErrClaimExpired", err)
	}
	if got, err := s.Get(ctx, org, claim.ID); err != nil || got.Verified {
		t.Fatalf("the claim reads %+v, %v; want it unverified", got, err)
	}
}

// Lapsed claims count toward no limit.
func TestDomainLimitCountsLiveClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, &fakeDNS{}, errorLog(t))
	org := newOrg(t, d, "acme")
	for i := range tenancy.MaxDomains {
		if _, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: fmt.Sprintf("d%d.acme.example", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: "one-more.example"}); !errors.Is(err, tenancy.ErrTooManyDomains) {
		t.Fatalf("claim over the limit: %v, want ErrTooManyDomains", err)
	}
	if _, err := d.Owner.Exec(ctx, `UPDATE directory.domains SET expires_at = now() - interval '1 second'
		WHERE tenant_id = $1 AND domain = 'd0.acme.example'`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: "one-more.example"}); err != nil {
		t.Fatalf("claim once one lapsed: %v", err)
	}
}

func TestDomainConfigValidate(t *testing.T) {
	t.Parallel()
	for ttl, ok := range map[time.Duration]bool{
		time.Minute: true, tenancy.DefaultClaimTTL: true, tenancy.MaxClaimTTL: true,
		0: false, -time.Hour: false, tenancy.MaxClaimTTL + time.Second: false,
	} {
		err := tenancy.DomainConfig{ClaimTTL: ttl}.Validate()
		if (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "DOMAIN_CLAIM_TTL")) {
			t.Errorf("Validate(%s) = %v, want ok=%t", ttl, err, ok)
		}
	}
}

// At most MaxDomains domains per organization, even when the claims race each other.
func TestDomainLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := tenancy.NewDomains(d.DB.Directory, d.DB.Tenants, &fakeDNS{}, errorLog(t))
	org, other := newOrg(t, d, "acme"), newOrg(t, d, "other")
	const attempts = tenancy.MaxDomains + 5
	errs := make([]error, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			_, errs[i] = s.Add(ctx, org, uuid.New(), tenancy.DomainInput{Domain: fmt.Sprintf("d%d.acme.example", i)})
		})
	}
	wg.Wait()
	added := 0
	for i, err := range errs {
		switch {
		case err == nil:
			added++
		case !errors.Is(err, tenancy.ErrTooManyDomains):
			t.Errorf("claim %d: %v, want nil or ErrTooManyDomains", i, err)
		}
	}
	if added != tenancy.MaxDomains {
		t.Fatalf("%d claims succeeded, want %d", added, tenancy.MaxDomains)
	}
	// The limit is the organization's own: another still claims freely.
	if _, err := s.Add(ctx, other, uuid.New(), tenancy.DomainInput{Domain: "other.example"}); err != nil {
		t.Fatal(err)
	}
}

// domainsFixture is A's claimed, unverified domain, whose TXT record is published so that only the tenant
// check can stop a verification.
type domainsFixture struct {
	isolation.Tenants
	s   *tenancy.Domains
	dom tenancy.Domain
}

// B's calls on A's domain find nothing, through both walls of the isolation suite (the directory has no
// row-level security, so the tenant filter in each query is the whole wall).
var _ = isolation.Register(isolation.Case[*domainsFixture]{
	Name:   "verified domains",
	Stores: []string{"Domains"},
	Tables: []string{"directory.domains"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *domainsFixture {
		suffix := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
		dns := &fakeDNS{}
		f := &domainsFixture{Tenants: isolation.Tenants{newOrg(t, d, "alpha-"+suffix), newOrg(t, d, "bravo-"+suffix)},
			s: tenancy.NewDomains(w.DB.Directory, w.DB.Tenants, dns, errorLog(t))}
		var err error
		if f.dom, err = f.s.Add(context.Background(), f.Tenant(isolation.A), uuid.New(), tenancy.DomainInput{Domain: suffix + ".alpha.example"}); err != nil {
			t.Fatal(err)
		}
		dns.set(f.dom.Verification.Name, f.dom.Verification.Value) // B's verify must fail on the tenant, not on DNS
		return f
	},
	Ops: []isolation.Op[*domainsFixture]{
		{Name: "get", Run: func(ctx context.Context, f *domainsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Get(ctx, f.Tenant(as), f.dom.ID)
			return isolation.One(err)
		}},
		{Name: "verify", Run: func(ctx context.Context, f *domainsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Verify(ctx, f.Tenant(as), uuid.New(), f.dom.ID)
			return isolation.One(err)
		}},
		{Name: "remove", Run: func(ctx context.Context, f *domainsFixture, as isolation.Side) (int, error) {
			return isolation.One(f.s.Remove(ctx, f.Tenant(as), uuid.New(), f.dom.ID))
		}},
		{Name: "list", Want: isolation.Nothing, Run: func(ctx context.Context, f *domainsFixture, as isolation.Side) (int, error) {
			return isolation.Len(f.s.List(ctx, f.Tenant(as)))
		}},
	},
	Check: func(t *testing.T, d *dbtest.Database, f *domainsFixture) {
		still, err := f.s.Get(context.Background(), f.Tenant(isolation.A), f.dom.ID)
		if err != nil || still.Verified {
			t.Errorf("A's domain after B's attempt: %+v, %v; want it there, unverified", still, err)
		}
		if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1`, f.Tenant(isolation.B)); n != 0 {
			t.Errorf("B's attempt emitted %d events", n)
		}
	},
})
