package members_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/members"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// invited returns the payload of tenant's newest user.invited event, as the notifier will read it.
func (f *fixture) invited(tenant uuid.UUID) pubsub.UserInvited {
	f.t.Helper()
	var raw []byte
	if err := f.d.Owner.QueryRow(context.Background(), `SELECT data FROM tenant.outbox
		WHERE tenant_id = $1 AND type = 'user.invited' ORDER BY id DESC LIMIT 1`, tenant).Scan(&raw); err != nil {
		f.t.Fatalf("user.invited event: %v", err)
	}
	var ev pubsub.UserInvited
	if err := json.Unmarshal(raw, &ev); err != nil {
		f.t.Fatal(err)
	}
	return ev
}

func TestInviteAndAcceptAsANewPerson(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.person("ada@example.test", "Ada", true)
	f.join(acme, owner, "owner")
	now := time.Now()

	inv, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: " Carol@Example.test ", Role: "admin"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "carol@example.test" || inv.Role != "admin" || inv.InvitedBy != owner || !inv.ExpiresAt.Equal(inv.CreatedAt.Add(members.InvitationTTL)) {
		t.Fatalf("invitation %+v", inv)
	}
	ev := f.invited(acme)
	if ev.InvitationID != inv.ID || ev.Email != inv.Email || ev.Role != "admin" || ev.InvitedBy != owner || ev.InviterName != "Ada" ||
		ev.InviterEmail != "ada@example.test" || ev.TenantSlug != "acme" || ev.TenantName != "Org acme" || ev.TenantID != acme || len(ev.Token) != 43 {
		t.Fatalf("user.invited = %+v", ev)
	}
	// Only the token's SHA-256 is stored.
	var stored []byte
	if err := f.d.Owner.QueryRow(ctx, `SELECT token_hash FROM directory.invitations WHERE id = $1`, inv.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(ev.Token)); string(stored) != string(sum[:]) {
		t.Fatal("the stored hash is not the token's SHA-256")
	}
	l, err := f.store.Invitations(ctx, acme, page.Request{Limit: 10}, now)
	if err != nil || len(l.Items) != 1 || l.Items[0] != inv {
		t.Fatalf("open invitations = %+v, %v", l.Items, err)
	}

	// A new person must choose a password that meets the policy.
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: ev.Token}, uuid.Nil, now); !slices.Equal(fieldsOf(t, err), []string{"password"}) {
		t.Fatalf("accept without a password: %v", err)
	}
	for _, pw := range []string{"short", "Password1234", strings.Repeat("p", identity.MaxPasswordLength+1)} {
		if _, err := f.store.Accept(ctx, members.AcceptInput{Token: ev.Token, Password: pw}, uuid.Nil, now); !slices.Equal(fieldsOf(t, err), []string{"password"}) {
			t.Fatalf("accept with password %.20q: %v", pw, err)
		}
	}
	acc, err := f.store.Accept(ctx, members.AcceptInput{Token: " " + ev.Token + " ", Name: " Carol ", Password: password}, uuid.Nil, now)
	if err != nil {
		t.Fatal(err)
	}
	s := acc.Session
	if acc.Member.Email != "carol@example.test" || acc.Member.Name != "Carol" || acc.Member.Role != "admin" ||
		s.Principal.IdentityID != acc.Member.ID || s.Principal.TenantID != acme || s.Principal.Role != "admin" || s.TenantSlug != "acme" ||
		s.RefreshToken == "" || !s.RefreshExpiresAt.After(now) {
		t.Fatalf("accepted %+v", acc)
	}
	// The new identity logs in with the password it chose.
	if _, err := f.ids.LoginFrom(ctx, "", "carol@example.test", password, "acme", now); err != nil {
		t.Fatalf("login after accepting: %v", err)
	}
	// Single use.
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: ev.Token, Password: password}, uuid.Nil, now); !errors.Is(err, members.ErrInvitationNotFound) {
		t.Fatalf("second accept: %v, want ErrInvitationNotFound", err)
	}
	if l, err := f.store.Invitations(ctx, acme, page.Request{Limit: 10}, now); err != nil || len(l.Items) != 0 {
		t.Fatalf("open invitations after accepting = %+v, %v", l.Items, err)
	}
	if err := f.store.Revoke(ctx, acme, owner, inv.ID, now); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("revoking an accepted invitation: %v, want not found", err)
	}
	act, evs := f.trail(acme)
	if act != "invitation:created,member:created" || evs != "user.invited,user.joined" {
		t.Fatalf("activity %q, events %q", act, evs)
	}
	var via, invitation string
	if err := f.d.Owner.QueryRow(ctx, `SELECT data->>'via', data->>'invitation_id' FROM tenant.outbox WHERE tenant_id = $1 AND type = 'user.joined'`, acme).
		Scan(&via, &invitation); err != nil || via != "invitation" || invitation != inv.ID.String() {
		t.Fatalf("user.joined via %q invitation %q (%v)", via, invitation, err)
	}
	// Inviting a member is refused.
	if _, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: "carol@example.test", Role: "viewer"}, now); !errors.Is(err, members.ErrAlreadyMember) {
		t.Fatalf("inviting a member: %v, want ErrAlreadyMember", err)
	}
}

func TestAcceptAsAnExistingIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	grace := f.person("grace@example.test", "Grace", true)
	nopass := f.person("nopass@example.test", "No Password", false)
	// Both proved they own their email; TestAcceptClaimsAnUnverifiedIdentity covers those who did not.
	f.exec(`UPDATE directory.identities SET email_verified_at = now() WHERE id = ANY($1)`, []uuid.UUID{grace, nopass})
	now := time.Now()
	invite := func(email string) string {
		t.Helper()
		if _, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: email, Role: "member"}, now); err != nil {
			t.Fatal(err)
		}
		return f.invited(acme).Token
	}

	tok := invite("grace@example.test")
	for _, pw := range []string{"", "wrong password entirely"} {
		if _, err := f.store.Accept(ctx, members.AcceptInput{Token: tok, Password: pw}, uuid.Nil, now); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("accept with password %q: %v, want invalid credentials", pw, err)
		}
	}
	// Another identity's proof does not count.
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: tok}, owner, now); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("accept proven as someone else: %v, want invalid credentials", err)
	}
	acc, err := f.store.Accept(ctx, members.AcceptInput{Token: tok, Name: "Ignored", Password: password}, uuid.Nil, now)
	if err != nil || acc.Member.ID != grace || acc.Member.Name != "Grace" {
		t.Fatalf("accept with the password = %+v, %v; want Grace with her own name", acc.Member, err)
	}

	// An identity without a password can accept only while proven (logged in, e.g. through SSO).
	tok = invite("nopass@example.test")
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: tok, Password: password}, uuid.Nil, now); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("accept by password for an identity without one: %v, want invalid credentials", err)
	}
	if acc, err := f.store.Accept(ctx, members.AcceptInput{Token: tok}, nopass, now); err != nil || acc.Member.ID != nopass {
		t.Fatalf("accept proven = %+v, %v", acc.Member, err)
	}

	// Someone added directly after being invited: the invitation then answers already-member.
	tok = invite("late@example.test")
	if _, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "late@example.test", Role: "viewer"}); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE directory.identities SET password_hash = $2, email_verified_at = now() WHERE email = $1`, "late@example.test", identity.HashPassword(password, cheap))
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: tok, Password: password}, uuid.Nil, now); !errors.Is(err, members.ErrAlreadyMember) {
		t.Fatalf("accept by a member: %v, want ErrAlreadyMember", err)
	}
}

func TestInvitationsThatNoLongerWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	now := time.Now()
	invite := func(email string) (members.Invitation, string) {
		t.Helper()
		inv, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: email, Role: "member"}, now)
		if err != nil {
			t.Fatal(err)
		}
		return inv, f.invited(acme).Token
	}
	accept := func(tok string, at time.Time) error {
		_, err := f.store.Accept(ctx, members.AcceptInput{Token: tok, Password: password}, uuid.Nil, at)
		return err
	}

	// Unknown and malformed tokens.
	for _, tok := range []string{"no-such-token", uuid.NewString(), "\x00"} {
		if err := accept(tok, now); !errors.Is(err, members.ErrInvitationNotFound) {
			t.Fatalf("accept %q: %v, want ErrInvitationNotFound", tok, err)
		}
	}

	// Revoked: gone from the list, cannot be accepted or revoked again.
	inv, tok := invite("revoked@example.test")
	if _, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: "revoked@example.test", Role: "viewer"}, now); !errors.Is(err, members.ErrInvitationExists) {
		t.Fatalf("second open invitation: %v, want ErrInvitationExists", err)
	}
	if err := f.store.Revoke(ctx, acme, owner, inv.ID, now); err != nil {
		t.Fatal(err)
	}
	if err := accept(tok, now); !errors.Is(err, members.ErrInvitationNotFound) {
		t.Fatalf("accept a revoked invitation: %v", err)
	}
	if err := f.store.Revoke(ctx, acme, owner, inv.ID, now); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("revoke twice: %v, want not found", err)
	}
	// Once revoked, the email may be invited again, and the new token works.
	if _, tok2 := invite("revoked@example.test"); accept(tok2, now) != nil {
		t.Fatal("a new invitation after a revoked one does not work")
	}

	// Expired, by the clock and by the row: not listed, not accepted, and it does not block a new one. Just
	// before the TTL an invitation still works.
	if _, early := invite("early@example.test"); accept(early, now.Add(members.InvitationTTL-time.Second)) != nil {
		t.Fatal("accept just before the TTL: refused")
	}
	inv, tok = invite("late@example.test")
	if err := accept(tok, now.Add(members.InvitationTTL+time.Second)); !errors.Is(err, members.ErrInvitationNotFound) {
		t.Fatalf("accept after the TTL: %v", err)
	}
	f.exec(`UPDATE directory.invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, inv.ID)
	if err := accept(tok, now); !errors.Is(err, members.ErrInvitationNotFound) {
		t.Fatalf("accept an expired invitation: %v", err)
	}
	if l, err := f.store.Invitations(ctx, acme, page.Request{Limit: 10}, now); err != nil || len(l.Items) != 0 {
		t.Fatalf("open invitations = %+v, %v; want none", l.Items, err)
	}
	if _, tok2 := invite("late@example.test"); accept(tok2, now) != nil {
		t.Fatal("a new invitation after an expired one does not work")
	}
	var lapsed bool
	if err := f.d.Owner.QueryRow(ctx, `SELECT revoked_at = expires_at FROM directory.invitations WHERE id = $1`, inv.ID).Scan(&lapsed); err != nil || !lapsed {
		t.Fatalf("the expired invitation was not closed at its expiry (%v)", err)
	}

	// A suspended organization's invitation is refused as such; a deleted one's is not found.
	_, tok = invite("suspended@example.test")
	f.exec(`UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, acme)
	if err := accept(tok, now); !errors.Is(err, members.ErrTenantSuspended) {
		t.Fatalf("accept into a suspended organization: %v", err)
	}
	f.exec(`UPDATE directory.tenants SET status = 'deleted' WHERE id = $1`, acme)
	if err := accept(tok, now); !errors.Is(err, members.ErrInvitationNotFound) {
		t.Fatalf("accept into a deleted organization: %v", err)
	}
}

func TestInvitePermissions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner, admin, member := f.member(acme, "owner"), f.member(acme, "admin"), f.member(acme, "member")
	now := time.Now()
	tests := []struct {
		name  string
		actor uuid.UUID
		role  string
		want  error
	}{
		{"a member cannot invite", member, "viewer", members.ErrForbidden},
		{"an admin cannot invite an owner", admin, "owner", members.ErrForbidden},
		{"a stranger cannot invite", uuid.New(), "viewer", members.ErrForbidden},
		{"an admin invites an admin", admin, "admin", nil},
		{"an owner invites an owner", owner, "owner", nil},
	}
	for i, tc := range tests {
		_, err := f.store.Invite(ctx, acme, tc.actor, members.InviteInput{Email: uuid.NewString() + "@example.test", Role: tc.role}, now)
		if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
			t.Fatalf("%d %s: %v, want %v", i, tc.name, err, tc.want)
		}
	}
	l, err := f.store.Invitations(ctx, acme, page.Request{Limit: 1}, now)
	if err != nil || len(l.Items) != 1 || l.NextCursor == nil || l.Items[0].Role != "owner" {
		t.Fatalf("first page of 1 = %+v, %v; want the newest (owner) invitation and a cursor", l, err)
	}
	req, err := page.Parse(map[string][]string{"cursor": {*l.NextCursor}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if l, err = f.store.Invitations(ctx, acme, req, now); err != nil || len(l.Items) != 1 || l.NextCursor != nil || l.Items[0].Role != "admin" {
		t.Fatalf("second page = %+v, %v", l, err)
	}
	if err := f.store.Revoke(ctx, acme, member, l.Items[0].ID, now); !errors.Is(err, members.ErrForbidden) {
		t.Fatalf("a member revoking: %v, want ErrForbidden", err)
	}
}

// TestConcurrentAcceptsUseTheTokenOnce: the same token presented twice at once makes one membership.
func TestConcurrentAcceptsUseTheTokenOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	f.person("dup@example.test", "Dup", true)
	now := time.Now()
	if _, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: "dup@example.test", Role: "member"}, now); err != nil {
		t.Fatal(err)
	}
	tok := f.invited(acme).Token
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.store.Accept(ctx, members.AcceptInput{Token: tok, Password: password}, uuid.Nil, now)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, members.ErrInvitationNotFound):
			t.Fatalf("unexpected %v", err)
		}
	}
	var sessions int
	if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.refresh_token_families WHERE tenant_id = $1`, acme).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || sessions != 1 {
		t.Fatalf("%d accepts succeeded and %d sessions started, want 1 and 1", ok, sessions)
	}
}

// An identity that never proved its email may have been signed up by anyone: the invitation's mailed token
// proves the acceptor owns the email, so the acceptor sets a new password, and the creator's password,
// sessions and second factor stop working. Accepting also marks the email verified.
func TestAcceptClaimsAnUnverifiedIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	now := time.Now()
	invite := func(email string) string {
		t.Helper()
		if _, err := f.store.Invite(ctx, acme, owner, members.InviteInput{Email: email, Role: "member"}, now); err != nil {
			t.Fatal(err)
		}
		return f.invited(acme).Token
	}
	verifiedAt := func(id uuid.UUID) *time.Time {
		t.Helper()
		var at *time.Time
		if err := f.d.Owner.QueryRow(ctx, `SELECT email_verified_at FROM directory.identities WHERE id = $1`, id).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}

	// Mallory signed up with the victim's email: she holds its password, a session and a second factor.
	squatted := f.person("victim@example.test", "Mallory", true)
	other := f.tenant("mallory-co")
	f.join(other, squatted, "owner")
	family := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO directory.refresh_token_families (id, identity_id, tenant_id) VALUES ($1, $2, $3)`, family, squatted, other)
	f.exec(`INSERT INTO directory.mfa_totp (identity_id, secret, confirmed_at) VALUES ($1, '\x00', now())`, squatted)
	tok := invite("victim@example.test")

	// The acceptor must set a password: Mallory's is not asked for and would not do.
	var fields valid.Errors
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: tok}, uuid.Nil, now); !errors.As(err, &fields) || fields[0].Field != "password" {
		t.Fatalf("accept without a password: %v, want a password field error", err)
	}
	const fresh = "a brand new passphrase"
	acc, err := f.store.Accept(ctx, members.AcceptInput{Token: tok, Password: fresh}, uuid.Nil, now)
	if err != nil || acc.Member.ID != squatted {
		t.Fatalf("accept = %+v, %v", acc.Member, err)
	}
	var hash string
	var revoked *time.Time
	var factors int
	if err := f.d.Owner.QueryRow(ctx, `SELECT i.password_hash, f.revoked_at, (SELECT count(*) FROM directory.mfa_totp WHERE identity_id = i.id)
		FROM directory.identities i, directory.refresh_token_families f WHERE i.id = $1 AND f.id = $2`, squatted, family).
		Scan(&hash, &revoked, &factors); err != nil {
		t.Fatal(err)
	}
	if ok, _ := identity.CheckPassword(password, hash); ok {
		t.Fatal("the squatter's password still works")
	}
	if ok, _ := identity.CheckPassword(fresh, hash); !ok {
		t.Fatal("the acceptor's password does not work")
	}
	if revoked == nil || factors != 0 || verifiedAt(squatted) == nil {
		t.Fatalf("after the claim: session revoked at %v, %d second factors, verified at %v", revoked, factors, verifiedAt(squatted))
	}
	if _, err := f.ids.LoginFrom(ctx, "", "victim@example.test", password, "acme", now); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("login with the squatter's password: %v, want invalid credentials", err)
	}
	if _, err := f.ids.LoginFrom(ctx, "", "victim@example.test", fresh, "acme", now); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}

	// Proven by a token of the identity itself (a signed-in owner of an unverified account): the email is now
	// verified and the password stays.
	self := f.person("self@example.test", "Self", true)
	if _, err := f.store.Accept(ctx, members.AcceptInput{Token: invite("self@example.test")}, self, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ids.LoginFrom(ctx, "", "self@example.test", password, "acme", now); err != nil || verifiedAt(self) == nil {
		t.Fatalf("proven acceptor: login %v, verified at %v", err, verifiedAt(self))
	}

	// A new identity made by an invitation starts verified.
	acc, err = f.store.Accept(ctx, members.AcceptInput{Token: invite("new@example.test"), Name: "New", Password: fresh}, uuid.Nil, now)
	if err != nil || verifiedAt(acc.Member.ID) == nil {
		t.Fatalf("new identity: %v, verified at %v", err, verifiedAt(acc.Member.ID))
	}
}
