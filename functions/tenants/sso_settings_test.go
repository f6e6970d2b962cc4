package tenants

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/sso/ssotest"
	"github.com/coditect/hyperscale/shared/token"
)

// ssoSettings is the settings body of an enabled connection to issuer, with extra members of the connection.
func ssoSettings(issuer string, extra map[string]any) map[string]any {
	c := map[string]any{"enabled": true, "issuer": issuer, "client_id": "hyperscale-dev", "client_secret": "dev-secret",
		"allowed_domains": []string{"acme.test"}, "default_role": "member"}
	for k, v := range extra {
		c[k] = v
	}
	return map[string]any{"sso": c}
}

// problemErrors returns a 422 answer's failing fields with their messages.
func problemErrors(t *testing.T, res servicetest.Response) map[string]string {
	t.Helper()
	servicetest.ExpectProblem(t, res, 422, "validation_failed")
	var p struct {
		Errors []struct{ Field, Message string } `json:"errors"`
	}
	if err := json.Unmarshal([]byte(res.Raw), &p); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Message
	}
	return out
}

// TestSettingsCheckTheProvider: a connection is saved only when its provider's discovery document names its
// issuer exactly and describes a provider sign-in can work with; the answer names the field and the cause.
func TestSettingsCheckTheProvider(t *testing.T) {
	t.Parallel()
	f, h, _, acme, bravo := setup(t)
	path := "/v1/tenants/me/settings"
	good := ssotest.New(t)
	postOnly := ssotest.NewWith(t, ssotest.Options{AuthMethods: []string{"client_secret_post"}})
	jwtOnly := ssotest.NewWith(t, ssotest.Options{AuthMethods: []string{"private_key_jwt"}})
	plainPKCE := ssotest.NewWith(t, ssotest.Options{Discovery: func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }})
	implicit := ssotest.NewWith(t, ssotest.Options{Discovery: func(d map[string]any) { d["response_types_supported"] = []string{"id_token"} }})
	noToken := ssotest.NewWith(t, ssotest.Options{Discovery: func(d map[string]any) { delete(d, "token_endpoint") }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/oidc"
	_ = ln.Close()

	tests := []struct {
		name     string
		body     map[string]any
		field    string
		contains string
	}{
		{"issuer with a trailing slash the provider does not have", ssoSettings(good.Issuer()+"/", nil), "sso.issuer", `names the issuer "` + good.Issuer() + `"`},
		{"issuer without the path", ssoSettings(strings.TrimSuffix(good.Issuer(), "/oidc"), nil), "sso.issuer", "no discovery document"},
		{"provider unreachable", ssoSettings(closed, nil), "sso.issuer", "could not read"},
		{"no S256 PKCE", ssoSettings(plainPKCE.Issuer(), nil), "sso.issuer", "S256"},
		{"no code flow", ssoSettings(implicit.Issuer(), nil), "sso.issuer", "authorization code flow"},
		{"no token endpoint", ssoSettings(noToken.Issuer(), nil), "sso.issuer", "token_endpoint"},
		{"basic asked of a post-only provider", ssoSettings(postOnly.Issuer(), map[string]any{"token_auth_method": "client_secret_basic"}), "sso.token_auth_method", "does not accept client_secret_basic"},
		{"no client authentication the platform speaks", ssoSettings(jwtOnly.Issuer(), nil), "sso.token_auth_method", "private_key_jwt"},
		{"scopes without openid", ssoSettings(good.Issuer(), map[string]any{"scopes": []string{"email"}}), "sso.scopes", "openid"},
		{"unknown client authentication", ssoSettings(good.Issuer(), map[string]any{"token_auth_method": "private_key_jwt"}), "sso.token_auth_method", "client_secret_post"},
		{"required but disabled", map[string]any{"sso": map[string]any{"enabled": false, "required": true, "issuer": good.Issuer(), "client_id": "c",
			"client_secret": "s", "allowed_domains": []string{"acme.test"}, "default_role": "member"}}, "sso.required", "enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := problemErrors(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: tc.body}))
			if len(errs) != 1 || !strings.Contains(errs[tc.field], tc.contains) {
				t.Fatalf("failing fields %v, want only %s saying %q", errs, tc.field, tc.contains)
			}
		})
	}
	if n := countRows(t, f, `SELECT count(*) FROM tenant.settings WHERE tenant_id = $1`, acme.id); n != 0 {
		t.Fatal("a refused connection was stored")
	}

	// The provider's exact issuer saves; so do a post-only provider (its method then follows discovery) and
	// configured scopes.
	for _, body := range []map[string]any{
		ssoSettings(postOnly.Issuer(), nil),
		ssoSettings(postOnly.Issuer(), map[string]any{"token_auth_method": "client_secret_post", "scopes": []string{"openid", "email", "groups"}}),
		ssoSettings(good.Issuer(), nil),
	} {
		servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: body}), 200)
	}
	// Requiring single sign-on is turned on from a session signed in through it, never from one that could
	// lock its admin out: a password session, or one through another organization's provider.
	admin, err := token.NewVerifier(f.Env.Keys, servicetest.Issuer, servicetest.Audience).Verify(acme.tokens["admin"], f.Env.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, amr := range []string{"", "pwd", "sso:" + bravo.id.String()} {
		p := admin
		p.AMR = amr
		errs := problemErrors(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: f.Token(t, p), Body: ssoSettings(good.Issuer(), map[string]any{"required": true})}))
		if !slices.Equal(keys(errs), []string{"sso.required"}) {
			t.Fatalf("amr %q: failing fields %v", amr, errs)
		}
	}
	admin.AMR = "sso:" + acme.id.String()
	viaSSO := f.Token(t, admin)
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: viaSSO, Body: ssoSettings(good.Issuer(), map[string]any{"required": true})}), 200)
	got := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: path, Bearer: acme.tokens["viewer"]}), 200)
	var s struct {
		SSO map[string]any `json:"sso"`
	}
	if err := json.Unmarshal([]byte(got.Raw), &s); err != nil || s.SSO["issuer"] != good.Issuer() || s.SSO["required"] != true {
		t.Fatalf("stored connection %s", got.Raw)
	}

	// Once saved, a change elsewhere in the settings does not depend on the provider answering.
	if err := good.Shutdown(); err != nil {
		t.Fatal(err)
	}
	body := ssoSettings(good.Issuer(), map[string]any{"required": true, "client_secret": "****"})
	body["features"] = map[string]bool{"beta": true}
	// Kept on, it no longer needs the proof.
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: body}), 200)
	// But pointing the connection somewhere new does.
	moved := ssoSettings(good.Issuer()+"/", map[string]any{"required": true})
	if errs := problemErrors(t, servicetest.Do(t, h, req{Method: "PUT", Path: path, Bearer: acme.tokens["admin"], Body: moved})); !slices.Equal(keys(errs), []string{"sso.issuer"}) {
		t.Fatalf("failing fields %v", errs)
	}
	// Bravo sees none of acme's connection.
	if res := servicetest.Do(t, h, req{Method: "GET", Path: path, Bearer: bravo.tokens["owner"]}); !strings.Contains(res.Raw, `"sso":null`) {
		t.Fatalf("bravo reads %s", res.Raw)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
