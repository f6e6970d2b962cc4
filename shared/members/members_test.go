package members_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/members"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

var cheap = identity.Params{Memory: 64, Time: 1, Threads: 1}

const password = "plum tree quantum 42"

// fixture is one test's database with helpers that arrange directory rows as the owner.
type fixture struct {
	t     *testing.T
	d     *dbtest.Database
	store *members.Store
	ids   *identity.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := dbtest.New(t)
	return withHandles(t, d, d.DB)
}

// withHandles builds the store over handles (the application role's or the owner's).
func withHandles(t *testing.T, d *dbtest.Database, handles *db.DB) *fixture {
	ids := identity.New(handles.Directory, cheap, 7*24*time.Hour)
	return &fixture{t: t, d: d, store: members.New(handles.Directory, handles.Tenants, ids, nil), ids: ids}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.d.Owner.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) tenant(slug string) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	f.exec(`INSERT INTO directory.tenants (id, slug, name) VALUES ($1, $2, $3)`, id, slug, "Org "+slug)
	return id
}

// person creates an identity; withPassword gives it the test password.
func (f *fixture) person(email, name string, withPassword bool) uuid.UUID {
	f.t.Helper()
	id := uuid.Must(uuid.NewV7())
	var hash *string
	if withPassword {
		h := identity.HashPassword(password, cheap)
		hash = &h
	}
	f.exec(`INSERT INTO directory.identities (id, email, name, password_hash) VALUES ($1, $2, $3, $4)`, id, email, name, hash)
	return id
}

func (f *fixture) join(tenant, person uuid.UUID, role string) {
	f.t.Helper()
	f.exec(`INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, $3)`, tenant, person, role)
}

// member creates an identity with a password and makes it a member of tenant.
func (f *fixture) member(tenant uuid.UUID, role string) uuid.UUID {
	f.t.Helper()
	id := f.person(uuid.NewString()+"@example.test", "Someone", true)
	f.join(tenant, id, role)
	return id
}

func (f *fixture) role(tenant, person uuid.UUID) string {
	f.t.Helper()
	var role string
	err := f.d.Owner.QueryRow(context.Background(), `SELECT role FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`, tenant, person).Scan(&role)
	if err != nil {
		return "(none)"
	}
	return role
}

// trail returns tenant's activity as "entity:action" and its outbox as event types, oldest first.
func (f *fixture) trail(tenant uuid.UUID) (activity, events string) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.d.Owner.QueryRow(ctx, `SELECT coalesce(string_agg(entity_type || ':' || action, ',' ORDER BY id), '')
		FROM tenant.activity WHERE tenant_id = $1`, tenant).Scan(&activity); err != nil {
		f.t.Fatal(err)
	}
	if err := f.d.Owner.QueryRow(ctx, `SELECT coalesce(string_agg(type, ',' ORDER BY id), '')
		FROM tenant.outbox WHERE tenant_id = $1`, tenant).Scan(&events); err != nil {
		f.t.Fatal(err)
	}
	return activity, events
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var fe valid.Errors
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want validation errors", err)
	}
	var out []string
	for _, e := range fe {
		if !slices.Contains(out, e.Field) {
			out = append(out, e.Field)
		}
	}
	return out
}

func TestAddListAndProfile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	existing := f.person("grace@example.test", "Grace Hopper", true)

	// A new email becomes an identity without a password; an existing one keeps its own name.
	added, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "  Bob@Example.TEST ", Name: " Bob ", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Email != "bob@example.test" || added.Name != "Bob" || added.Role != "member" || added.JoinedAt.IsZero() {
		t.Fatalf("added %+v", added)
	}
	var hash *string
	if err := f.d.Owner.QueryRow(ctx, `SELECT password_hash FROM directory.identities WHERE id = $1`, added.ID).Scan(&hash); err != nil || hash != nil {
		t.Fatalf("added identity's password hash = %v (%v), want none", hash, err)
	}
	g, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "grace@example.test", Name: "Someone Else", Role: "admin"})
	if err != nil || g.ID != existing || g.Name != "Grace Hopper" {
		t.Fatalf("adding an existing identity = %+v, %v; want that identity with its own name", g, err)
	}
	if _, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "grace@example.test", Role: "viewer"}); !errors.Is(err, members.ErrAlreadyMember) {
		t.Fatalf("adding a member again: %v, want ErrAlreadyMember", err)
	}

	p, err := f.store.Profile(ctx, acme, g.ID)
	if err != nil || p.Member != g || p.Tenant.ID != acme || p.Tenant.Slug != "acme" || p.Tenant.Name != "Org acme" {
		t.Fatalf("profile = %+v, %v", p, err)
	}
	p, err = f.store.UpdateProfile(ctx, acme, g.ID, members.ProfileInput{Name: "  Rear Admiral Hopper "})
	if err != nil || p.Name != "Rear Admiral Hopper" {
		t.Fatalf("update profile = %+v, %v", p, err)
	}
	if _, err := f.store.UpdateProfile(ctx, acme, g.ID, members.ProfileInput{Name: "Rear Admiral Hopper"}); err != nil {
		t.Fatalf("no-op update: %v", err)
	}

	l, err := f.store.List(ctx, acme, members.Filter{}, page.Request{Limit: 10})
	if err != nil || len(l.Items) != 3 || l.NextCursor != nil {
		t.Fatalf("list = %+v, %v", l, err)
	}
	if !slices.IsSortedFunc(l.Items, func(a, b members.Member) int { return strings.Compare(a.ID.String(), b.ID.String()) }) {
		t.Fatalf("list not in identity order: %+v", l.Items)
	}

	act, evs := f.trail(acme)
	if act != "member:created,member:created,member:updated" || evs != "user.joined,user.joined" {
		t.Fatalf("activity %q, events %q", act, evs)
	}
	var via, actor string
	if err := f.d.Owner.QueryRow(ctx, `SELECT data->>'via', data->>'actor_id' FROM tenant.outbox WHERE tenant_id = $1 ORDER BY id LIMIT 1`, acme).Scan(&via, &actor); err != nil || via != "added" || actor != owner.String() {
		t.Fatalf("user.joined via %q by %q (%v)", via, actor, err)
	}
}

func TestListFiltersSearchesAndPaginates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	for _, p := range []struct{ email, name, role string }{
		{"ada@example.test", "Ada Lovelace", "owner"},
		{"alan@example.test", "Alan Turing", "admin"},
		{"grace@navy.test", "Grace Hopper", "member"},
		{"percent@example.test", "100% Sure", "member"},
		{"under_score@example.test", "Under Score", "viewer"},
		{"back@example.test", `Back\slash`, "viewer"},
	} {
		id := f.person(p.email, p.name, false)
		f.join(acme, id, p.role)
	}
	other := f.tenant("other")
	f.join(other, f.person("ada.other@example.test", "Ada Elsewhere", false), "member")

	emails := func(ms []members.Member) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Email)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	tests := []struct {
		name   string
		filter members.Filter
		want   string
	}{
		{"all", members.Filter{}, "ada@example.test,alan@example.test,back@example.test,grace@navy.test,percent@example.test,under_score@example.test"},
		{"role", members.Filter{Role: "viewer"}, "back@example.test,under_score@example.test"},
		{"name, any case", members.Filter{Query: "LOVE"}, "ada@example.test"},
		{"email substring", members.Filter{Query: "navy"}, "grace@navy.test"},
		{"name or email", members.Filter{Query: "a"}, "ada@example.test,alan@example.test,back@example.test,grace@navy.test,percent@example.test,under_score@example.test"},
		{"percent is literal", members.Filter{Query: "%"}, "percent@example.test"},
		{"underscore is literal", members.Filter{Query: "_"}, "under_score@example.test"},
		{"backslash is literal", members.Filter{Query: `\`}, "back@example.test"},
		{"role and search", members.Filter{Role: "member", Query: "sure"}, "percent@example.test"},
		{"nothing matches", members.Filter{Query: "zzz"}, ""},
		{"trimmed", members.Filter{Role: " owner ", Query: " ada "}, "ada@example.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := f.store.List(ctx, acme, tc.filter, page.Request{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := emails(l.Items); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}

	// Pages of 4 cover every member once, in order.
	var seen []members.Member
	req := page.Request{Limit: 4}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		l, err := f.store.List(ctx, acme, members.Filter{}, req)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, l.Items...)
		if l.NextCursor == nil {
			break
		}
		if req, err = page.Parse(map[string][]string{"cursor": {*l.NextCursor}, "limit": {"4"}}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 6 || emails(seen) != tests[0].want {
		t.Fatalf("pages gave %d members: %s", len(seen), emails(seen))
	}
	// The filtered walk paginates too.
	l, err := f.store.List(ctx, acme, members.Filter{Query: "a"}, page.Request{Limit: 5})
	if err != nil || len(l.Items) != 5 || l.NextCursor == nil {
		t.Fatalf("first filtered page = %d items, cursor %v, %v", len(l.Items), l.NextCursor, err)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	long := strings.Repeat("é", members.MaxNameLength+1)
	tests := []struct {
		name string
		call func() error
		want []string
	}{
		{"add: nothing", func() error { _, err := f.store.Add(ctx, acme, owner, members.AddInput{}); return err }, []string{"email", "role"}},
		{"add: bad email and role", func() error {
			_, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "not-an-email", Role: "king"})
			return err
		}, []string{"email", "role"}},
		{"add: name too long", func() error {
			_, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "a@b.test", Role: "member", Name: long})
			return err
		}, []string{"name"}},
		{"add: NUL in name", func() error {
			_, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "a@b.test", Role: "member", Name: "a\x00"})
			return err
		}, []string{"name"}},
		{"add: display-name email", func() error {
			_, err := f.store.Add(ctx, acme, owner, members.AddInput{Email: "Bob <bob@b.test>", Role: "member"})
			return err
		}, []string{"email"}},
		{"invite: nothing", func() error {
			_, err := f.store.Invite(ctx, acme, owner, members.InviteInput{}, time.Now())
			return err
		}, []string{"email", "role"}},
		{"role: unknown", func() error {
			_, err := f.store.ChangeRole(ctx, acme, owner, owner, members.RoleInput{Role: "Owner"})
			return err
		}, []string{"role"}},
		{"profile: blank", func() error {
			_, err := f.store.UpdateProfile(ctx, acme, owner, members.ProfileInput{Name: "  "})
			return err
		}, []string{"name"}},
		{"profile: long", func() error {
			_, err := f.store.UpdateProfile(ctx, acme, owner, members.ProfileInput{Name: long})
			return err
		}, []string{"name"}},
		{"list: role and q", func() error {
			_, err := f.store.List(ctx, acme, members.Filter{Role: "king", Query: strings.Repeat("q", members.MaxQueryLength+1)}, page.Request{Limit: 1})
			return err
		}, []string{"role", "q"}},
		{"list: invalid UTF-8", func() error {
			_, err := f.store.List(ctx, acme, members.Filter{Query: "\xff"}, page.Request{Limit: 1})
			return err
		}, []string{"q"}},
		{"accept: no token", func() error {
			_, err := f.store.Accept(ctx, members.AcceptInput{Password: password}, uuid.Nil, time.Now())
			return err
		}, []string{"token"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldsOf(t, tc.call()); !slices.Equal(got, tc.want) {
				t.Fatalf("failing fields %v, want %v", got, tc.want)
			}
		})
	}
	var n int
	if err := f.d.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM directory.memberships) + (SELECT count(*) FROM directory.invitations)`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d memberships and invitations after invalid calls, want only the owner's", n)
	}
}

func TestRolesAndTheLastOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	owner := f.member(acme, "owner")
	admin := f.member(acme, "admin")
	member := f.member(acme, "member")
	viewer := f.member(acme, "viewer")

	type call struct {
		name          string
		actor, target uuid.UUID
		role          string // "" removes the target
		want          error
	}
	run := func(t *testing.T, c call) {
		t.Helper()
		var err error
		if c.role == "" {
			err = f.store.Remove(ctx, acme, c.actor, c.target, time.Now())
		} else {
			_, err = f.store.ChangeRole(ctx, acme, c.actor, c.target, members.RoleInput{Role: c.role})
		}
		if !errors.Is(err, c.want) && (c.want != nil || err != nil) {
			t.Fatalf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	for _, c := range []call{
		{"the last owner cannot demote themself", owner, owner, "admin", members.ErrLastOwner},
		{"the last owner cannot leave", owner, owner, "", members.ErrLastOwner},
		{"an admin cannot grant owner", admin, member, "owner", members.ErrForbidden},
		{"an admin cannot promote themself", admin, admin, "owner", members.ErrForbidden},
		{"an admin cannot demote an owner", admin, owner, "member", members.ErrForbidden},
		{"an admin cannot remove an owner", admin, owner, "", members.ErrForbidden},
		{"a member cannot change roles", member, viewer, "admin", members.ErrForbidden},
		{"a viewer cannot remove others", viewer, member, "", members.ErrForbidden},
		{"unknown target", owner, uuid.New(), "admin", db.ErrNotFound},
		{"unknown target removed", owner, uuid.New(), "", db.ErrNotFound},
		{"an actor who is no member", uuid.New(), member, "viewer", members.ErrForbidden},
		{"an admin re-roles a member", admin, member, "viewer", nil},
		{"the same role again is a no-op", admin, member, "viewer", nil},
		{"an owner grants owner", owner, admin, "owner", nil},
	} {
		run(t, c)
	}
	if r := f.role(acme, member); r != "viewer" {
		t.Fatalf("member's role %s, want viewer", r)
	}
	// Two owners now: either may step down, and then the other is the last.
	for _, c := range []call{
		{"with a second owner, one may step down", owner, owner, "admin", nil},
		{"the former owner (now admin) cannot take owner back", owner, owner, "owner", members.ErrForbidden},
		{"the remaining owner is the last", admin, admin, "member", members.ErrLastOwner},
		{"nor be removed by themself", admin, admin, "", members.ErrLastOwner},
		{"a viewer may leave", viewer, viewer, "", nil},
		{"an admin removes a member", owner, member, "", nil},
		{"the removed member is gone", owner, member, "", db.ErrNotFound},
	} {
		run(t, c)
	}
	if f.role(acme, owner) != "admin" || f.role(acme, admin) != "owner" || f.role(acme, viewer) != "(none)" {
		t.Fatalf("roles after the changes: %s %s %s", f.role(acme, owner), f.role(acme, admin), f.role(acme, viewer))
	}
	act, evs := f.trail(acme)
	if act != "member:updated,member:updated,member:updated,member:deleted,member:deleted" ||
		evs != "user.role_changed,user.role_changed,user.role_changed,user.removed,user.removed" {
		t.Fatalf("activity %q, events %q", act, evs)
	}
}

// TestStaleTokenRoleIsNotTrusted: an admin demoted after their token was minted cannot act as an admin, whatever
// the token says, because the store reads the actor's role from the directory.
func TestStaleTokenRoleIsNotTrusted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme := f.tenant("acme")
	f.member(acme, "owner")
	admin := f.member(acme, "admin")
	target := f.member(acme, "member")
	f.exec(`UPDATE directory.memberships SET role = 'member' WHERE tenant_id = $1 AND identity_id = $2`, acme, admin)
	now := time.Now()
	for name, call := range map[string]func() error{
		"add": func() error {
			_, err := f.store.Add(ctx, acme, admin, members.AddInput{Email: "x@example.test", Role: "member"})
			return err
		},
		"invite": func() error {
			_, err := f.store.Invite(ctx, acme, admin, members.InviteInput{Email: "x@example.test", Role: "member"}, now)
			return err
		},
		"change role": func() error {
			_, err := f.store.ChangeRole(ctx, acme, admin, target, members.RoleInput{Role: "viewer"})
			return err
		},
		"remove": func() error { return f.store.Remove(ctx, acme, admin, target, now) },
		"revoke": func() error { return f.store.Revoke(ctx, acme, admin, uuid.New(), now) },
	} {
		if err := call(); !errors.Is(err, members.ErrForbidden) {
			t.Errorf("%s by a demoted admin: %v, want ErrForbidden", name, err)
		}
	}
}

// TestConcurrentDemotionsKeepAnOwner: two owners demote each other (or themselves) at the same moment; the locks
// over the owners' memberships let exactly one through, every time.
func TestConcurrentDemotionsKeepAnOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	for round := range 10 {
		acme := f.tenant(fmt.Sprintf("race-%d", round))
		a, b := f.member(acme, "owner"), f.member(acme, "owner")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, pair := range [][2]uuid.UUID{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if round%2 == 0 {
					_, errs[i] = f.store.ChangeRole(ctx, acme, pair[0], pair[1], members.RoleInput{Role: "admin"})
				} else {
					errs[i] = f.store.Remove(ctx, acme, pair[0], pair[0], time.Now())
				}
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, members.ErrLastOwner), errors.Is(err, members.ErrForbidden):
			default:
				t.Fatalf("round %d: unexpected %v", round, err)
			}
		}
		var owners int
		if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.memberships WHERE tenant_id = $1 AND role = 'owner'`, acme).Scan(&owners); err != nil {
			t.Fatal(err)
		}
		if ok != 1 || owners != 1 {
			t.Fatalf("round %d: %d changes went through (%v), %d owners left; want 1 and 1", round, ok, errs, owners)
		}
	}
}

func TestRemoveRevokesTheMembersSessionsThere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	acme, globex := f.tenant("acme"), f.tenant("globex")
	owner := f.member(acme, "owner")
	bob := f.member(acme, "member")
	f.join(globex, bob, "member")
	now := time.Now()
	for _, tenant := range []uuid.UUID{acme, acme, globex} {
		err := f.d.DB.Directory.Platform(ctx, db.EntryLogin, func(tx pgx.Tx) error {
			return f.ids.StartSession(ctx, tx, &identity.Session{Principal: token.Principal{IdentityID: bob, TenantID: tenant}}, now)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	project := uuid.New()
	f.exec(`INSERT INTO tenant.projects (tenant_id, id, name, created_by) VALUES ($1, $2, 'p', $3)`, acme, project, owner)
	f.exec(`INSERT INTO tenant.project_members (tenant_id, project_id, identity_id, role) VALUES ($1, $2, $3, 'member')`, acme, project, bob)
	if err := f.store.Remove(ctx, acme, owner, bob, now); err != nil {
		t.Fatal(err)
	}
	var projectMemberships int
	if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM tenant.project_members WHERE identity_id = $1`, bob).Scan(&projectMemberships); err != nil || projectMemberships != 0 {
		t.Fatalf("%d project memberships left after leaving the organization (err %v), want 0", projectMemberships, err)
	}
	var revokedAcme, liveGlobex int
	if err := f.d.Owner.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE tenant_id = $2 AND revoked_at IS NOT NULL),
			count(*) FILTER (WHERE tenant_id = $3 AND revoked_at IS NULL)
		FROM directory.refresh_token_families WHERE identity_id = $1`, bob, acme, globex).Scan(&revokedAcme, &liveGlobex); err != nil {
		t.Fatal(err)
	}
	if revokedAcme != 2 || liveGlobex != 1 {
		t.Fatalf("revoked in acme %d (want 2), live in globex %d (want 1)", revokedAcme, liveGlobex)
	}
	if f.role(globex, bob) != "member" {
		t.Fatal("removal from acme touched globex")
	}
}

// membersFixture is an organization on each side with its owner, A's member and A's open invitation, and a
// person outside both, whom A adds in its positive controls.
type membersFixture struct {
	isolation.Tenants
	f                        *fixture
	owner                    [2]uuid.UUID
	aMember                  uuid.UUID
	aMemberEmail, extraEmail string
	inv                      members.Invitation
	now                      time.Time
}

// The member store shows tenant B nothing of A's members and invitations, through both walls of the isolation
// suite (the directory has no row-level security, so the tenant filter in each query is the only wall either
// way). B may invite and add the same people: that touches only B.
var _ = isolation.Register(isolation.Case[*membersFixture]{
	Name:   "members and invitations",
	Stores: []string{"Store"},
	Tables: []string{"directory.memberships", "directory.invitations"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *membersFixture {
		f := withHandles(t, d, w.DB)
		suffix := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
		x := &membersFixture{Tenants: isolation.Tenants{f.tenant("a-" + suffix), f.tenant("b-" + suffix)}, f: f, now: time.Now()}
		for _, side := range []isolation.Side{isolation.A, isolation.B} {
			x.owner[side] = f.member(x.Tenant(side), "owner")
		}
		x.aMember = f.member(x.Tenant(isolation.A), "member")
		x.extraEmail = "extra-" + suffix + "@example.test"
		f.person(x.extraEmail, "Extra", true)
		m, err := f.store.Profile(context.Background(), x.Tenant(isolation.A), x.aMember)
		if err != nil {
			t.Fatal(err)
		}
		x.aMemberEmail = m.Email
		x.inv, err = f.store.Invite(context.Background(), x.Tenant(isolation.A), x.owner[isolation.A], members.InviteInput{Email: "carol-" + suffix + "@example.test", Role: "member"}, x.now)
		if err != nil {
			t.Fatal(err)
		}
		return x
	},
	Ops: []isolation.Op[*membersFixture]{
		{Name: "profile", Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			_, err := x.f.store.Profile(ctx, x.Tenant(as), x.aMember)
			return isolation.One(err)
		}},
		{Name: "update profile", Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			_, err := x.f.store.UpdateProfile(ctx, x.Tenant(as), x.aMember, members.ProfileInput{Name: "taken"})
			return isolation.One(err)
		}},
		{Name: "change role", Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			_, err := x.f.store.ChangeRole(ctx, x.Tenant(as), x.owner[as], x.aMember, members.RoleInput{Role: "viewer"})
			return isolation.One(err)
		}},
		{Name: "remove", Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			return isolation.One(x.f.store.Remove(ctx, x.Tenant(as), x.owner[as], x.aMember, x.now))
		}},
		{Name: "revoke", Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			return isolation.One(x.f.store.Revoke(ctx, x.Tenant(as), x.owner[as], x.inv.ID, x.now))
		}},
		// A's owner, acting in B, on B's owner; in A, on A's member.
		{Name: "A's owner acting in B", WantErr: members.ErrForbidden, Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			target := map[isolation.Side]uuid.UUID{isolation.A: x.aMember, isolation.B: x.owner[isolation.B]}[as]
			_, err := x.f.store.ChangeRole(ctx, x.Tenant(as), x.owner[isolation.A], target, members.RoleInput{Role: "viewer"})
			return isolation.One(err)
		}},
		// Run counts the members listed besides the acting tenant's owner, who must be there.
		{Name: "list", Want: isolation.Nothing, Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			return x.listed(ctx, as, members.Filter{})
		}},
		{Name: "search", Want: isolation.Nothing, Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			return x.listed(ctx, as, members.Filter{Query: "example"})
		}},
		{Name: "invitations", Want: isolation.Nothing, Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			l, err := x.f.store.Invitations(ctx, x.Tenant(as), page.Request{Limit: 100}, x.now)
			return isolation.Len(l.Items, err)
		}},
		// B invites the email A invited (A, in its control, a new one): that succeeds and touches only B.
		{Name: "invite A's invitee", Judge: succeeds, Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			email := map[isolation.Side]string{isolation.A: "new-" + x.inv.Email, isolation.B: x.inv.Email}[as]
			_, err := x.f.store.Invite(ctx, x.Tenant(as), x.owner[as], members.InviteInput{Email: email, Role: "viewer"}, x.now)
			return isolation.One(err)
		}},
		// B adds A's member (A, in its control, the outside person): that succeeds and touches only B.
		{Name: "add A's member", Judge: succeeds, Run: func(ctx context.Context, x *membersFixture, as isolation.Side) (int, error) {
			email := map[isolation.Side]string{isolation.A: x.extraEmail, isolation.B: x.aMemberEmail}[as]
			_, err := x.f.store.Add(ctx, x.Tenant(as), x.owner[as], members.AddInput{Email: email, Role: "viewer"})
			return isolation.One(err)
		}},
	},
	Check: func(t *testing.T, d *dbtest.Database, x *membersFixture) {
		ctx, a := context.Background(), x.Tenant(isolation.A)
		if role := x.f.role(a, x.aMember); role != "member" {
			t.Errorf("A's member's role became %s", role)
		}
		if l, err := x.f.store.Invitations(ctx, a, page.Request{Limit: 100}, x.now); err != nil || len(l.Items) != 1 || l.Items[0].ID != x.inv.ID {
			t.Errorf("A's invitations after B's attempt: %+v (%v)", l.Items, err)
		}
		if act, evs := x.f.trail(a); act != "invitation:created" || evs != "user.invited" {
			t.Errorf("A's trail after B's attempt: %q %q", act, evs)
		}
	},
})

// listed lists the acting tenant's members with filter and counts those besides its owner, who must be there.
func (x *membersFixture) listed(ctx context.Context, as isolation.Side, filter members.Filter) (int, error) {
	l, err := x.f.store.List(ctx, x.Tenant(as), filter, page.Request{Limit: 100})
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(l.Items, func(m members.Member) bool { return m.ID == x.owner[as] }) {
		return 0, fmt.Errorf("%s lists %+v, without its owner", as, l.Items)
	}
	return len(l.Items) - 1, nil
}

// succeeds is the judgement of an operation B may do on its own side: it must work (the suite's fingerprint
// shows that it left A's rows alone).
func succeeds(n int, err error) error {
	if err != nil || n != 1 {
		return fmt.Errorf("%d, %v; want it to succeed, touching only B", n, err)
	}
	return nil
}
