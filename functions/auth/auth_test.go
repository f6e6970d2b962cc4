package auth

import (
	"net/http"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
)

type req = servicetest.Request

func login(email, password, tenant string) req {
	body := map[string]any{"email": email, "password": password}
	if tenant != "" {
		body["tenant"] = tenant
	}
	return req{Method: "POST", Path: "/v1/auth/login", Body: body}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	verifier := token.NewVerifier(f.Env.Keys, servicetest.Issuer, servicetest.Audience)

	for _, tc := range []struct{ name, email, tenant string }{
		{"with the organization", "ada@acme.test", "acme"},
		{"one membership, organization left out", "ada@acme.test", ""},
		{"email in another case", "ADA@acme.test", "acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := servicetest.Expect(t, servicetest.Do(t, h, login(tc.email, servicetest.Password, tc.tenant)), http.StatusOK)
			p, err := verifier.Verify(res.Str("access_token"), f.Env.Now())
			if err != nil || p != ada {
				t.Fatalf("principal %+v (%v), want %+v", p, err, ada)
			}
			if res.Str("refresh_token") == "" || res.Str("token_type") != "Bearer" || res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("login = %s", res.Raw)
			}
		})
	}

	f.SignUp(t, "globex", "hank@globex.test")
	// Ada joins globex by signing it up again with her password: now she has to name an organization.
	f.SignUp(t, "initech", "ada@acme.test")
	res := servicetest.Do(t, h, login("ada@acme.test", servicetest.Password, ""))
	servicetest.ExpectProblem(t, res, 422, "validation_failed")
	if errs, _ := res.Body["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "tenant" {
		t.Fatalf("login without tenant = %s", res.Raw)
	}

	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/login", Body: map[string]any{}}), 422, "validation_failed")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/login", Body: "nope"}), 400, "malformed_json")
}

// TestLoginDoesNotRevealAccounts: every credential failure gets the same status and the same body.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	f.SignUp(t, "globex", "hank@globex.test")
	var first string
	for _, r := range []req{
		login("ada@acme.test", "wrong password!!", "acme"),
		login("nobody@acme.test", servicetest.Password, ""),
		login("ada@acme.test", servicetest.Password, "globex"),
		login("ada@acme.test", servicetest.Password, "nowhere"),
	} {
		res := servicetest.Do(t, h, r)
		servicetest.ExpectProblem(t, res, http.StatusUnauthorized, "invalid_credentials")
		if first == "" {
			first = res.Raw
		}
		if res.Raw != first {
			t.Fatalf("failure bodies differ: %q vs %q", res.Raw, first)
		}
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	res := servicetest.Expect(t, servicetest.Do(t, New(f.Env), req{Method: "GET", Path: "/.well-known/jwks.json"}), http.StatusOK)
	keys, _ := res.Body["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("jwks = %s", res.Raw)
	}
	k := keys[0].(map[string]any)
	kid, _ := token.Thumbprint(&f.Signer.PublicKey)
	if k["alg"] != "ES256" || k["kty"] != "EC" || k["kid"] != kid || k["d"] != nil {
		t.Fatalf("jwk = %v; want the public ES256 key with its thumbprint as kid", k)
	}
}
