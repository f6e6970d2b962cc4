package auth

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/members"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

const registerPassword = "plum tree quantum 42"

func registerReq(body any) servicetest.Request {
	return servicetest.Request{Method: "POST", Path: "/v1/auth/register", Body: body}
}

func registerLogin(email, password, tenant string) servicetest.Request {
	return servicetest.Request{Method: "POST", Path: "/v1/auth/login", Body: map[string]any{"email": email, "password": password, "tenant": tenant}}
}

func registerFields(res servicetest.Response) []string {
	var out []string
	errs, _ := res.Body["errors"].([]any)
	for _, e := range errs {
		if f, _ := e.(map[string]any)["field"].(string); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// registerInvite invites email into owner's organization through the members store and returns the raw token
// from the outbox, where the notifier will read it.
func registerInvite(t *testing.T, f *servicetest.Fixture, owner token.Principal, email, role string) string {
	t.Helper()
	ctx := context.Background()
	ids := identity.New(f.Env.DB.Directory, identity.Params{Memory: 64, Time: 1, Threads: 1}, f.Env.Config.Token.RefreshTTL)
	store := members.New(f.Env.DB.Directory, f.Env.DB.Tenants, ids, f.Env.Log)
	if _, err := store.Invite(ctx, owner.TenantID, owner.IdentityID, members.InviteInput{Email: email, Role: role}, f.Env.Now()); err != nil {
		t.Fatal(err)
	}
	var tok string
	if err := f.DB.Owner.QueryRow(ctx, `SELECT data->>'token' FROM tenant.outbox WHERE tenant_id = $1 AND type = 'user.invited'
		ORDER BY id DESC LIMIT 1`, owner.TenantID).Scan(&tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRegisterWithAnOrganization(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	verifier := token.NewVerifier(f.Env.Keys, servicetest.Issuer, servicetest.Audience)
	body := map[string]any{
		"organization": map[string]any{"name": "Acme", "slug": "acme"},
		"email":        "ada@acme.test", "password": registerPassword, "name": "Ada",
	}
	res := servicetest.Expect(t, servicetest.Do(t, h, registerReq(body)), http.StatusCreated)
	tenant, _ := res.Body["tenant"].(map[string]any)
	if tenant["slug"] != "acme" || tenant["name"] != "Acme" || tenant["status"] != "active" || res.Header.Get("Location") != "/v1/tenants/me" ||
		res.Str("refresh_token") == "" || res.Str("token_type") != "Bearer" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("register = %s", res.Raw)
	}
	p, err := verifier.Verify(res.Str("access_token"), f.Env.Now())
	if err != nil || p.TenantID.String() != tenant["id"] || p.Role != "owner" {
		t.Fatalf("access token %+v (%v)", p, err)
	}
	servicetest.Expect(t, servicetest.Do(t, h, registerLogin("ada@acme.test", registerPassword, "acme")), http.StatusOK)

	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(body)), 409, "slug_taken")
	other := map[string]any{"organization": map[string]any{"name": "Initech", "slug": "initech"}, "email": "ada@acme.test", "password": "not ada's password at all"}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(other)), 401, "invalid_credentials")

	// Failing fields are named after this body, not after POST /v1/tenants'.
	res = servicetest.Do(t, h, registerReq(map[string]any{
		"organization": map[string]any{"name": "", "slug": "A"}, "email": "nope", "password": "password1234",
	}))
	servicetest.ExpectProblem(t, res, 422, "validation_failed")
	if got := registerFields(res); !slices.Equal(got, []string{"organization.name", "organization.slug", "email", "password"}) {
		t.Fatalf("failing fields %v (%s)", got, res.Raw)
	}
	res = servicetest.Do(t, h, registerReq(`{"organization":{"name":"X","slug":"xyz","plan":"gold"},"email":"a@b.test","password":"x"}`))
	servicetest.ExpectProblem(t, res, 422, "validation_failed")
	if got := registerFields(res); !slices.Equal(got, []string{"organization.plan"}) {
		t.Fatalf("unknown nested field: %s", res.Raw)
	}
}

func TestRegisterThroughAnInvitation(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	verifier := token.NewVerifier(f.Env.Keys, servicetest.Issuer, servicetest.Audience)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	raw := registerInvite(t, f, owner, "carol@example.test", "member")

	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"no password", map[string]any{"invitation": raw, "name": "Carol"}, []string{"password"}},
		{"common password", map[string]any{"invitation": raw, "password": "password1234"}, []string{"password"}},
		{"email given", map[string]any{"invitation": raw, "email": "carol@example.test", "password": registerPassword}, []string{"email"}},
		{"empty invitation", map[string]any{"invitation": " ", "password": registerPassword}, []string{"invitation"}},
	} {
		res := servicetest.Do(t, h, registerReq(tc.body))
		servicetest.ExpectProblem(t, res, 422, "validation_failed")
		if got := registerFields(res); !slices.Equal(got, tc.fields) {
			t.Fatalf("%s: failing fields %v, want %v", tc.name, got, tc.fields)
		}
	}
	res := servicetest.Expect(t, servicetest.Do(t, h, registerReq(map[string]any{"invitation": raw, "name": "Carol", "password": registerPassword})), http.StatusCreated)
	tenant, _ := res.Body["tenant"].(map[string]any)
	if tenant["id"] != owner.TenantID.String() || tenant["slug"] != "acme" || tenant["role"] != "member" || res.Str("refresh_token") == "" {
		t.Fatalf("register = %s", res.Raw)
	}
	p, err := verifier.Verify(res.Str("access_token"), f.Env.Now())
	if err != nil || p.TenantID != owner.TenantID || p.Role != "member" || p.IdentityID == uuid.Nil {
		t.Fatalf("access token %+v (%v)", p, err)
	}
	servicetest.Expect(t, servicetest.Do(t, h, registerLogin("carol@example.test", registerPassword, "acme")), http.StatusOK)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(map[string]any{"invitation": raw, "password": registerPassword})), 404, "invitation_not_found")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(map[string]any{"invitation": "nope", "password": registerPassword})), 404, "invitation_not_found")

	// An existing identity that proved its email joins with its own password (an unverified one is claimed by
	// the acceptor instead: TestInvitationClaimsAnUnverifiedIdentity).
	raw = registerInvite(t, f, owner, "hank@globex.test", "viewer")
	f.SignUp(t, "globex", "hank@globex.test")
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.identities SET email_verified_at = now() WHERE email = 'hank@globex.test'`); err != nil {
		t.Fatal(err)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(map[string]any{"invitation": raw, "password": "not hank's password"})), 401, "invalid_credentials")
	res = servicetest.Expect(t, servicetest.Do(t, h, registerReq(map[string]any{"invitation": raw, "password": servicetest.Password})), http.StatusCreated)
	if tenant, _ := res.Body["tenant"].(map[string]any); tenant["role"] != "viewer" {
		t.Fatalf("register as an existing identity = %s", res.Raw)
	}
}

func TestRegisterTakesExactlyOnePath(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	for _, tc := range []struct {
		name string
		body any
	}{
		{"neither", map[string]any{"email": "a@b.test", "password": registerPassword}},
		{"both", map[string]any{"invitation": "x", "organization": map[string]any{"name": "A", "slug": "abc"}, "password": registerPassword}},
		{"null invitation", `{"invitation":null,"password":"x"}`},
	} {
		res := servicetest.Do(t, h, registerReq(tc.body))
		servicetest.ExpectProblem(t, res, 422, "validation_failed")
		if got := registerFields(res); !slices.Equal(got, []string{"invitation", "organization"}) {
			t.Fatalf("%s: failing fields %v", tc.name, got)
		}
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(`{"invitation":`)), 400, "malformed_json")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, registerReq(`{"invitation":1}`)), 422, "validation_failed")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, servicetest.Request{Method: "POST", Path: "/v1/auth/register"}), 400, "empty_body")
}
