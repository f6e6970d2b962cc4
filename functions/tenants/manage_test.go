package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/sso/ssotest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

// fakeDNS answers TXT lookups from a map; a name it lacks is NXDOMAIN.
type fakeDNS struct {
	mu      sync.Mutex
	records map[string][]string
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
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

// org is one organization of a test, with a token per role.
type org struct {
	id     uuid.UUID
	tokens map[string]string
}

// setup returns the handler over a fresh platform in the local environment (plain SSO secrets and an http
// issuer on loopback are accepted, as on the dev server), its DNS and two organizations, acme and bravo.
func setup(t *testing.T) (*servicetest.Fixture, http.Handler, *fakeDNS, org, org) {
	t.Helper()
	f := servicetest.New(t)
	f.Env.Config.Env = "local"
	dns := &fakeDNS{}
	h := newHandler(f.Env, dns)
	mk := func(slug string) org {
		owner := f.SignUp(t, slug, "owner@"+slug+".test")
		o := org{id: owner.TenantID, tokens: map[string]string{"owner": f.Token(t, owner)}}
		for _, role := range []string{"admin", "member", "viewer"} {
			o.tokens[role] = f.Token(t, f.Join(t, owner.TenantID, role))
		}
		return o
	}
	return f, h, dns, mk("acme"), mk("bravo")
}

// problemFields returns the field names of a 422 answer.
func problemFields(t *testing.T, res servicetest.Response) []string {
	t.Helper()
	servicetest.ExpectProblem(t, res, http.StatusUnprocessableEntity, "validation_failed")
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	if err := json.Unmarshal([]byte(res.Raw), &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	slices.Sort(out)
	return out
}

func countRows(t *testing.T, f *servicetest.Fixture, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.DB.Owner.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestGetAndRenameTenant(t *testing.T) {
	t.Parallel()
	f, h, _, acme, bravo := setup(t)

	for _, role := range []string{"owner", "admin", "member", "viewer"} {
		res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me", Bearer: acme.tokens[role]}), 200)
		if res.Str("id") != acme.id.String() || res.Str("slug") != "acme" || res.Str("name") != "Org acme" || res.Str("status") != "active" ||
			res.Str("plan") != "free" || res.Str("created_at") == "" || len(res.Body) != 6 {
			t.Fatalf("%s reads %s", role, res.Raw)
		}
	}
	res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/tenants/me", Bearer: acme.tokens["admin"], Body: map[string]any{"name": "  Acme Corporation "}}), 200)
	if res.Str("name") != "Acme Corporation" || res.Str("slug") != "acme" {
		t.Fatalf("rename answered %s", res.Raw)
	}
	if got := servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me", Bearer: acme.tokens["viewer"]}); got.Str("name") != "Acme Corporation" {
		t.Fatalf("after the rename %s", got.Raw)
	}
	// bravo is untouched and reads only itself.
	if got := servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me", Bearer: bravo.tokens["owner"]}); got.Str("name") != "Org bravo" || got.Str("id") != bravo.id.String() {
		t.Fatalf("bravo reads %s", got.Raw)
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'tenant.updated' AND data->>'name' = 'Acme Corporation'`, acme.id); n != 1 {
		t.Fatalf("%d tenant.updated events, want 1", n)
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.activity WHERE tenant_id = $1 AND entity_type = 'tenant' AND action = 'updated'
		AND changes->'name'->>'old' = 'Org acme'`, acme.id); n != 1 {
		t.Fatalf("%d activity rows of the rename, want 1", n)
	}

	tests := []struct {
		name   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"blank name", map[string]any{"name": "  "}, 422, "validation_failed", []string{"name"}},
		{"long name", map[string]any{"name": strings.Repeat("x", 201)}, 422, "validation_failed", []string{"name"}},
		{"name not a string", map[string]any{"name": 7}, 422, "validation_failed", []string{"name"}},
		{"slug is not changeable", map[string]any{"name": "x", "slug": "other"}, 422, "validation_failed", []string{"slug"}},
		{"malformed", `{"name":`, 400, "malformed_json", nil},
		{"empty body", ``, 400, "empty_body", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/tenants/me", Bearer: acme.tokens["owner"], Body: tc.body})
			if tc.fields != nil {
				if got := problemFields(t, res); !slices.Equal(got, tc.fields) {
					t.Fatalf("failing fields %v, want %v", got, tc.fields)
				}
				return
			}
			servicetest.ExpectProblem(t, res, tc.status, tc.code)
		})
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me"}), 401, "unauthenticated")
}

// Every write of the organization is for its owners and admins; members and viewers get 403 and change nothing.
func TestWritesNeedAnAdmin(t *testing.T) {
	t.Parallel()
	f, h, _, acme, _ := setup(t)
	dom := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["admin"],
		Body: map[string]any{"domain": "acme.example"}}), 201)
	id := dom.Str("id")
	writes := []req{
		{Method: "PUT", Path: "/v1/tenants/me", Body: map[string]any{"name": "Taken over"}},
		{Method: "PUT", Path: "/v1/tenants/me/settings", Body: map[string]any{"features": map[string]any{"beta": true}}},
		{Method: "POST", Path: "/v1/tenants/me/domains", Body: map[string]any{"domain": "other.example"}},
		{Method: "DELETE", Path: "/v1/tenants/me/domains/" + id},
		{Method: "POST", Path: "/v1/tenants/me/domains/" + id + "/verify"},
	}
	for _, role := range []string{"member", "viewer"} {
		for _, w := range writes {
			t.Run(role+" "+w.Method+" "+w.Path, func(t *testing.T) {
				w.Bearer = acme.tokens[role]
				servicetest.ExpectProblem(t, servicetest.Do(t, h, w), 403, "forbidden")
			})
		}
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type <> 'tenant.created'`, acme.id); n != 1 {
		t.Fatalf("%d events after the refused writes, want only the admin's domain_added", n)
	}
	if n := countRows(t, f, `SELECT count(*) FROM directory.domains WHERE tenant_id = $1`, acme.id); n != 1 {
		t.Fatalf("%d domains, want the admin's one", n)
	}
}

// A suspended organization is refused before any handler runs.
func TestSuspendedOrganization(t *testing.T) {
	t.Parallel()
	f, h, _, acme, bravo := setup(t)
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, acme.id); err != nil {
		t.Fatal(err)
	}
	for _, r := range []req{
		{Method: "GET", Path: "/v1/tenants/me"},
		{Method: "PUT", Path: "/v1/tenants/me/settings", Body: map[string]any{"features": map[string]any{"beta": true}}},
	} {
		r.Bearer = acme.tokens["owner"]
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 403, "tenant_suspended")
		r.Bearer = bravo.tokens["owner"]
		if res := servicetest.Do(t, h, r); res.Status != 200 {
			t.Fatalf("active bravo %s %s: %d %s", r.Method, r.Path, res.Status, res.Raw)
		}
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.settings WHERE tenant_id = $1`, acme.id); n != 0 {
		t.Fatal("a suspended organization's settings were written")
	}
}

const devConnection = `{"enabled":true,"issuer":"http://127.0.0.1:8089","client_id":"hyperscale-dev","client_secret":"dev-secret",` +
	`"allowed_domains":["acme.test"],"default_role":"member"}`

func TestSettings(t *testing.T) {
	t.Parallel()
	f, h, _, acme, bravo := setup(t)
	path := "/v1/tenants/me/settings"
	// The connection is checked against its provider's discovery document when saved: a real one answers.
	idp := ssotest.New(t)
	devConnection := strings.Replace(devConnection, "http://127.0.0.1:8089", idp.Issuer(), 1)

	def := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: path, Bearer: acme.tokens["viewer"]}), 200)
	if strings.TrimSpace(def.Raw) != `{"features":{},"limits":{},"preferences":{},"sso":null,"require_mfa":false}` {
		t.Fatalf("defaults %s", def.Raw)
	}
	body := `{"features":{"beta":true},"limits":{"max_projects":10},"preferences":{"theme":"dark"},"sso":` + devConnection + `}`
	put := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: body}), 200)
	got := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: path, Bearer: acme.tokens["member"]}), 200)
	if got.Raw != put.Raw || strings.Contains(got.Raw, "dev-secret") || !strings.Contains(got.Raw, `"client_secret":"****"`) ||
		!strings.Contains(got.Raw, `"features":{"beta":true}`) || !strings.Contains(got.Raw, `"issuer":"`+idp.Issuer()+`"`) {
		t.Fatalf("PUT answered %s, GET %s; want the same settings with the secret masked", put.Raw, got.Raw)
	}

	// GET, change a flag, PUT it back: the masked secret keeps the stored one.
	var m map[string]any
	_ = json.Unmarshal([]byte(got.Raw), &m)
	m["features"] = map[string]any{"beta": false, "new_editor": true}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["owner"], Body: m}), 200)
	var secret string
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT sso->>'client_secret' FROM tenant.settings WHERE tenant_id = $1`, acme.id).Scan(&secret); err != nil || secret != "dev-secret" {
		t.Fatalf("stored secret %q (%v) after the round trip, want dev-secret", secret, err)
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'tenant.settings_updated'`, acme.id); n != 2 {
		t.Fatalf("%d settings events, want 2", n)
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.activity WHERE changes::text LIKE '%dev-secret%'`) +
		countRows(t, f, `SELECT count(*) FROM tenant.outbox WHERE data::text LIKE '%dev-secret%'`); n != 0 {
		t.Fatal("the secret reached the activity trail or an event")
	}

	// bravo sees none of it, and its own settings stay its own.
	if res := servicetest.Do(t, h, req{Method: "GET", Path: path, Bearer: bravo.tokens["owner"]}); strings.TrimSpace(res.Raw) != strings.TrimSpace(def.Raw) {
		t.Fatalf("bravo reads %s, want its defaults", res.Raw)
	}
	masked := strings.Replace(devConnection, "dev-secret", "****", 1)
	if got := problemFields(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: bravo.tokens["owner"], Body: `{"sso":` + masked + `}`})); !slices.Equal(got, []string{"sso.client_secret"}) {
		t.Fatalf("bravo's masked secret: failing fields %v", got)
	}

	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"negative limit", `{"limits":{"max_projects":-1}}`, []string{"limits.max_projects"}},
		{"fractional limit", `{"limits":{"max_projects":2.5}}`, []string{"limits.max_projects"}},
		{"feature not a bool", `{"features":{"beta":"yes"}}`, []string{"features.beta"}},
		{"feature key shape", `{"features":{"Beta":true}}`, []string{"features.Beta"}},
		{"preference array", `{"preferences":{"tabs":["a"]}}`, []string{"preferences.tabs"}},
		{"https issuer only in production, but local allows loopback http", `{"sso":` + strings.Replace(devConnection, idp.Issuer(), "http://idp.example.com", 1) + `}`, []string{"sso.issuer"}},
		{"sso unknown field", `{"sso":{"issuer":"http://127.0.0.1:8089","client":"x"}}`, []string{"sso.client"}},
		{"sso owner role", `{"sso":` + strings.Replace(devConnection, `"member"`, `"owner"`, 1) + `}`, []string{"sso.default_role"}},
		{"unknown top-level field", `{"feature":{}}`, []string{"feature"}},
		{"several at once", `{"features":{"a":1},"limits":{"b":"1"},"sso":{"issuer":"not a url","client_id":"c","client_secret":"s","allowed_domains":["acme.test"],"default_role":"viewer"}}`,
			[]string{"features.a", "limits.b", "sso.issuer"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := problemFields(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: tc.body}))
			want := slices.Sorted(slices.Values(tc.fields))
			if !slices.Equal(got, want) {
				t.Fatalf("failing fields %v, want %v", got, want)
			}
		})
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: `[]`}), 400, "malformed_json")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: `{"features":`}), 400, "malformed_json")
	// The refused writes left the stored settings as they were.
	if res := servicetest.Do(t, h, req{Method: "GET", Path: path, Bearer: acme.tokens["admin"]}); !strings.Contains(res.Raw, `"new_editor":true`) {
		t.Fatalf("after refused writes %s", res.Raw)
	}
}

// In production a plain secret is refused and a secret reference is shown as it is.
func TestSettingsInProduction(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := newHandler(f.Env, &fakeDNS{})
	p := f.SignUp(t, "acme", "owner@acme.test")
	owner := f.Token(t, p)
	if got := problemFields(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/tenants/me/settings", Bearer: owner, Body: `{"sso":` + devConnection + `}`})); !slices.Equal(got, []string{"sso.client_secret", "sso.issuer"}) {
		t.Fatalf("failing fields %v", got)
	}
	connection := func(ref string) string {
		// Disabled: an enabled connection would be checked against its provider, which does not exist.
		return `{"sso":{"enabled":false,"issuer":"https://idp.example.com","client_id":"c","client_secret":"` + ref + `","allowed_domains":["acme.test"],"default_role":"viewer"}}`
	}
	// A reference to any secret but the organization's own would have the platform send that secret to the
	// issuer, a server the organization's admin chose.
	for _, other := range []string{"secret://projects/p/secrets/token-signing-key/versions/latest", "secret://projects/p/secrets/sso-" + uuid.NewString() + "/versions/1"} {
		if got := problemFields(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/tenants/me/settings", Bearer: owner, Body: connection(other)})); !slices.Equal(got, []string{"sso.client_secret"}) {
			t.Fatalf("reference %s: failing fields %v", other, got)
		}
	}
	ref := "secret://projects/p/secrets/sso-" + p.TenantID.String() + "/versions/1"
	res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: "/v1/tenants/me/settings", Bearer: owner, Body: connection(ref)}), 200)
	if !strings.Contains(res.Raw, `"client_secret":"`+ref+`"`) {
		t.Fatalf("answered %s, want the reference shown", res.Raw)
	}
}

func TestDomains(t *testing.T) {
	t.Parallel()
	f, h, dns, acme, bravo := setup(t)
	list := func(o org) []map[string]any {
		t.Helper()
		return servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me/domains", Bearer: o.tokens["viewer"]}), 200).Items()
	}
	if res := servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["member"]}); strings.TrimSpace(res.Raw) != `{"items":[]}` {
		t.Fatalf("empty list %s", res.Raw)
	}
	res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["admin"], Body: map[string]any{"domain": "Login.ACME.example"}}), 201)
	id := res.Str("id")
	v, _ := res.Body["verification"].(map[string]any)
	token, _ := v["value"].(string)
	if res.Str("domain") != "login.acme.example" || res.Body["verified"] != false || res.Body["verified_at"] != nil || res.Str("created_at") == "" ||
		v["type"] != "TXT" || v["name"] != "_hyperscale-challenge.login.acme.example" || token == "" || res.Header.Get("Location") != "/v1/tenants/me/domains/"+id {
		t.Fatalf("added %s (Location %q)", res.Raw, res.Header.Get("Location"))
	}
	if l := list(acme); len(l) != 1 || l[0]["id"] != id || l[0]["verification"].(map[string]any)["value"] != token {
		t.Fatalf("acme lists %v", l)
	}

	// A pending claim holds the name against no one: bravo claims it too, learning nothing of acme's claim.
	rival := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: bravo.tokens["owner"], Body: map[string]any{"domain": "login.acme.example."}}), 201)
	rivalToken, _ := rival.Body["verification"].(map[string]any)["value"].(string)
	if rival.Str("id") == id || rivalToken == token || rival.Str("status") != "pending" || rival.Str("expires_at") == "" {
		t.Fatalf("bravo's claim %s", rival.Raw)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["owner"], Body: map[string]any{"domain": "login.acme.example"}}), 409, "domain_claimed")

	// bravo's token on acme's domain: 404 everywhere, and its list is empty.
	for _, r := range []req{
		{Method: "POST", Path: "/v1/tenants/me/domains/" + id + "/verify"},
		{Method: "DELETE", Path: "/v1/tenants/me/domains/" + id},
	} {
		r.Bearer = bravo.tokens["owner"]
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), 404, "not_found")
	}
	if l := list(bravo); len(l) != 1 || l[0]["id"] != rival.Str("id") {
		t.Fatalf("bravo lists %v, want only its own claim", l)
	}

	// Verification: 409 naming the record until DNS has it, then 200.
	verify := req{Method: "POST", Path: "/v1/tenants/me/domains/" + id + "/verify", Bearer: acme.tokens["admin"]}
	failed := servicetest.Do(t, h, verify)
	servicetest.ExpectProblem(t, failed, 409, "verification_failed")
	if d := failed.Str("detail"); !strings.Contains(d, "_hyperscale-challenge.login.acme.example") || !strings.Contains(d, token) {
		t.Fatalf("detail %q does not name the record expected", d)
	}
	dns.set("_hyperscale-challenge.login.acme.example", "wrong")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, verify), 409, "verification_failed")
	dns.set("_hyperscale-challenge.login.acme.example", "wrong", token)
	ok := servicetest.Expect(t, servicetest.Do(t, h, verify), 200)
	if ok.Str("id") != id || ok.Body["verified"] != true || ok.Str("verified_at") == "" {
		t.Fatalf("verified %s", ok.Raw)
	}
	if l := list(acme); l[0]["verified"] != true || l[0]["status"] != "verified" || l[0]["expires_at"] != nil {
		t.Fatalf("acme lists %v after verification", l)
	}

	// The name is acme's now: bravo's pending claim cannot verify, even with its record published, and once
	// bravo drops it, a new claim is refused. Neither answer says whose the name is.
	dns.set("_hyperscale-challenge.login.acme.example", "wrong", token, rivalToken)
	for i, r := range []req{
		{Method: "POST", Path: "/v1/tenants/me/domains/" + rival.Str("id") + "/verify", Bearer: bravo.tokens["owner"]},
		{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: bravo.tokens["owner"], Body: map[string]any{"domain": "Login.Acme.Example"}},
	} {
		res := servicetest.Do(t, h, r)
		servicetest.ExpectProblem(t, res, 409, "domain_taken")
		if strings.Contains(res.Raw, "acme\"") || strings.Contains(res.Raw, acme.id.String()) {
			t.Fatalf("the refusal names the owner: %s", res.Raw)
		}
		if i == 0 {
			servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/tenants/me/domains/" + rival.Str("id"), Bearer: bravo.tokens["owner"]}), 204)
		}
	}

	// A claim past its lifetime cannot verify and lists no more.
	late := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["owner"], Body: map[string]any{"domain": "late.acme.example"}}), 201)
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.domains SET expires_at = now() - interval '1 second' WHERE id = $1`, late.Str("id")); err != nil {
		t.Fatal(err)
	}
	lateToken, _ := late.Body["verification"].(map[string]any)["value"].(string)
	dns.set("_hyperscale-challenge.late.acme.example", lateToken)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains/" + late.Str("id") + "/verify", Bearer: acme.tokens["owner"]}), 409, "claim_expired")
	if l := list(acme); len(l) != 1 || l[0]["id"] != id {
		t.Fatalf("acme lists %v, want only its verified domain", l)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/tenants/me/domains/" + late.Str("id"), Bearer: acme.tokens["owner"]}), 204)

	// Bad input and unknown ids.
	for _, tc := range []struct {
		name string
		body any
	}{{"IP address", map[string]any{"domain": "10.1.2.3"}}, {"single label", map[string]any{"domain": "intranet"}},
		{"platform domain", map[string]any{"domain": "acme.hyperscale.app"}}, {"the issuer's host", map[string]any{"domain": "hyperscale.test"}},
		{"wildcard", map[string]any{"domain": "*.acme.example"}}, {"missing", map[string]any{}},
		{"public email provider", map[string]any{"domain": "gmail.com"}}, {"under a public email provider", map[string]any{"domain": "eu.outlook.com"}},
		{"public suffix", map[string]any{"domain": "co.uk"}}} {
		t.Run(tc.name, func(t *testing.T) {
			got := problemFields(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["owner"], Body: tc.body}))
			if !slices.Equal(got, []string{"domain"}) {
				t.Fatalf("failing fields %v, want domain", got)
			}
		})
	}
	if got := problemFields(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["owner"], Body: map[string]any{"domain": "x.example", "verified": true}})); !slices.Equal(got, []string{"verified"}) {
		t.Fatalf("unknown field: %v", got)
	}
	for _, p := range []string{"/v1/tenants/me/domains/" + uuid.NewString(), "/v1/tenants/me/domains/not-a-uuid"} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: p, Bearer: acme.tokens["owner"]}), 404, "not_found")
		servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: p + "/verify", Bearer: acme.tokens["owner"]}), 404, "not_found")
	}

	// Removal frees the name for anyone.
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/tenants/me/domains/" + id, Bearer: acme.tokens["admin"]}), 204)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/tenants/me/domains/" + id, Bearer: acme.tokens["admin"]}), 404, "not_found")
	if l := list(acme); len(l) != 0 {
		t.Fatalf("acme lists %v after removal", l)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: bravo.tokens["admin"], Body: map[string]any{"domain": "login.acme.example"}}), 201)

	var evs string
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT string_agg(type, ',' ORDER BY id) FROM tenant.outbox WHERE tenant_id = $1 AND type LIKE 'tenant.domain%'`, acme.id).Scan(&evs); err != nil {
		t.Fatal(err)
	}
	if evs != "tenant.domain_added,tenant.domain_verified,tenant.domain_added,tenant.domain_removed,tenant.domain_removed" {
		t.Fatalf("acme's domain events %s", evs)
	}
}

func TestDomainLimit(t *testing.T) {
	t.Parallel()
	_, h, _, acme, _ := setup(t)
	for i := range 20 {
		servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["owner"],
			Body: map[string]any{"domain": fmt.Sprintf("d%d.acme.example", i)}}), 201)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["owner"],
		Body: map[string]any{"domain": "one-more.acme.example"}}), 409, "too_many_domains")
}

// A token of an organization that was deleted, or a forged one, gets nowhere near the data.
func TestTokensOfNoOrganization(t *testing.T) {
	t.Parallel()
	f, h, _, _, _ := setup(t)
	ghost := f.Token(t, token.Principal{IdentityID: uuid.New(), TenantID: uuid.New(), Role: "owner"})
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me/settings", Bearer: ghost}), 401, "invalid_token")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/tenants/me/domains", Bearer: "not-a-token"}), 401, "invalid_token")
}

func TestAddDomainHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	f, h, _, acme, _ := setup(t)
	add := req{Method: "POST", Path: "/v1/tenants/me/domains", Bearer: acme.tokens["admin"], Body: map[string]any{"domain": "once.acme.example"},
		Header: map[string]string{"Idempotency-Key": "add-once"}}
	first := servicetest.Expect(t, servicetest.Do(t, h, add), 201)
	again := servicetest.Expect(t, servicetest.Do(t, h, add), 201)
	if again.Str("id") != first.Str("id") || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry answered %s (replayed %q), want the first domain %s", again.Str("id"), again.Header.Get("Idempotent-Replayed"), first.Str("id"))
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'tenant.domain_added'`, acme.id); n != 1 {
		t.Fatalf("%d domain_added events after a retry, want 1", n)
	}
}
