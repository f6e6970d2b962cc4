package users

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

type req = servicetest.Request

const newPassword = "plum tree quantum 42"

func setup(t *testing.T) (http.Handler, *servicetest.Fixture) {
	t.Helper()
	f := servicetest.New(t)
	return New(f.Env), f
}

// do sends r with bearer and fails unless the answer has status.
func do(t *testing.T, h http.Handler, bearer string, r req, status int) servicetest.Response {
	t.Helper()
	r.Bearer = bearer
	return servicetest.Expect(t, servicetest.Do(t, h, r), status)
}

// expectProblem sends r with bearer and fails unless the answer is the problem status/code.
func expectProblem(t *testing.T, h http.Handler, bearer string, r req, status int, code string) servicetest.Response {
	t.Helper()
	r.Bearer = bearer
	res := servicetest.Do(t, h, r)
	servicetest.ExpectProblem(t, res, status, code)
	return res
}

// fields returns the failing fields of a validation problem.
func fields(res servicetest.Response) []string {
	var out []string
	errs, _ := res.Body["errors"].([]any)
	for _, e := range errs {
		if f, _ := e.(map[string]any)["field"].(string); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// inviteToken returns the raw token of tenant's newest invitation, read from the outbox as the notifier will.
func inviteToken(t *testing.T, f *servicetest.Fixture, tenant uuid.UUID) string {
	t.Helper()
	var tok string
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT data->>'token' FROM tenant.outbox
		WHERE tenant_id = $1 AND type = 'user.invited' ORDER BY id DESC LIMIT 1`, tenant).Scan(&tok); err != nil {
		t.Fatalf("invitation token: %v", err)
	}
	return tok
}

func emails(res servicetest.Response) []string {
	var out []string
	for _, it := range res.Items() {
		out = append(out, it["email"].(string))
	}
	slices.Sort(out)
	return out
}

func TestMembers(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	tok := f.Token(t, owner)

	l := do(t, h, tok, req{Method: "GET", Path: "/v1/users"}, 200)
	if items := l.Items(); len(items) != 1 || items[0]["id"] != owner.IdentityID.String() || items[0]["email"] != "ada@acme.test" ||
		items[0]["name"] != "Owner" || items[0]["role"] != "owner" || items[0]["joined_at"] == nil || l.Body["next_cursor"] != nil {
		t.Fatalf("list = %s", l.Raw)
	}

	bob := do(t, h, tok, req{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "Bob@Acme.test", "name": " Bob ", "role": "member"}}, 201)
	if bob.Str("email") != "bob@acme.test" || bob.Str("name") != "Bob" || bob.Str("role") != "member" || bob.Str("id") == "" {
		t.Fatalf("add = %s", bob.Raw)
	}
	expectProblem(t, h, tok, req{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "bob@acme.test", "role": "viewer"}}, 409, "already_member")
	if l := do(t, h, tok, req{Method: "GET", Path: "/v1/users"}, 200); len(l.Items()) != 2 {
		t.Fatalf("list after add = %s", l.Raw)
	}

	me := do(t, h, tok, req{Method: "GET", Path: "/v1/users/me"}, 200)
	tenant, _ := me.Body["tenant"].(map[string]any)
	if me.Str("id") != owner.IdentityID.String() || me.Str("email") != "ada@acme.test" || me.Str("role") != "owner" ||
		tenant["id"] != owner.TenantID.String() || tenant["slug"] != "acme" || tenant["name"] != "Org acme" {
		t.Fatalf("me = %s", me.Raw)
	}
	up := do(t, h, tok, req{Method: "PUT", Path: "/v1/users/me", Body: map[string]any{"name": "  Ada Lovelace "}}, 200)
	if up.Str("name") != "Ada Lovelace" || up.Str("role") != "owner" {
		t.Fatalf("update me = %s", up.Raw)
	}
	if me := do(t, h, tok, req{Method: "GET", Path: "/v1/users/me"}, 200); me.Str("name") != "Ada Lovelace" {
		t.Fatalf("me after update = %s", me.Raw)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/healthz"}), 200)

	var trail string
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT string_agg(entity_type || ':' || action, ',' ORDER BY id)
		FROM tenant.activity WHERE tenant_id = $1 AND entity_type = 'member'`, owner.TenantID).Scan(&trail); err != nil {
		t.Fatal(err)
	}
	if trail != "member:created,member:updated" {
		t.Fatalf("activity %s", trail)
	}
}

func TestListFiltersSearchesAndPaginates(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	tok := f.Token(t, owner)
	for _, m := range []struct{ email, name, role string }{
		{"alan@acme.test", "Alan Turing", "admin"},
		{"grace@navy.test", "Grace Hopper", "member"},
		{"pct@acme.test", "100% Sure", "viewer"},
		{"under_score@acme.test", "Under Score", "viewer"},
		{"edsger@acme.test", "Edsger Dijkstra", "member"},
	} {
		do(t, h, tok, req{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": m.email, "name": m.name, "role": m.role}}, 201)
	}
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"role=viewer", "pct@acme.test,under_score@acme.test"},
		{"q=HOPPER", "grace@navy.test"},
		{"q=navy", "grace@navy.test"},
		{"q=" + url.QueryEscape("%"), "pct@acme.test"},
		{"q=_", "under_score@acme.test"},
		{"role=member&q=dijk", "edsger@acme.test"},
		{"q=nobody", ""},
	} {
		l := do(t, h, tok, req{Method: "GET", Path: "/v1/users?" + tc.query}, 200)
		if got := strings.Join(emails(l), ","); got != tc.want {
			t.Fatalf("%s: %s, want %s", tc.query, got, tc.want)
		}
	}
	// Pages of 2 over 6 members: three pages, each member once, in id order.
	var seen []string
	path := "/v1/users?limit=2"
	for pages := 1; ; pages++ {
		l := do(t, h, tok, req{Method: "GET", Path: path}, 200)
		for _, it := range l.Items() {
			seen = append(seen, it["id"].(string))
		}
		cur, _ := l.Body["next_cursor"].(string)
		if cur == "" {
			if pages != 3 {
				t.Fatalf("%d pages, want 3", pages)
			}
			break
		}
		path = "/v1/users?limit=2&cursor=" + url.QueryEscape(cur)
	}
	if len(seen) != 6 || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != 6 {
		t.Fatalf("pages gave %v", seen)
	}
	// A filter holds across pages too.
	l := do(t, h, tok, req{Method: "GET", Path: "/v1/users?q=acme&limit=3"}, 200)
	cur, _ := l.Body["next_cursor"].(string)
	l2 := do(t, h, tok, req{Method: "GET", Path: "/v1/users?q=acme&limit=3&cursor=" + url.QueryEscape(cur)}, 200)
	if len(l.Items()) != 3 || cur == "" || len(l2.Items()) != 2 || l2.Body["next_cursor"] != nil {
		t.Fatalf("filtered pages: %s then %s", l.Raw, l2.Raw)
	}
}

func TestInviteAcceptAndUseTheTokens(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	tok := f.Token(t, owner)

	inv := do(t, h, tok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "Carol@Example.test", "role": "admin"}}, 201)
	if inv.Str("email") != "carol@example.test" || inv.Str("role") != "admin" || inv.Str("expires_at") == "" || inv.Str("id") == "" ||
		inv.Str("invited_by") != owner.IdentityID.String() || strings.Contains(inv.Raw, "token") {
		t.Fatalf("invite = %s", inv.Raw)
	}
	l := do(t, h, tok, req{Method: "GET", Path: "/v1/users/invitations"}, 200)
	if items := l.Items(); len(items) != 1 || items[0]["id"] != inv.Str("id") || strings.Contains(l.Raw, "token") {
		t.Fatalf("invitations = %s", l.Raw)
	}
	expectProblem(t, h, tok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "carol@example.test", "role": "member"}}, 409, "invitation_exists")
	expectProblem(t, h, tok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "ada@acme.test", "role": "member"}}, 409, "already_member")

	raw := inviteToken(t, f, owner.TenantID)
	accept := func(body map[string]any) req { return req{Method: "POST", Path: "/v1/invitations/accept", Body: body} }
	res := expectProblem(t, h, "", accept(map[string]any{"token": raw}), 422, "validation_failed")
	if !slices.Equal(fields(res), []string{"password"}) {
		t.Fatalf("accept without a password: %s", res.Raw)
	}
	for _, pw := range []string{"short", "password1234"} {
		res = expectProblem(t, h, "", accept(map[string]any{"token": raw, "password": pw}), 422, "validation_failed")
		if !slices.Equal(fields(res), []string{"password"}) {
			t.Fatalf("accept with password %q: %s", pw, res.Raw)
		}
	}
	acc := do(t, h, "", accept(map[string]any{"token": raw, "name": "Carol", "password": newPassword}), 200)
	tenant, _ := acc.Body["tenant"].(map[string]any)
	if tenant["id"] != owner.TenantID.String() || tenant["slug"] != "acme" || tenant["role"] != "admin" ||
		acc.Str("access_token") == "" || acc.Str("refresh_token") == "" || acc.Str("token_type") != "Bearer" ||
		acc.Body["expires_in"] != float64(900) || acc.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("accept = %s", acc.Raw)
	}
	// The new member's access token works on this function.
	me := do(t, h, acc.Str("access_token"), req{Method: "GET", Path: "/v1/users/me"}, 200)
	if me.Str("email") != "carol@example.test" || me.Str("name") != "Carol" || me.Str("role") != "admin" {
		t.Fatalf("me as the new member = %s", me.Raw)
	}
	do(t, h, acc.Str("access_token"), req{Method: "GET", Path: "/v1/users/invitations"}, 200)

	// Single use; and no longer listed.
	expectProblem(t, h, "", accept(map[string]any{"token": raw, "password": newPassword}), 404, "invitation_not_found")
	if l := do(t, h, tok, req{Method: "GET", Path: "/v1/users/invitations"}, 200); len(l.Items()) != 0 {
		t.Fatalf("invitations after accepting = %s", l.Raw)
	}

	// Ada, who proved her email, is invited to a second organization: her password, or a token of hers, proves
	// her. (An unverified identity is claimed by the acceptor instead: see shared/members.)
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.identities SET email_verified_at = now() WHERE email = 'ada@acme.test'`); err != nil {
		t.Fatal(err)
	}
	globex := f.SignUp(t, "globex", "hank@globex.test")
	gtok := f.Token(t, globex)
	do(t, h, gtok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "ada@acme.test", "role": "viewer"}}, 201)
	raw = inviteToken(t, f, globex.TenantID)
	expectProblem(t, h, "", accept(map[string]any{"token": raw}), 401, "invalid_credentials")
	expectProblem(t, h, "", accept(map[string]any{"token": raw, "password": "not her password at all"}), 401, "invalid_credentials")
	expectProblem(t, h, acc.Str("access_token"), accept(map[string]any{"token": raw}), 401, "invalid_credentials") // Carol's token
	acc = do(t, h, tok, accept(map[string]any{"token": raw}), 200)
	if tenant, _ := acc.Body["tenant"].(map[string]any); tenant["slug"] != "globex" || tenant["role"] != "viewer" {
		t.Fatalf("accept with Ada's bearer = %s", acc.Raw)
	}
	// The other path: a second invitation accepted with the password.
	do(t, h, gtok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "carol@example.test", "role": "member"}}, 201)
	do(t, h, "", accept(map[string]any{"token": inviteToken(t, f, globex.TenantID), "password": newPassword}), 200)
	if l := do(t, h, gtok, req{Method: "GET", Path: "/v1/users?role=viewer"}, 200); !slices.Equal(emails(l), []string{"ada@acme.test"}) {
		t.Fatalf("globex viewers = %s", l.Raw)
	}
}

func TestInvitationsThatNoLongerWork(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	tok := f.Token(t, owner)
	invite := func(email string) (id, raw string) {
		t.Helper()
		inv := do(t, h, tok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": email, "role": "member"}}, 201)
		return inv.Str("id"), inviteToken(t, f, owner.TenantID)
	}
	accept := req{Method: "POST", Path: "/v1/invitations/accept"}
	withToken := func(raw string) req {
		r := accept
		r.Body = map[string]any{"token": raw, "password": newPassword}
		return r
	}

	// Unknown.
	expectProblem(t, h, "", withToken("not-a-token"), 404, "invitation_not_found")

	// Revoked.
	id, raw := invite("revoked@example.test")
	do(t, h, tok, req{Method: "DELETE", Path: "/v1/users/invitations/" + id}, 204)
	expectProblem(t, h, "", withToken(raw), 404, "invitation_not_found")
	expectProblem(t, h, tok, req{Method: "DELETE", Path: "/v1/users/invitations/" + id}, 404, "not_found")

	// Expired (the row's expiry moved into the past).
	id, raw = invite("expired@example.test")
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	expectProblem(t, h, "", withToken(raw), 404, "invitation_not_found")
	if l := do(t, h, tok, req{Method: "GET", Path: "/v1/users/invitations"}, 200); len(l.Items()) != 0 {
		t.Fatalf("expired invitation listed: %s", l.Raw)
	}
	// It does not block a new invitation, which works.
	_, raw = invite("expired@example.test")
	do(t, h, "", withToken(raw), 200)

	// A suspended organization.
	_, raw = invite("late@example.test")
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, owner.TenantID); err != nil {
		t.Fatal(err)
	}
	expectProblem(t, h, "", withToken(raw), 403, "tenant_suspended")
}

func TestRolesTheLastOwnerAndRemoval(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	otok := f.Token(t, owner)
	admin := f.Join(t, owner.TenantID, "admin")
	atok := f.Token(t, admin)
	member := f.Join(t, owner.TenantID, "member")
	role := func(id uuid.UUID, r string) req {
		return req{Method: "PUT", Path: "/v1/users/" + id.String() + "/role", Body: map[string]any{"role": r}}
	}
	remove := func(id uuid.UUID) req { return req{Method: "DELETE", Path: "/v1/users/" + id.String()} }

	expectProblem(t, h, otok, role(owner.IdentityID, "admin"), 409, "last_owner")
	expectProblem(t, h, otok, remove(owner.IdentityID), 409, "last_owner")
	expectProblem(t, h, atok, role(member.IdentityID, "owner"), 403, "forbidden")
	expectProblem(t, h, atok, role(admin.IdentityID, "owner"), 403, "forbidden")
	expectProblem(t, h, atok, role(owner.IdentityID, "member"), 403, "forbidden")
	expectProblem(t, h, atok, remove(owner.IdentityID), 403, "forbidden")
	res := expectProblem(t, h, otok, role(member.IdentityID, "superuser"), 422, "validation_failed")
	if !slices.Equal(fields(res), []string{"role"}) {
		t.Fatalf("invalid role: %s", res.Raw)
	}
	expectProblem(t, h, otok, role(uuid.New(), "admin"), 404, "not_found")
	expectProblem(t, h, otok, remove(uuid.New()), 404, "not_found")

	m := do(t, h, atok, role(member.IdentityID, "viewer"), 200)
	if m.Str("id") != member.IdentityID.String() || m.Str("role") != "viewer" || m.Str("email") == "" {
		t.Fatalf("change role = %s", m.Raw)
	}
	// With a second owner, the first may step down, and the second is then the last.
	do(t, h, otok, role(admin.IdentityID, "owner"), 200)
	do(t, h, otok, role(owner.IdentityID, "admin"), 200)
	// Both changed roles: the tokens minted before are stale, fresh ones carry the new roles.
	expectProblem(t, h, atok, role(admin.IdentityID, "member"), 401, "token_stale")
	expectProblem(t, h, otok, role(admin.IdentityID, "member"), 401, "token_stale")
	atok = f.Token(t, token.Principal{IdentityID: admin.IdentityID, TenantID: owner.TenantID, Role: "owner"})
	expectProblem(t, h, atok, role(admin.IdentityID, "member"), 409, "last_owner")
	expectProblem(t, h, atok, remove(admin.IdentityID), 409, "last_owner")
	// Even a token that names owner in Ada's current session, the directory says admin: she may no longer
	// touch owners.
	otok = f.Token(t, owner)
	expectProblem(t, h, otok, role(admin.IdentityID, "member"), 403, "forbidden")

	// Removing a member revokes their sessions in this organization.
	ctx := context.Background()
	family := uuid.New()
	if _, err := f.DB.Owner.Exec(ctx, `INSERT INTO directory.refresh_token_families (id, identity_id, tenant_id) VALUES ($1, $2, $3)`,
		family, member.IdentityID, owner.TenantID); err != nil {
		t.Fatal(err)
	}
	do(t, h, otok, remove(member.IdentityID), 204)
	var revoked bool
	if err := f.DB.Owner.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM directory.refresh_token_families WHERE id = $1`, family).Scan(&revoked); err != nil || !revoked {
		t.Fatalf("the removed member's refresh-token family is not revoked (%v)", err)
	}
	expectProblem(t, h, otok, remove(member.IdentityID), 404, "not_found")
	// A token of the removed member, even one minted after the removal, opens nothing.
	expectProblem(t, h, f.Token(t, member), req{Method: "GET", Path: "/v1/users/me"}, 401, "invalid_token")

	// Anyone may leave, a viewer included; afterwards their token can change nothing.
	viewer := f.Join(t, owner.TenantID, "viewer")
	vtok := f.Token(t, viewer)
	do(t, h, vtok, remove(viewer.IdentityID), 204)
	expectProblem(t, h, vtok, remove(viewer.IdentityID), 401, "invalid_token")

	var trail string
	if err := f.DB.Owner.QueryRow(ctx, `SELECT string_agg(type, ',' ORDER BY id) FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE 'user.%'`,
		owner.TenantID).Scan(&trail); err != nil {
		t.Fatal(err)
	}
	if trail != "user.role_changed,user.role_changed,user.role_changed,user.removed,user.removed" {
		t.Fatalf("events %s", trail)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	otok := f.Token(t, owner)
	target := f.Join(t, owner.TenantID, "member")
	inv := do(t, h, otok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "x@example.test", "role": "member"}}, 201).Str("id")

	for _, r := range []string{"member", "viewer"} {
		tok := f.Token(t, f.Join(t, owner.TenantID, r))
		for _, rq := range []req{
			{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "y@example.test", "role": "viewer"}},
			{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "y@example.test", "role": "viewer"}},
			{Method: "GET", Path: "/v1/users/invitations"},
			{Method: "DELETE", Path: "/v1/users/invitations/" + inv},
			{Method: "PUT", Path: "/v1/users/" + target.IdentityID.String() + "/role", Body: map[string]any{"role": "viewer"}},
			{Method: "DELETE", Path: "/v1/users/" + target.IdentityID.String()},
		} {
			expectProblem(t, h, tok, rq, 403, "forbidden")
		}
		// Every role reads the members and itself.
		do(t, h, tok, req{Method: "GET", Path: "/v1/users"}, 200)
		do(t, h, tok, req{Method: "GET", Path: "/v1/users/me"}, 200)
		do(t, h, tok, req{Method: "PUT", Path: "/v1/users/me", Body: map[string]any{"name": "Renamed " + r}}, 200)
	}
	// An admin may manage members but not owners.
	atok := f.Token(t, f.Join(t, owner.TenantID, "admin"))
	expectProblem(t, h, atok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "o@example.test", "role": "owner"}}, 403, "forbidden")
	expectProblem(t, h, atok, req{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "o@example.test", "role": "owner"}}, 403, "forbidden")
	do(t, h, atok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "a@example.test", "role": "admin"}}, 201)
	do(t, h, atok, req{Method: "DELETE", Path: "/v1/users/invitations/" + inv}, 204)
	do(t, h, otok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "o@example.test", "role": "owner"}}, 201)

	// Without a token, or with a role the table does not know.
	for _, rq := range []req{{Method: "GET", Path: "/v1/users"}, {Method: "GET", Path: "/v1/users/me"}, {Method: "POST", Path: "/v1/users/invite"}} {
		expectProblem(t, h, "", rq, 401, "unauthenticated")
	}
	odd := f.Token(t, token.Principal{IdentityID: owner.IdentityID, TenantID: owner.TenantID, Role: "superuser"})
	expectProblem(t, h, odd, req{Method: "GET", Path: "/v1/users"}, 403, "forbidden")

	// A suspended organization answers 403 everywhere.
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, owner.TenantID); err != nil {
		t.Fatal(err)
	}
	expectProblem(t, h, otok, req{Method: "GET", Path: "/v1/users"}, 403, "tenant_suspended")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	tok := f.Token(t, owner)
	id := owner.IdentityID.String()
	tests := []struct {
		name   string
		r      req
		status int
		code   string
		fields []string
	}{
		{"list: bad role", req{Method: "GET", Path: "/v1/users?role=king"}, 422, "validation_failed", []string{"role"}},
		{"list: bad limit and role", req{Method: "GET", Path: "/v1/users?limit=0&role=king"}, 422, "validation_failed", []string{"limit", "role"}},
		{"list: bad cursor", req{Method: "GET", Path: "/v1/users?cursor=zzz"}, 422, "invalid_cursor", []string{"cursor"}},
		{"list: long q", req{Method: "GET", Path: "/v1/users?q=" + strings.Repeat("q", 201)}, 422, "validation_failed", []string{"q"}},
		{"list: invalid UTF-8 q", req{Method: "GET", Path: "/v1/users?q=%FF"}, 422, "validation_failed", []string{"q"}},
		{"add: empty object", req{Method: "POST", Path: "/v1/users", Body: map[string]any{}}, 422, "validation_failed", []string{"email", "role"}},
		{"add: long name", req{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "a@b.test", "role": "member", "name": strings.Repeat("n", 201)}}, 422, "validation_failed", []string{"name"}},
		{"add: unknown field", req{Method: "POST", Path: "/v1/users", Body: `{"email":"a@b.test","role":"member","tenant_id":"x"}`}, 422, "validation_failed", []string{"tenant_id"}},
		{"add: malformed", req{Method: "POST", Path: "/v1/users", Body: `{"email"`}, 400, "malformed_json", nil},
		{"me: blank name", req{Method: "PUT", Path: "/v1/users/me", Body: map[string]any{"name": "  "}}, 422, "validation_failed", []string{"name"}},
		{"me: long name", req{Method: "PUT", Path: "/v1/users/me", Body: map[string]any{"name": strings.Repeat("n", 201)}}, 422, "validation_failed", []string{"name"}},
		{"me: NUL", req{Method: "PUT", Path: "/v1/users/me", Body: map[string]any{"name": "a\x00b"}}, 422, "validation_failed", []string{"name"}},
		{"me: wrong type", req{Method: "PUT", Path: "/v1/users/me", Body: `{"name":1}`}, 422, "validation_failed", []string{"name"}},
		{"invite: bad email and role", req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "nope", "role": "Admin"}}, 422, "validation_failed", []string{"email", "role"}},
		{"invite: empty body", req{Method: "POST", Path: "/v1/users/invite", Body: ""}, 400, "empty_body", nil},
		{"invitations: bad limit", req{Method: "GET", Path: "/v1/users/invitations?limit=101"}, 422, "validation_failed", []string{"limit"}},
		{"revoke: not a uuid", req{Method: "DELETE", Path: "/v1/users/invitations/42"}, 404, "not_found", nil},
		{"role: not a uuid", req{Method: "PUT", Path: "/v1/users/me/role", Body: map[string]any{"role": "admin"}}, 404, "not_found", nil},
		{"role: missing", req{Method: "PUT", Path: "/v1/users/" + id + "/role", Body: map[string]any{}}, 422, "validation_failed", []string{"role"}},
		{"remove: not a uuid", req{Method: "DELETE", Path: "/v1/users/me"}, 404, "not_found", nil},
		{"accept: no token", req{Method: "POST", Path: "/v1/invitations/accept", Body: map[string]any{"password": newPassword}}, 422, "validation_failed", []string{"token"}},
		{"accept: unknown field", req{Method: "POST", Path: "/v1/invitations/accept", Body: `{"token":"x","email":"a@b.test"}`}, 422, "validation_failed", []string{"email"}},
		{"accept: long name", req{Method: "POST", Path: "/v1/invitations/accept", Body: map[string]any{"token": "x", "name": strings.Repeat("n", 201)}}, 422, "validation_failed", []string{"name"}},
		{"accept: xml", req{Method: "POST", Path: "/v1/invitations/accept", Body: "<x/>", Header: map[string]string{"Content-Type": "application/xml"}}, 415, "unsupported_media_type", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := expectProblem(t, h, tok, tc.r, tc.status, tc.code)
			if got := fields(res); !slices.Equal(got, tc.fields) {
				t.Fatalf("failing fields %v, want %v (%s)", got, tc.fields, res.Raw)
			}
		})
	}
}

// TestAnotherTenantSeesNothing: tenant B's owner, on every users endpoint, with tenant A's ids: 404, and B's
// lists show none of A's members or invitations. A is unchanged afterwards.
func TestAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	a := f.SignUp(t, "acme", "ada@acme.test")
	b := f.SignUp(t, "globex", "hank@globex.test")
	atok, btok := f.Token(t, a), f.Token(t, b)
	aMember := do(t, h, atok, req{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "bob@acme.test", "name": "Bob", "role": "member"}}, 201).Str("id")
	inv := do(t, h, atok, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "carol@acme.test", "role": "admin"}}, 201).Str("id")

	for _, id := range []string{aMember, a.IdentityID.String()} {
		for _, r := range []req{
			{Method: "PUT", Path: "/v1/users/" + id + "/role", Body: map[string]any{"role": "viewer"}},
			{Method: "DELETE", Path: "/v1/users/" + id},
		} {
			expectProblem(t, h, btok, r, 404, "not_found")
		}
	}
	expectProblem(t, h, btok, req{Method: "DELETE", Path: "/v1/users/invitations/" + inv}, 404, "not_found")
	for _, path := range []string{"/v1/users", "/v1/users?q=acme", "/v1/users?q=bob", "/v1/users?role=member"} {
		l := do(t, h, btok, req{Method: "GET", Path: path}, 200)
		for _, it := range l.Items() {
			if it["email"] != "hank@globex.test" {
				t.Fatalf("B's %s shows %s", path, l.Raw)
			}
		}
	}
	if l := do(t, h, btok, req{Method: "GET", Path: "/v1/users/invitations"}, 200); len(l.Items()) != 0 {
		t.Fatalf("B's invitations: %s", l.Raw)
	}
	if me := do(t, h, btok, req{Method: "GET", Path: "/v1/users/me"}, 200); me.Str("email") != "hank@globex.test" {
		t.Fatalf("B's me: %s", me.Raw)
	}
	// A token naming A's tenant with B's identity (forged around the role check) is refused at the door: the
	// session check finds no membership behind it.
	forged := f.Token(t, token.Principal{IdentityID: b.IdentityID, TenantID: a.TenantID, Role: "owner"})
	expectProblem(t, h, forged, req{Method: "GET", Path: "/v1/users/me"}, 401, "invalid_token")
	expectProblem(t, h, forged, req{Method: "PUT", Path: "/v1/users/me", Body: map[string]any{"name": "Mallory"}}, 401, "invalid_token")
	expectProblem(t, h, forged, req{Method: "PUT", Path: "/v1/users/" + aMember + "/role", Body: map[string]any{"role": "admin"}}, 401, "invalid_token")
	expectProblem(t, h, forged, req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "m@evil.test", "role": "owner"}}, 401, "invalid_token")
	expectProblem(t, h, forged, req{Method: "DELETE", Path: "/v1/users/" + aMember}, 401, "invalid_token")

	l := do(t, h, atok, req{Method: "GET", Path: "/v1/users"}, 200)
	if got := strings.Join(emails(l), ","); got != "ada@acme.test,bob@acme.test" {
		t.Fatalf("A's members after B's attempts: %s", got)
	}
	for _, it := range l.Items() {
		if it["email"] == "bob@acme.test" && it["role"] != "member" {
			t.Fatalf("A's member changed: %s", l.Raw)
		}
	}
	if l := do(t, h, atok, req{Method: "GET", Path: "/v1/users/invitations"}, 200); len(l.Items()) != 1 {
		t.Fatalf("A's invitations after B's attempts: %s", l.Raw)
	}
}

// TestEveryRouteAnswers: every route of the function is served, secured ones asking for a token.
func TestEveryRouteAnswers(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	id := uuid.NewString()
	for _, r := range []req{
		{Method: "GET", Path: "/v1/users"}, {Method: "POST", Path: "/v1/users"},
		{Method: "GET", Path: "/v1/users/me"}, {Method: "PUT", Path: "/v1/users/me"},
		{Method: "POST", Path: "/v1/users/invite"}, {Method: "GET", Path: "/v1/users/invitations"},
		{Method: "DELETE", Path: "/v1/users/invitations/" + id},
		{Method: "PUT", Path: fmt.Sprintf("/v1/users/%s/role", id)}, {Method: "DELETE", Path: "/v1/users/" + id},
	} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 401, "unauthenticated")
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/invitations/accept"}), 400, "empty_body")
}

// TestCreatingPostsAreIdempotent: a retried add or invite with the same Idempotency-Key gets the first answer
// again instead of already_member or invitation_exists, and creates nothing more.
func TestCreatingPostsAreIdempotent(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	tok := f.Token(t, owner)
	for _, r := range []req{
		{Method: "POST", Path: "/v1/users", Body: map[string]any{"email": "bob@acme.test", "role": "member"}, Header: map[string]string{"Idempotency-Key": "add-bob"}},
		{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "carol@acme.test", "role": "member"}, Header: map[string]string{"Idempotency-Key": "invite-carol"}},
	} {
		first := do(t, h, tok, r, 201)
		again := do(t, h, tok, r, 201)
		if again.Raw != first.Raw || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s retried: %s (replayed %q), want %s", r.Path, again.Raw, again.Header.Get("Idempotent-Replayed"), first.Raw)
		}
		r.Header = nil
		expectProblem(t, h, tok, r, 409, map[string]string{"/v1/users": "already_member", "/v1/users/invite": "invitation_exists"}[r.Path])
	}
	var events int
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE 'user.%'`, owner.TenantID).Scan(&events); err != nil || events != 2 {
		t.Fatalf("%d user events (%v), want 2", events, err)
	}
}
