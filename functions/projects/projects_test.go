package projects

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

type req = servicetest.Request

func setup(t *testing.T) (http.Handler, *servicetest.Fixture) {
	t.Helper()
	f := servicetest.New(t)
	return New(f.Env), f
}

func TestProjectsCRUD(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.Member(t, "owner")
	tok := f.Token(t, owner)

	c := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": "Apollo", "description": "moon"}}), 201)
	id := c.Str("id")
	if c.Str("name") != "Apollo" || c.Str("created_by") != owner.IdentityID.String() || c.Header.Get("Location") != "/v1/projects/"+id {
		t.Fatalf("create = %s", c.Raw)
	}
	g := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}), 200)
	if g.Str("description") != "moon" {
		t.Fatalf("get = %s", g.Raw)
	}
	u := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/projects/" + id, Bearer: tok, Body: map[string]any{"name": "Artemis"}}), 200)
	if u.Str("name") != "Artemis" || u.Str("description") != "" {
		t.Fatalf("put replaces the whole project; got %s", u.Raw)
	}
	l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), 200)
	if items := l.Items(); len(items) != 1 || items[0]["id"] != id || l.Body["next_cursor"] != nil {
		t.Fatalf("list = %s", l.Raw)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/projects/" + id, Bearer: tok}), 204)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}), 404, "not_found")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/projects/" + id, Bearer: tok, Body: map[string]any{"name": "x"}}), 404, "not_found")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/projects/" + id, Bearer: tok}), 404, "not_found")
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/healthz"}), 200)
}

func TestProjectsRefuseBadInput(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	tok := f.Token(t, f.Member(t, "member"))
	tests := []struct {
		name   string
		r      req
		status int
		code   string
		field  string
	}{
		{"missing name", req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"description": "d"}}, 422, "validation_failed", "name"},
		{"blank name", req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": "   "}}, 422, "validation_failed", "name"},
		{"name too long", req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": strings.Repeat("n", 201)}}, 422, "validation_failed", "name"},
		{"unknown field", req{Method: "POST", Path: "/v1/projects", Body: `{"name":"a","tenant_id":"x"}`}, 422, "validation_failed", "tenant_id"},
		{"wrong type", req{Method: "POST", Path: "/v1/projects", Body: `{"name":["a"]}`}, 422, "validation_failed", "name"},
		{"malformed", req{Method: "POST", Path: "/v1/projects", Body: `{"name"`}, 400, "malformed_json", ""},
		{"bad limit", req{Method: "GET", Path: "/v1/projects?limit=0"}, 422, "validation_failed", "limit"},
		{"bad cursor", req{Method: "GET", Path: "/v1/projects?cursor=zzz"}, 422, "validation_failed", "cursor"},
		{"id not a uuid", req{Method: "GET", Path: "/v1/projects/42"}, 404, "not_found", ""},
		{"update with bad body", req{Method: "PUT", Path: "/v1/projects/" + uuid.NewString(), Body: `{"name":""}`}, 422, "validation_failed", "name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Bearer = tok
			res := servicetest.Do(t, h, tc.r)
			servicetest.ExpectProblem(t, res, tc.status, tc.code)
			if tc.field != "" {
				errs, _ := res.Body["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
					t.Fatalf("failing fields %v, want %s", res.Body["errors"], tc.field)
				}
			}
		})
	}
}

func TestProjectsPermissions(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	viewer := f.Member(t, "viewer")
	vt := f.Token(t, viewer)
	owner := f.Join(t, viewer.TenantID, "owner")
	id := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: f.Token(t, owner), Body: map[string]any{"name": "p"}}), 201).Str("id")

	for _, r := range []req{
		{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": "no"}},
		{Method: "PUT", Path: "/v1/projects/" + id, Body: map[string]any{"name": "no"}},
		{Method: "DELETE", Path: "/v1/projects/" + id},
	} {
		r.Bearer = vt
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 403, "forbidden")
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: vt}), 200)
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: vt}), 200)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects"}), 401, "unauthenticated")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: f.Token(t, token.Principal{IdentityID: viewer.IdentityID, TenantID: viewer.TenantID, Role: "superuser"})}), 403, "forbidden")
}

func TestSuspendedOrganization(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	p := f.Member(t, "owner")
	tok := f.Token(t, p)
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), 200)
	if _, err := f.DB.Owner.Exec(t.Context(), `UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, p.TenantID); err != nil {
		t.Fatal(err)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), 403, "tenant_suspended")
	for _, stmt := range []string{`DELETE FROM directory.memberships WHERE tenant_id = $1`, `DELETE FROM directory.tenants WHERE id = $1`} {
		if _, err := f.DB.Owner.Exec(t.Context(), stmt, p.TenantID); err != nil {
			t.Fatal(err)
		}
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), 401, "invalid_token")
}

// TestAnotherTenantSeesNothing: tenant B's token on tenant A's project id is 404 on every route, and A's
// project is unchanged afterwards.
func TestAnotherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	a, b := f.Token(t, f.Member(t, "owner")), f.Token(t, f.Member(t, "owner"))
	id := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: a, Body: map[string]any{"name": "A's plans"}}), 201).Str("id")

	for _, r := range []req{
		{Method: "GET", Path: "/v1/projects/" + id},
		{Method: "PUT", Path: "/v1/projects/" + id, Body: map[string]any{"name": "taken over"}},
		{Method: "DELETE", Path: "/v1/projects/" + id},
	} {
		r.Bearer = b
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 404, "not_found")
	}
	if l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: b}), 200); len(l.Items()) != 0 {
		t.Fatalf("B lists %s", l.Raw)
	}
	if g := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: a}), 200); g.Str("name") != "A's plans" {
		t.Fatalf("A's project after B's attempts: %s", g.Raw)
	}
}

func TestCreateHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	tok := f.Token(t, f.Member(t, "member"))
	create := req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": "once"}, Header: map[string]string{"Idempotency-Key": "create-once"}}
	first := servicetest.Expect(t, servicetest.Do(t, h, create), 201)
	again := servicetest.Expect(t, servicetest.Do(t, h, create), 201)
	if again.Str("id") != first.Str("id") || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry created %s (replayed %q), want the first project %s", again.Str("id"), again.Header.Get("Idempotent-Replayed"), first.Str("id"))
	}
	create.Body = map[string]any{"name": "twice"}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, create), 422, "idempotency_key_reused")
	if l := servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}); len(l.Items()) != 1 {
		t.Fatalf("%d projects after retries, want 1", len(l.Items()))
	}
}
