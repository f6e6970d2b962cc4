package projects

import (
	"net/http"
	"net/url"
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
	if c.Str("name") != "Apollo" || c.Str("created_by") != owner.IdentityID.String() || c.Header.Get("Location") != "/v1/projects/"+id ||
		c.Str("status") != "active" || c.Body["archived"] != false || c.Body["archived_at"] != nil {
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
	u = servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/projects/" + id, Bearer: tok, Body: map[string]any{"name": "Artemis", "status": "completed", "archived": true}}), 200)
	if u.Str("status") != "completed" || u.Body["archived"] != true || u.Str("archived_at") == "" {
		t.Fatalf("complete and archive: %s", u.Raw)
	}
	if l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), 200); len(l.Items()) != 0 {
		t.Fatalf("archived projects are listed by default: %s", l.Raw)
	}
	if l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects?archived=true&status=completed", Bearer: tok}), 200); len(l.Items()) != 1 {
		t.Fatalf("archived=true: %s", l.Raw)
	}
	// Status and archived are kept when a PUT leaves them out.
	u = servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/projects/" + id, Bearer: tok, Body: map[string]any{"name": "Artemis", "archived": false}}), 200)
	if u.Str("status") != "completed" || u.Body["archived"] != false || u.Body["archived_at"] != nil {
		t.Fatalf("unarchive: %s", u.Raw)
	}
	l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), 200)
	if items := l.Items(); len(items) != 1 || items[0]["id"] != id || l.Body["next_cursor"] != nil {
		t.Fatalf("list = %s", l.Raw)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/projects/" + id, Bearer: tok}), 204)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}), 404, "not_found")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/projects/" + id, Bearer: tok, Body: map[string]any{"name": "x"}}), 404, "not_found")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/projects/" + id, Bearer: tok}), 404, "not_found")
	r := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects/" + id + "/restore", Bearer: tok}), 200)
	if r.Str("id") != id || r.Str("name") != "Artemis" {
		t.Fatalf("restore = %s", r.Raw)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}), 200)
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
		{"bad cursor", req{Method: "GET", Path: "/v1/projects?cursor=zzz"}, 422, "invalid_cursor", "cursor"},
		{"id not a uuid", req{Method: "GET", Path: "/v1/projects/42"}, 404, "not_found", ""},
		{"update with bad body", req{Method: "PUT", Path: "/v1/projects/" + uuid.NewString(), Body: `{"name":""}`}, 422, "validation_failed", "name"},
		{"bad status", req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": "a", "status": "done"}}, 422, "validation_failed", "status"},
		{"update with bad status", req{Method: "PUT", Path: "/v1/projects/" + uuid.NewString(), Body: map[string]any{"name": "a", "status": ""}}, 422, "validation_failed", "status"},
		{"archived not a bool", req{Method: "PUT", Path: "/v1/projects/" + uuid.NewString(), Body: `{"name":"a","archived":"yes"}`}, 422, "validation_failed", "archived"},
		{"list bad status", req{Method: "GET", Path: "/v1/projects?status=finished"}, 422, "validation_failed", "status"},
		{"list bad archived", req{Method: "GET", Path: "/v1/projects?archived=maybe"}, 422, "validation_failed", "archived"},
		{"list bad member", req{Method: "GET", Path: "/v1/projects?member=bob"}, 422, "validation_failed", "member"},
		{"list bad order", req{Method: "GET", Path: "/v1/projects?order=priority"}, 422, "validation_failed", "order"},
		{"list search too long", req{Method: "GET", Path: "/v1/projects?q=" + strings.Repeat("q", 201)}, 422, "validation_failed", "q"},
		{"restore id not a uuid", req{Method: "POST", Path: "/v1/projects/42/restore"}, 404, "not_found", ""},
		{"members of id not a uuid", req{Method: "GET", Path: "/v1/projects/42/members"}, 404, "not_found", ""},
		{"member id not a uuid", req{Method: "DELETE", Path: "/v1/projects/" + uuid.NewString() + "/members/42"}, 404, "not_found", ""},
		{"members bad limit", req{Method: "GET", Path: "/v1/projects/" + uuid.NewString() + "/members?limit=101"}, 422, "validation_failed", "limit"},
		{"members bad cursor", req{Method: "GET", Path: "/v1/projects/" + uuid.NewString() + "/members?cursor=zzz"}, 422, "invalid_cursor", "cursor"},
		{"add member bad body", req{Method: "POST", Path: "/v1/projects/" + uuid.NewString() + "/members", Body: map[string]any{"identity_id": "x", "role": "boss"}}, 422, "validation_failed", "identity_id"},
		{"add member unknown field", req{Method: "POST", Path: "/v1/projects/" + uuid.NewString() + "/members", Body: `{"identity_id":"x","role":"member","tenant_id":"y"}`}, 422, "validation_failed", "tenant_id"},
		{"set role bad role", req{Method: "PUT", Path: "/v1/projects/" + uuid.NewString() + "/members/" + uuid.NewString(), Body: map[string]any{"role": "viewer"}}, 422, "validation_failed", "role"},
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
		{Method: "POST", Path: "/v1/projects/" + id + "/restore"},
		{Method: "POST", Path: "/v1/projects/" + id + "/members", Body: map[string]any{"identity_id": owner.IdentityID.String(), "role": "member"}},
		{Method: "PUT", Path: "/v1/projects/" + id + "/members/" + owner.IdentityID.String(), Body: map[string]any{"role": "admin"}},
		{Method: "DELETE", Path: "/v1/projects/" + id + "/members/" + owner.IdentityID.String()},
	} {
		r.Bearer = vt
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 403, "forbidden")
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id + "/members", Bearer: vt}), 200)
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
	for _, stmt := range []string{`DELETE FROM directory.memberships WHERE tenant_id = $1`,
		`DELETE FROM directory.refresh_token_families WHERE tenant_id = $1`, `DELETE FROM directory.tenants WHERE id = $1`} {
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
	pa, pb := f.Member(t, "owner"), f.Member(t, "owner")
	a, b := f.Token(t, pa), f.Token(t, pb)
	id := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: a, Body: map[string]any{"name": "A's plans"}}), 201).Str("id")

	aMember := f.Join(t, pa.TenantID, "member")
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects/" + id + "/members", Bearer: a,
		Body: map[string]any{"identity_id": aMember.IdentityID.String(), "role": "member"}}), 201)
	gone := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: a, Body: map[string]any{"name": "A's deleted"}}), 201).Str("id")
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/projects/" + gone, Bearer: a}), 204)
	bMember := f.Join(t, pb.TenantID, "member")

	for _, r := range []req{
		{Method: "GET", Path: "/v1/projects/" + id},
		{Method: "PUT", Path: "/v1/projects/" + id, Body: map[string]any{"name": "taken over"}},
		{Method: "DELETE", Path: "/v1/projects/" + id},
		{Method: "POST", Path: "/v1/projects/" + gone + "/restore"},
		{Method: "POST", Path: "/v1/projects/" + id + "/restore"},
		{Method: "GET", Path: "/v1/projects/" + id + "/members"},
		{Method: "POST", Path: "/v1/projects/" + id + "/members", Body: map[string]any{"identity_id": bMember.IdentityID.String(), "role": "member"}},
		{Method: "POST", Path: "/v1/projects/" + id + "/members", Body: map[string]any{"identity_id": aMember.IdentityID.String(), "role": "admin"}},
		{Method: "PUT", Path: "/v1/projects/" + id + "/members/" + aMember.IdentityID.String(), Body: map[string]any{"role": "admin"}},
		{Method: "PUT", Path: "/v1/projects/" + id + "/members/" + aMember.IdentityID.String(), Body: map[string]any{"role": "member"}},
		{Method: "DELETE", Path: "/v1/projects/" + id + "/members/" + aMember.IdentityID.String()},
	} {
		r.Bearer = b
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 404, "not_found")
	}
	archived := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/projects", Bearer: a, Body: map[string]any{"name": "A's archive"}}), 201).Str("id")
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/projects/" + archived, Bearer: a, Body: map[string]any{"name": "A's archive", "archived": true}}), 200)
	for _, q := range []struct{ query, aSees string }{
		{"", id}, {"?archived=true", archived}, {"?q=plans", id}, {"?member=" + pa.IdentityID.String(), id}, {"?order=name", id}, {"?status=active", id},
	} {
		if l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects" + q.query, Bearer: b}), 200); len(l.Items()) != 0 {
			t.Fatalf("B lists %s with %s", l.Raw, q.query)
		}
		// The same query as A finds A's project: B's empty answer is the tenant wall, not a query that finds
		// nothing for anyone.
		l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects" + q.query, Bearer: a}), 200)
		if items := l.Items(); len(items) != 1 || items[0]["id"] != q.aSees {
			t.Fatalf("A lists %s with %q, want only its project %s", l.Raw, q.query, q.aSees)
		}
	}
	if m := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + id + "/members", Bearer: a}), 200); len(m.Items()) != 2 {
		t.Fatalf("A's members after B's attempts: %s", m.Raw)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects/" + gone, Bearer: a}), 404, "not_found")
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

// call sends r with bearer and expects status.
func call(t *testing.T, h http.Handler, bearer string, r req, status int) servicetest.Response {
	t.Helper()
	r.Bearer = bearer
	return servicetest.Expect(t, servicetest.Do(t, h, r), status)
}

// problem sends r with bearer and expects the problem status and code.
func problem(t *testing.T, h http.Handler, bearer string, r req, status int, code string) servicetest.Response {
	t.Helper()
	r.Bearer = bearer
	res := servicetest.Do(t, h, r)
	servicetest.ExpectProblem(t, res, status, code)
	return res
}

func names(res servicetest.Response) []string {
	var out []string
	for _, it := range res.Items() {
		out = append(out, it["name"].(string))
	}
	return out
}

func TestProjectsListFiltersSearchAndOrder(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	owner := f.Member(t, "owner")
	tok := f.Token(t, owner)
	teammate := f.Join(t, owner.TenantID, "member")
	ids := map[string]string{}
	for _, p := range []map[string]any{
		{"name": "Apollo"}, {"name": "gemini", "status": "on_hold"}, {"name": "Mercury", "status": "completed"},
		{"name": "artemis"}, {"name": "Skylab", "archived": true},
	} {
		ids[p["name"].(string)] = call(t, h, tok, req{Method: "POST", Path: "/v1/projects", Body: p}, 201).Str("id")
	}
	call(t, h, tok, req{Method: "POST", Path: "/v1/projects/" + ids["gemini"] + "/members", Body: map[string]any{"identity_id": teammate.IdentityID.String(), "role": "member"}}, 201)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", "artemis,Mercury,gemini,Apollo"},
		{"order=-created", "artemis,Mercury,gemini,Apollo"},
		{"order=created", "Apollo,gemini,Mercury,artemis"},
		{"order=name", "Apollo,artemis,gemini,Mercury"},
		{"order=-name", "Mercury,gemini,artemis,Apollo"},
		{"order=-updated", "artemis,Mercury,gemini,Apollo"},
		{"status=on_hold", "gemini"},
		{"status=active&order=name", "Apollo,artemis"},
		{"archived=true", "Skylab"},
		{"archived=false&status=completed", "Mercury"},
		{"member=" + teammate.IdentityID.String(), "gemini"},
		{"member=" + owner.IdentityID.String() + "&order=name", "Apollo,artemis,gemini,Mercury"},
		{"q=" + url.QueryEscape("ER"), "Mercury"},
		{"q=a&order=name", "Apollo,artemis"},
		{"q=sky&archived=true", "Skylab"},
		{"q=nothing", ""},
	} {
		res := call(t, h, tok, req{Method: "GET", Path: "/v1/projects?" + tc.query}, 200)
		if got := strings.Join(names(res), ","); got != tc.want {
			t.Errorf("?%s = %s, want %s", tc.query, got, tc.want)
		}
	}
}

// TestProjectsPaginateEveryRowOnce walks GET /v1/projects page by page while projects are created between
// the pages, by name and newest first: every project that existed is seen exactly once, none twice; and a
// cursor of one ordering is refused by another.
func TestProjectsPaginateEveryRowOnce(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"name", "-created", "-name", "updated"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			h, f := setup(t)
			tok := f.Token(t, f.Member(t, "member"))
			want := map[string]bool{}
			for i := range 17 {
				want[call(t, h, tok, req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": []string{"b", "A", "c", "a"}[i%4]}}, 201).Str("id")] = true
			}
			seen := map[string]int{}
			path := "/v1/projects?limit=4&order=" + order
			for i := 0; ; i++ {
				res := call(t, h, tok, req{Method: "GET", Path: path}, 200)
				for _, it := range res.Items() {
					seen[it["id"].(string)]++
				}
				call(t, h, tok, req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": []string{"0", "a", "B", "zz"}[i%4]}}, 201)
				next, _ := res.Body["next_cursor"].(string)
				if next == "" {
					break
				}
				if i == 0 {
					other := "name"
					if order == "name" {
						other = "-name"
					}
					problem(t, h, tok, req{Method: "GET", Path: "/v1/projects?order=" + other + "&cursor=" + next}, 422, "invalid_cursor")
				}
				path = "/v1/projects?limit=4&order=" + order + "&cursor=" + next
			}
			for id := range want {
				if seen[id] != 1 {
					t.Errorf("project %s seen %d times, want once", id, seen[id])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("project %s seen %d times", id, n)
				}
			}
		})
	}
}

func TestProjectsRestore(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	creator := f.Member(t, "member")
	tok := f.Token(t, creator)
	outsider := f.Token(t, f.Join(t, creator.TenantID, "member"))
	viewer := f.Token(t, f.Join(t, creator.TenantID, "viewer"))
	admin := f.Token(t, f.Join(t, creator.TenantID, "admin"))
	create := func(name string) string {
		return call(t, h, tok, req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": name}}, 201).Str("id")
	}
	recent, old, live := create("recent"), create("old"), create("live")
	// Only those who manage the project delete it: its owner (the creator) and organization owners and admins.
	problem(t, h, outsider, req{Method: "DELETE", Path: "/v1/projects/" + recent}, 403, "forbidden")
	call(t, h, tok, req{Method: "DELETE", Path: "/v1/projects/" + recent}, 204)
	call(t, h, admin, req{Method: "DELETE", Path: "/v1/projects/" + old}, 204)
	if _, err := f.DB.Owner.Exec(t.Context(), `UPDATE tenant.projects SET deleted_at = now() - interval '30 days 1 minute' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DB.Owner.Exec(t.Context(), `UPDATE tenant.projects SET deleted_at = now() - interval '29 days 23 hours' WHERE id = $1`, recent); err != nil {
		t.Fatal(err)
	}
	restore := func(id string) req { return req{Method: "POST", Path: "/v1/projects/" + id + "/restore"} }
	problem(t, h, viewer, restore(recent), 403, "forbidden")
	problem(t, h, outsider, restore(recent), 403, "forbidden")
	problem(t, h, tok, restore(live), 409, "not_deleted")
	problem(t, h, tok, restore(old), 410, "restore_window_passed")
	problem(t, h, tok, restore(uuid.NewString()), 404, "not_found")
	problem(t, h, tok, req{Method: "GET", Path: "/v1/projects/" + recent}, 404, "not_found")
	if r := call(t, h, tok, restore(recent), 200); r.Str("id") != recent || r.Str("name") != "recent" {
		t.Fatalf("restore = %s", r.Raw)
	}
	call(t, h, tok, req{Method: "GET", Path: "/v1/projects/" + recent}, 200)
	problem(t, h, tok, restore(recent), 409, "not_deleted")
	var events int
	if err := f.DB.Owner.QueryRow(t.Context(), `SELECT count(*) FROM tenant.outbox o JOIN tenant.activity a ON a.tenant_id = o.tenant_id AND a.entity_id = (o.data->>'project_id')::uuid
		WHERE o.tenant_id = $1 AND o.type = 'project.restored' AND a.action = 'restored'`, creator.TenantID).Scan(&events); err != nil || events != 1 {
		t.Fatalf("restored event and activity: %d, %v", events, err)
	}
}

func TestProjectMembersRoutes(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	creator := f.Member(t, "member")
	tok := f.Token(t, creator)
	alice := f.Join(t, creator.TenantID, "member")
	bob := f.Join(t, creator.TenantID, "member")
	viewer := f.Join(t, creator.TenantID, "viewer")
	admin := f.Join(t, creator.TenantID, "admin")
	stranger := f.Member(t, "owner")
	id := call(t, h, tok, req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": "team"}}, 201).Str("id")
	members := "/v1/projects/" + id + "/members"
	member := func(p token.Principal) string { return members + "/" + p.IdentityID.String() }
	add := func(p token.Principal, role string) req {
		return req{Method: "POST", Path: members, Body: map[string]any{"identity_id": p.IdentityID.String(), "role": role}}
	}

	l := call(t, h, tok, req{Method: "GET", Path: members}, 200)
	if items := l.Items(); len(items) != 1 || items[0]["identity_id"] != creator.IdentityID.String() || items[0]["role"] != "owner" || items[0]["project_id"] != id {
		t.Fatalf("members after create = %s", l.Raw)
	}
	a := call(t, h, tok, add(alice, "admin"), 201)
	if a.Str("role") != "admin" || a.Header.Get("Location") != member(alice) || a.Str("created_at") == "" {
		t.Fatalf("add = %s", a.Raw)
	}
	problem(t, h, tok, add(alice, "member"), 409, "already_member")
	if res := problem(t, h, tok, add(stranger, "member"), 422, "validation_failed"); !strings.Contains(res.Raw, `"identity_id"`) {
		t.Fatalf("stranger: %s", res.Raw)
	}
	if res := problem(t, h, tok, add(viewer, "admin"), 422, "validation_failed"); !strings.Contains(res.Raw, `"role"`) {
		t.Fatalf("viewer as admin: %s", res.Raw)
	}
	// Permissions: a viewer may read but not manage; a plain member manages nothing; a project admin
	// manages members but not owners.
	vt := f.Token(t, viewer)
	call(t, h, vt, req{Method: "GET", Path: members}, 200)
	problem(t, h, vt, add(bob, "member"), 403, "forbidden")
	problem(t, h, f.Token(t, bob), add(viewer, "member"), 403, "forbidden")
	at := f.Token(t, alice)
	problem(t, h, at, add(bob, "owner"), 403, "forbidden")
	call(t, h, at, add(bob, "member"), 201)
	call(t, h, at, add(viewer, "member"), 201)
	problem(t, h, at, req{Method: "PUT", Path: member(creator), Body: map[string]any{"role": "member"}}, 403, "forbidden")
	problem(t, h, f.Token(t, bob), req{Method: "DELETE", Path: member(viewer)}, 403, "forbidden")
	problem(t, h, vt, req{Method: "DELETE", Path: member(viewer)}, 403, "forbidden") // viewers may not write, leaving included

	// Roles and the last owner.
	problem(t, h, tok, req{Method: "PUT", Path: member(creator), Body: map[string]any{"role": "admin"}}, 409, "last_owner")
	problem(t, h, f.Token(t, admin), req{Method: "DELETE", Path: member(creator)}, 409, "last_owner")
	if r := call(t, h, f.Token(t, admin), req{Method: "PUT", Path: member(bob), Body: map[string]any{"role": "owner"}}, 200); r.Str("role") != "owner" {
		t.Fatalf("promote = %s", r.Raw)
	}
	call(t, h, tok, req{Method: "PUT", Path: member(creator), Body: map[string]any{"role": "member"}}, 200)
	call(t, h, at, req{Method: "DELETE", Path: member(viewer)}, 204)
	problem(t, h, at, req{Method: "DELETE", Path: member(viewer)}, 404, "not_found")
	problem(t, h, tok, req{Method: "PUT", Path: member(viewer), Body: map[string]any{"role": "member"}}, 404, "not_found")

	// Pages of one member each, by identity id, cover everyone once.
	seen := map[string]string{}
	path := members + "?limit=1"
	for {
		res := call(t, h, tok, req{Method: "GET", Path: path}, 200)
		for _, it := range res.Items() {
			seen[it["identity_id"].(string)] = it["role"].(string)
		}
		next, _ := res.Body["next_cursor"].(string)
		if next == "" {
			break
		}
		path = members + "?limit=1&cursor=" + next
	}
	want := map[string]string{creator.IdentityID.String(): "member", alice.IdentityID.String(): "admin", bob.IdentityID.String(): "owner"}
	if len(seen) != len(want) {
		t.Fatalf("members = %v, want %v", seen, want)
	}
	for k, v := range want {
		if seen[k] != v {
			t.Fatalf("members = %v, want %v", seen, want)
		}
	}
	// The member filter of the list follows the project membership.
	if l := call(t, h, tok, req{Method: "GET", Path: "/v1/projects?member=" + bob.IdentityID.String()}, 200); len(l.Items()) != 1 {
		t.Fatalf("bob's projects: %s", l.Raw)
	}
	// Membership routes of a deleted project are 404.
	call(t, h, f.Token(t, bob), req{Method: "DELETE", Path: "/v1/projects/" + id}, 204)
	problem(t, h, tok, req{Method: "GET", Path: members}, 404, "not_found")
	problem(t, h, tok, add(viewer, "member"), 404, "not_found")
}

func TestProjectMemberAddHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	creator := f.Member(t, "member")
	tok := f.Token(t, creator)
	alice := f.Join(t, creator.TenantID, "member")
	id := call(t, h, tok, req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": "team"}}, 201).Str("id")
	add := req{Method: "POST", Path: "/v1/projects/" + id + "/members", Body: map[string]any{"identity_id": alice.IdentityID.String(), "role": "member"},
		Header: map[string]string{"Idempotency-Key": "add-alice"}}
	first := call(t, h, tok, add, 201)
	again := call(t, h, tok, add, 201)
	if again.Raw != first.Raw || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry = %s (replayed %q), want the first answer %s", again.Raw, again.Header.Get("Idempotent-Replayed"), first.Raw)
	}
}
