package tenants

import (
	"net/http"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

type req = servicetest.Request

func signUpBody(slug, email, password string) map[string]any {
	return map[string]any{"name": "Org " + slug, "slug": slug, "owner": map[string]any{"email": email, "password": password, "name": "Owner"}}
}

func TestSignUp(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants", Body: signUpBody("acme", "Ada@Acme.test", servicetest.Password)}), http.StatusCreated)
	tenant, _ := res.Body["tenant"].(map[string]any)
	if tenant["slug"] != "acme" || tenant["name"] != "Org acme" || tenant["status"] != "active" {
		t.Fatalf("tenant = %v", tenant)
	}
	if res.Str("token_type") != "Bearer" || res.Body["expires_in"] != float64(900) || res.Str("refresh_token") == "" {
		t.Fatalf("tokens = %s", res.Raw)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store: the answer carries a refresh token", cc)
	}
	p, err := token.NewVerifier(f.Env.Keys, servicetest.Issuer, servicetest.Audience).Verify(res.Str("access_token"), f.Env.Now())
	if err != nil || p.TenantID.String() != tenant["id"] || p.Role != "owner" || p.IdentityID == uuid.Nil {
		t.Fatalf("access token principal %+v (%v), want the new tenant's owner", p, err)
	}
}

func TestSignUpFailures(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "taken", "first@example.test")
	const pw = servicetest.Password
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"taken slug", signUpBody("taken", "other@example.test", pw), 409, "slug_taken"},
		{"malformed slug", signUpBody("Not A Slug", "o@example.test", pw), 422, "validation_failed"},
		{"reserved slug", signUpBody("admin", "o@example.test", pw), 422, "validation_failed"},
		{"short password", signUpBody("shorty", "o@example.test", "short"), 422, "validation_failed"},
		{"bad email", signUpBody("bademail", "not-an-email", pw), 422, "validation_failed"},
		{"existing email, wrong password", signUpBody("hijack", "first@example.test", "another long password"), 401, "invalid_credentials"},
		{"malformed json", `{"name":"x",`, 400, "malformed_json"},
		{"unknown field", `{"name":"x","plan":"enterprise"}`, 422, "validation_failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants", Body: tc.body}), tc.status, tc.code)
		})
	}
	var n int
	if err := f.DB.Owner.QueryRow(t.Context(), `SELECT count(*) FROM directory.tenants`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d tenants after refused sign-ups (err %v), want only the first", n, err)
	}
	// The same person signs a second organization up with their password.
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/tenants", Body: signUpBody("second", "first@example.test", pw)}), 201)
}
