package tenancy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/coditect/hyperscale/shared/valid/validtest"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/google/uuid"
)

// settingsInput decodes a request body as the handler does.
func settingsInput(t *testing.T, body string) tenancy.SettingsInput {
	t.Helper()
	var in tenancy.SettingsInput
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return in
}

const localConnection = `{"enabled":true,"issuer":"http://127.0.0.1:8089","client_id":"hyperscale-dev","client_secret":"dev-secret",` +
	`"allowed_domains":["Acme.test"],"default_role":"member"}`

func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	local := tenancy.NewSettingsStore(d.DB.Tenants, true)
	production := tenancy.NewSettingsStore(d.DB.Tenants, false)
	tests := []struct {
		name       string
		production bool
		body       string
		fields     []string // nil: accepted
	}{
		{"empty object", false, `{}`, nil},
		{"nulls", false, `{"features":null,"limits":null,"preferences":null,"sso":null}`, nil},
		{"every shape", false, `{"features":{"beta":true,"dark_mode":false},"limits":{"max_projects":10,"seats":0},` +
			`"preferences":{"theme":"dark","week_starts":1,"digest":null,"compact":true,"layout":{"columns":[1,2]}},"sso":` + localConnection + `}`, nil},
		{"a reference in production", true, refConnection("secret://projects/p/secrets/{own}/versions/1"), nil},
		{"a suffixed reference in production", true, refConnection("secret://projects/p/secrets/{own}-okta/versions/latest"), nil},
		{"a reference locally", false, refConnection("secret://projects/p/secrets/{own}/versions/2"), nil},

		{"features not an object", false, `{"features":[true]}`, []string{"features"}},
		{"feature not a bool", false, `{"features":{"beta":"yes","ok":true,"nil":null}}`, []string{"features.beta", "features.nil"}},
		{"feature key shape", false, `{"features":{"Beta":true,"9lives":true,"with-dash":true,"ok_1":true}}`, []string{"features.9lives", "features.Beta", "features.with-dash"}},
		{"feature key of 65", false, `{"features":{"` + strings.Repeat("a", 65) + `":true}}`, []string{"features." + strings.Repeat("a", 64) + "…"}},
		{"too many features", false, `{"features":{` + manyKeys(101, "true") + `}}`, []string{"features"}},
		{"limits", false, `{"limits":{"max_projects":-1,"fraction":1.5,"text":"10","exp":1e3,"big":9007199254740992,"ok":9007199254740991}}`,
			[]string{"limits.big", "limits.exp", "limits.fraction", "limits.max_projects", "limits.text"}},
		{"limits not an object", false, `{"limits":5}`, []string{"limits"}},
		{"preference array", false, `{"preferences":{"list":[1,2]}}`, []string{"preferences.list"}},
		{"preference NUL", false, `{"preferences":{"name":"a\u0000b","deep":{"k":["\u0000"]}}}`, []string{"preferences.deep", "preferences.name"}},
		{"preference huge number", false, `{"preferences":{"n":1e400}}`, []string{"preferences.n"}},
		{"preferences over 16 KiB", false, `{"preferences":{"a":"` + strings.Repeat("x", 16<<10) + `"}}`, []string{"preferences"}},
		{"sso not an object", false, `{"sso":"on"}`, []string{"sso"}},
		{"sso unknown field", false, `{"sso":{"issuer":"http://127.0.0.1:8089","scope":["x"]}}`, []string{"sso.scope"}},
		{"sso wrong type", false, `{"sso":{"issuer":1}}`, []string{"sso.issuer"}},
		{"sso domains wrong type", false, `{"sso":{"allowed_domains":[1]}}`, []string{"sso.allowed_domains"}},
		{"sso empty", false, `{"sso":{}}`, []string{"sso.issuer", "sso.client_id", "sso.client_secret", "sso.allowed_domains", "sso.default_role"}},
		{"sso owner role and bad domain", false, `{"sso":{"enabled":true,"issuer":"http://127.0.0.1:8089","client_id":"c","client_secret":"s",` +
			`"allowed_domains":["not a domain"],"default_role":"owner"}}`, []string{"sso.allowed_domains[0]", "sso.default_role"}},
		{"sso NUL in client id", false, `{"sso":{"enabled":true,"issuer":"http://127.0.0.1:8089","client_id":"c\u0000","client_secret":"s",` +
			`"allowed_domains":["acme.test"],"default_role":"member"}}`, []string{"sso.client_id"}},
		{"plain secret and http issuer in production", true, `{"sso":` + localConnection + `}`, []string{"sso.issuer", "sso.client_secret"}},
		{"a reference to a platform secret", true, refConnection("secret://projects/p/secrets/token-signing-key/versions/latest"), []string{"sso.client_secret"}},
		{"a reference to a platform secret locally", false, refConnection("secret://projects/p/secrets/token-signing-key/versions/1"), []string{"sso.client_secret"}},
		{"a reference to another organization's secret", true, refConnection("secret://projects/p/secrets/sso-" + uuid.NewString() + "/versions/1"), []string{"sso.client_secret"}},
		{"a reference with the prefix run on", true, refConnection("secret://projects/p/secrets/{own}x/versions/1"), []string{"sso.client_secret"}},
		{"a malformed reference", true, refConnection("secret://projects/p/secrets/{own}"), []string{"sso.client_secret"}},
		{"a reference without a project", true, refConnection("secret://projects//secrets/{own}/versions/1"), []string{"sso.client_secret"}},
		{"masked secret with nothing stored", false, `{"sso":` + strings.Replace(localConnection, "dev-secret", tenancy.MaskedSecret, 1) + `}`, []string{"sso.client_secret"}},
		{"every member wrong at once", false, `{"features":{"a":1},"limits":{"b":-1},"preferences":{"c":[]},"sso":{"issuer":"ftp://x"}}`,
			[]string{"features.a", "limits.b", "preferences.c", "sso.issuer", "sso.client_id", "sso.client_secret", "sso.allowed_domains", "sso.default_role"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := local
			if tc.production {
				s = production
			}
			org := uuid.New()
			body := strings.ReplaceAll(tc.body, "{own}", tenancy.SSOSecretName(org))
			_, err := s.Replace(context.Background(), org, uuid.New(), settingsInput(t, body))
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Replace = %v, want success", err)
				}
				return
			}
			got := fields(t, err)
			want := slices.Clone(tc.fields)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("failing fields %v, want %v", got, want)
			}
			if n := count(t, d.Owner, `SELECT count(*) FROM tenant.settings WHERE tenant_id = $1`, org); n != 0 {
				t.Fatal("refused settings were stored")
			}
		})
	}
}

// refConnection is an https connection whose client secret is ref.
func refConnection(ref string) string {
	return `{"sso":{"enabled":true,"issuer":"https://idp.example.com","client_id":"c","client_secret":"` + ref +
		`","allowed_domains":["example.com"],"default_role":"viewer"}}`
}

func manyKeys(n int, value string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":%s`, i, value)
	}
	return strings.Join(parts, ",")
}

func TestSettingsLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := tenancy.NewSettingsStore(d.DB.Tenants, true)
	org, actor := uuid.New(), uuid.New()

	// An organization that never stored settings has the defaults.
	def, err := s.Get(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if enc, _ := json.Marshal(def); string(enc) != `{"features":{},"limits":{},"preferences":{},"sso":null,"require_mfa":false}` {
		t.Fatalf("defaults %s", enc)
	}

	body := `{"features":{"beta":true},"limits":{"max_projects":10},"preferences":{"theme":"dark","layout":{"b":1,"a":[true]}},"sso":` + localConnection + `}`
	put, err := s.Replace(ctx, org, actor, settingsInput(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if put.SSO == nil || put.SSO.ClientSecret != tenancy.MaskedSecret || put.SSO.AllowedDomains[0] != "acme.test" || !put.Features["beta"] || put.Limits["max_projects"] != 10 {
		t.Fatalf("Replace answered %+v (sso %+v); want the settings with the secret masked and domains normalised", put, put.SSO)
	}
	got, err := s.Get(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(got)
	putJSON, _ := json.Marshal(put)
	if string(gotJSON) != string(putJSON) || strings.Contains(string(gotJSON), "dev-secret") {
		t.Fatalf("Get = %s, want what Replace answered: %s, without the secret", gotJSON, putJSON)
	}

	// The column holds the connection exactly as sso.Connection marshals it, secret included, for the login flow.
	stored := storedConnection(t, d, org)
	want := sso.Connection{Enabled: true, Issuer: "http://127.0.0.1:8089", ClientID: "hyperscale-dev", ClientSecret: "dev-secret",
		AllowedDomains: []string{"acme.test"}, DefaultRole: "member"}
	if wantJSON, _ := json.Marshal(want); !sameJSONText(t, stored, string(wantJSON)) {
		t.Fatalf("stored sso %s, want %s", stored, wantJSON)
	}

	// A read-modify-write round trip with the masked secret keeps the stored one.
	var roundTrip map[string]any
	_ = json.Unmarshal(gotJSON, &roundTrip)
	roundTrip["features"] = map[string]any{"beta": false}
	roundTrip["sso"].(map[string]any)["enabled"] = false
	rt, _ := json.Marshal(roundTrip)
	if _, err := s.Replace(ctx, org, actor, settingsInput(t, string(rt))); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	want.Enabled = false
	if wantJSON, _ := json.Marshal(want); !sameJSONText(t, storedConnection(t, d, org), string(wantJSON)) {
		t.Fatalf("after the round trip sso %s, want %s", storedConnection(t, d, org), wantJSON)
	}

	// The masked secret does not follow the connection to another issuer or client.
	for _, change := range []func(map[string]any){
		func(c map[string]any) { c["issuer"] = "http://localhost:9999" },
		func(c map[string]any) { c["client_id"] = "another-client" },
	} {
		var m map[string]any
		_ = json.Unmarshal(rt, &m)
		change(m["sso"].(map[string]any))
		b, _ := json.Marshal(m)
		if _, err := s.Replace(ctx, org, actor, settingsInput(t, string(b))); strings.Join(fields(t, err), ",") != "sso.client_secret" {
			t.Fatalf("masked secret with a changed connection: %v", err)
		}
	}

	// The same settings again change nothing and record nothing, whatever jsonb did to key order.
	if _, err := s.Replace(ctx, org, actor, settingsInput(t, string(rt))); err != nil {
		t.Fatal(err)
	}
	// A new secret is a change to "sso", though the trail shows it masked.
	if _, err := s.Replace(ctx, org, actor, settingsInput(t, strings.Replace(string(rt), `"`+tenancy.MaskedSecret+`"`, `"new-secret"`, 1))); err != nil {
		t.Fatal(err)
	}
	// Everything back to the defaults: an empty body removes the connection.
	if _, err := s.Replace(ctx, org, actor, settingsInput(t, `{}`)); err != nil {
		t.Fatal(err)
	}
	if after, err := s.Get(ctx, org); err != nil || after.SSO != nil || len(after.Features)+len(after.Limits)+len(after.Preferences) != 0 {
		t.Fatalf("after an empty replacement: %+v, %v", after, err)
	}

	var trail, events []string
	for query, dst := range map[string]*[]string{
		`SELECT changes::text FROM tenant.activity WHERE tenant_id = $1 AND entity_type = 'tenant_settings' AND entity_id = $1 AND actor_id = $2 ORDER BY id`: &trail,
		`SELECT data->>'changed' FROM tenant.outbox WHERE tenant_id = $1 AND type = 'tenant.settings_updated' AND data->>'actor_id' = $2::text ORDER BY id`:   &events,
	} {
		rows, err := d.Owner.Query(ctx, query, org, actor)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			*dst = append(*dst, v)
		}
	}
	var trailKeys []string
	for _, changes := range trail {
		if strings.Contains(changes, "dev-secret") || strings.Contains(changes, "new-secret") {
			t.Fatalf("the activity trail holds a secret: %s", changes)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(changes), &m)
		keys := slices.Sorted(maps.Keys(m))
		trailKeys = append(trailKeys, `["`+strings.Join(keys, `", "`)+`"]`)
	}
	wantChanged := []string{`["features", "limits", "preferences", "sso"]`, `["features", "sso"]`, `["sso"]`, `["features", "limits", "preferences", "sso"]`}
	if !slices.Equal(events, wantChanged) || !slices.Equal(trailKeys, wantChanged) {
		t.Fatalf("events name %q and the trail %q as changed, want %q", events, trailKeys, wantChanged)
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1`, org); n != len(wantChanged) {
		t.Fatalf("%d events, want %d", n, len(wantChanged))
	}
	if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox WHERE data::text LIKE '%secret%'`); n != 0 {
		t.Fatal("an event holds a secret")
	}
}

// A secret reference is no secret: it is shown as it is, and kept as it is.
func TestSettingsShowSecretReferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := tenancy.NewSettingsStore(d.DB.Tenants, false)
	org := uuid.New()
	ref := "secret://projects/p/secrets/" + tenancy.SSOSecretName(org) + "/versions/2"
	body := `{"sso":{"enabled":true,"issuer":"https://idp.example.com","client_id":"c","client_secret":"` + ref + `","allowed_domains":["example.com"],"default_role":"admin"}}`
	put, err := s.Replace(ctx, org, uuid.New(), settingsInput(t, body))
	if err != nil || put.SSO.ClientSecret != ref {
		t.Fatalf("Replace = %+v, %v", put.SSO, err)
	}
	got, err := s.Get(ctx, org)
	if err != nil || got.SSO.ClientSecret != ref || got.SSO.DefaultRole != "admin" {
		t.Fatalf("Get = %+v, %v", got.SSO, err)
	}
	// Sent back masked, the stored reference is kept.
	if _, err := s.Replace(ctx, org, uuid.New(), settingsInput(t, strings.Replace(body, ref, tenancy.MaskedSecret, 1))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(storedConnection(t, d, org), ref) {
		t.Fatalf("stored %s, want the reference kept", storedConnection(t, d, org))
	}
}

func storedConnection(t *testing.T, d *dbtest.Database, org uuid.UUID) string {
	t.Helper()
	var raw string
	if err := d.Owner.QueryRow(context.Background(), `SELECT sso::text FROM tenant.settings WHERE tenant_id = $1`, org).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func sameJSONText(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

// settingsFixture is A's settings, with a feature and an SSO connection, and the inputs B's calls send.
type settingsFixture struct {
	isolation.Tenants
	d             *dbtest.Database
	s             *tenancy.SettingsStore
	masked, limit tenancy.SettingsInput
}

// Each organization reads and replaces only its own settings, through both walls of the isolation suite.
var _ = isolation.Register(isolation.Case[*settingsFixture]{
	Name:   "settings",
	Stores: []string{"SettingsStore"},
	Tables: []string{"tenant.settings"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *settingsFixture {
		f := &settingsFixture{Tenants: isolation.NewTenants(), d: d, s: tenancy.NewSettingsStore(w.DB.Tenants, true),
			masked: settingsInput(t, `{"sso":`+strings.Replace(localConnection, "dev-secret", tenancy.MaskedSecret, 1)+`}`),
			limit:  settingsInput(t, `{"limits":{"b_only":1}}`)}
		if _, err := f.s.Replace(context.Background(), f.Tenant(isolation.A), uuid.New(), settingsInput(t, `{"features":{"a_only":true},"sso":`+localConnection+`}`)); err != nil {
			t.Fatal(err)
		}
		return f
	},
	Ops: []isolation.Op[*settingsFixture]{
		// B reads its defaults, not A's row. Run counts A's feature and connection in what it read.
		{Name: "get", Want: isolation.Nothing, Run: func(ctx context.Context, f *settingsFixture, as isolation.Side) (int, error) {
			got, err := f.s.Get(ctx, f.Tenant(as))
			return boolCount(got.Features["a_only"]) + boolCount(got.SSO != nil), err
		}},
		// B's masked secret cannot reach A's stored one; A's keeps its own.
		{Name: "replace with a masked secret", Run: func(ctx context.Context, f *settingsFixture, as isolation.Side) (int, error) {
			_, err := f.s.Replace(ctx, f.Tenant(as), uuid.New(), f.masked)
			return isolation.One(err)
		}, Judge: func(n int, err error) error {
			if got := strings.Join(validtest.Fields(err), ","); got != "sso.client_secret" {
				return fmt.Errorf("B's masked secret: %d, %v; want sso.client_secret refused", n, err)
			}
			return nil
		}},
		// Run counts A's rows the replacement wrote.
		{Name: "replace", Want: isolation.Nothing, Run: func(ctx context.Context, f *settingsFixture, as isolation.Side) (int, error) {
			if _, err := f.s.Replace(ctx, f.Tenant(as), uuid.New(), f.limit); err != nil {
				return 0, err
			}
			var n int
			err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM tenant.settings WHERE tenant_id = $1 AND limits ? 'b_only'`, f.Tenant(isolation.A)).Scan(&n)
			return n, err
		}},
	},
	Check: func(t *testing.T, d *dbtest.Database, f *settingsFixture) {
		a := f.Tenant(isolation.A)
		ga, err := f.s.Get(context.Background(), a)
		if err != nil || !ga.Features["a_only"] || len(ga.Limits) != 0 || ga.SSO == nil {
			t.Errorf("A after B's call: %+v, %v", ga, err)
		}
		if n := count(t, d.Owner, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1`, a); n != 1 {
			t.Errorf("A has %d events, want only its own one", n)
		}
	},
})

// Without a tenant context, row-level security shows the application role nothing.
func TestSettingsWithoutATenant(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	if _, err := tenancy.NewSettingsStore(d.DB.Tenants, true).Get(context.Background(), uuid.Nil); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("Get without a tenant: %v, want not found", err)
	}
}

func TestOwnsSecretReference(t *testing.T) {
	t.Parallel()
	org := uuid.MustParse("0194f3a0-0000-7000-8000-000000000001")
	tests := []struct {
		ref  string
		want bool
	}{
		{"secret://projects/p/secrets/sso-0194f3a0-0000-7000-8000-000000000001/versions/1", true},
		{"secret://projects/my-project/secrets/sso-0194f3a0-0000-7000-8000-000000000001-okta/versions/latest", true},
		{"secret://projects/p/secrets/sso-0194f3a0-0000-7000-8000-000000000002/versions/1", false},
		{"secret://projects/p/secrets/sso-0194f3a0-0000-7000-8000-0000000000011/versions/1", false},
		{"secret://projects/p/secrets/token-signing-key/versions/1", false},
		{"secret://projects/p/secrets/sso-0194f3a0-0000-7000-8000-000000000001", false},
		{"secret://projects/p/secrets/sso-0194f3a0-0000-7000-8000-000000000001/versions/", false},
		{"secret://projects/p/secrets/sso-0194f3a0-0000-7000-8000-000000000001/versions/1/extra", false},
		{"secret://projects//secrets/sso-0194f3a0-0000-7000-8000-000000000001/versions/1", false},
		{"secret://folders/p/secrets/sso-0194f3a0-0000-7000-8000-000000000001/versions/1", false},
		{"projects/p/secrets/sso-0194f3a0-0000-7000-8000-000000000001/versions/1", false},
		{"dev-secret", false},
	}
	for _, tc := range tests {
		if got := tenancy.OwnsSecretReference(org, tc.ref); got != tc.want {
			t.Errorf("OwnsSecretReference(%q) = %v, want %v", tc.ref, got, tc.want)
		}
	}
}
