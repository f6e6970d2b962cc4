package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/coditect/hyperscale/scripts/gateway"
	"github.com/coditect/hyperscale/shared/contract"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
)

type req = servicetest.Request

// newPlatform is every function over one private database, routed by the real gateway document, allowing the
// browser origins make run allows.
func newPlatform(t *testing.T) (http.Handler, *servicetest.Fixture) {
	t.Helper()
	f := servicetest.New(t)
	f.Env.Config.CORS.AllowedOrigins = strings.Split(localOrigins(func(string) (string, bool) { return "", false }), ",")
	h, err := platform(f.Env, gatewayDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	return h, f
}

// TestSliceEndToEnd walks the README's walkthrough through the gateway's routes: sign up, log in, create,
// page through, read, replace and delete projects.
func TestSliceEndToEnd(t *testing.T) {
	t.Parallel()
	h, _ := newPlatform(t)
	do := func(r req, status int) servicetest.Response {
		t.Helper()
		return servicetest.Expect(t, servicetest.Do(t, h, r), status)
	}

	su := do(req{Method: "POST", Path: "/v1/tenants", Body: map[string]any{
		"name": "Acme", "slug": "acme", "owner": map[string]any{"email": "ada@acme.test", "password": servicetest.Password, "name": "Ada"},
	}}, http.StatusCreated)
	if tenant, _ := su.Body["tenant"].(map[string]any); tenant["slug"] != "acme" || su.Str("access_token") == "" {
		t.Fatalf("sign-up = %s", su.Raw)
	}
	tok := do(req{Method: "POST", Path: "/v1/auth/login", Body: map[string]any{"email": "ada@acme.test", "password": servicetest.Password, "tenant": "acme"}}, http.StatusOK).Str("access_token")

	id := do(req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": "Apollo", "description": "moon"}}, http.StatusCreated).Str("id")
	for i := 0; i < 2; i++ {
		do(req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": fmt.Sprintf("P%d", i)}}, http.StatusCreated)
	}
	first := do(req{Method: "GET", Path: "/v1/projects?limit=2", Bearer: tok}, http.StatusOK)
	if len(first.Items()) != 2 || first.Str("next_cursor") == "" {
		t.Fatalf("first page = %s", first.Raw)
	}
	second := do(req{Method: "GET", Path: "/v1/projects?limit=2&cursor=" + first.Str("next_cursor"), Bearer: tok}, http.StatusOK)
	if items := second.Items(); len(items) != 1 || items[0]["id"] != id || second.Body["next_cursor"] != nil {
		t.Fatalf("second page = %s; want only the first project and no cursor", second.Raw)
	}
	do(req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}, http.StatusOK)
	if u := do(req{Method: "PUT", Path: "/v1/projects/" + id, Bearer: tok, Body: map[string]any{"name": "Artemis"}}, http.StatusOK); u.Str("name") != "Artemis" {
		t.Fatalf("put = %s", u.Raw)
	}
	do(req{Method: "DELETE", Path: "/v1/projects/" + id, Bearer: tok}, http.StatusNoContent)
	do(req{Method: "GET", Path: "/v1/projects/" + id, Bearer: tok}, http.StatusNotFound)
	if keys, _ := do(req{Method: "GET", Path: "/.well-known/jwks.json"}, http.StatusOK).Body["keys"].([]any); len(keys) != 1 {
		t.Fatal("jwks has no key")
	}
	do(req{Method: "GET", Path: "/healthz"}, http.StatusOK)
}

// TestBadInputIsAProblem sends malformed requests and bad tokens through the router: each gets a 4xx
// problem+json, never a 500, and nothing is stored.
func TestBadInputIsAProblem(t *testing.T) {
	t.Parallel()
	h, f := newPlatform(t)
	p := f.SignUp(t, "acme", "ada@acme.test")
	tok, sess := f.TokenSession(t, p)
	kid, err := token.Thumbprint(&f.Signer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(at time.Time, edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": servicetest.Issuer, "aud": servicetest.Audience, "sub": p.IdentityID.String(), "tid": p.TenantID.String(),
			"role": "owner", "iat": at.Unix(), "nbf": at.Unix(), "exp": at.Add(15 * time.Minute).Unix(),
			"sid": sess.ID.String(), "mv": sess.MembershipVersion}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(m, c)
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := token.EncodePublicPEM(&f.Signer.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." +
		strings.Split(sign(jwt.SigningMethodES256, f.Signer, claims(now, nil)), ".")[1] + "."

	tests := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"malformed json", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: `{"name":`}, 400, "malformed_json"},
		{"not an object", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: `[1,2]`}, 400, "malformed_json"},
		{"trailing data", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: `{"name":"a"} {"name":"b"}`}, 400, "malformed_json"},
		{"empty body", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: ``}, 400, "empty_body"},
		{"unknown field", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: `{"name":"a","owner":"me"}`}, 422, "validation_failed"},
		{"oversized body", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: `{"name":"a","description":"` + strings.Repeat("x", 1<<20) + `"}`}, 413, "body_too_large"},
		{"wrong media type", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: `{"name":"a"}`, Header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type"},
		{"unknown route", req{Method: "GET", Path: "/v1/nothing", Bearer: tok}, 404, "not_found"},
		{"wrong method", req{Method: "PATCH", Path: "/v1/projects", Bearer: tok}, 405, "method_not_allowed"},
		{"sign-up malformed", req{Method: "POST", Path: "/v1/tenants", Body: `{"name":"x",`}, 400, "malformed_json"},
		{"login malformed", req{Method: "POST", Path: "/v1/auth/login", Body: `nope`}, 400, "malformed_json"},
		{"missing token", req{Method: "GET", Path: "/v1/projects"}, 401, "unauthenticated"},
		{"not a bearer", req{Method: "GET", Path: "/v1/projects", Header: map[string]string{"Authorization": "Basic YTpi"}}, 401, "unauthenticated"},
		{"garbage token", req{Method: "GET", Path: "/v1/projects", Bearer: "not.a.jwt"}, 401, "invalid_token"},
		{"expired token", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now.Add(-2*time.Hour), nil))}, 401, "token_expired"},
		{"not-yet-valid token", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now.Add(time.Hour), nil))}, 401, "invalid_token"},
		{"wrongly signed token", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, other, claims(now, nil))}, 401, "invalid_token"},
		{"alg none token", req{Method: "GET", Path: "/v1/projects", Bearer: none}, 401, "invalid_token"},
		{"HS256 keyed with the public key", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodHS256, []byte(pubPEM), claims(now, nil))}, 401, "invalid_token"},
		{"wrong audience", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now, func(c jwt.MapClaims) { c["aud"] = "elsewhere" }))}, 401, "invalid_token"},
		{"token without a session", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now, func(c jwt.MapClaims) { delete(c, "sid") }))}, 401, "invalid_token"},
		{"token of an unknown session", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now, func(c jwt.MapClaims) { c["sid"] = uuid.NewString() }))}, 401, "invalid_token"},
		{"token of another membership version", req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now, func(c jwt.MapClaims) { c["mv"] = sess.MembershipVersion + 1 }))}, 401, "token_stale"},
		{"gateway-forwarded bad token", req{Method: "GET", Path: "/v1/projects", Header: map[string]string{"X-Forwarded-Authorization": "Bearer not.a.jwt"}}, 401, "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			servicetest.ExpectProblem(t, servicetest.Do(t, h, tc.r), tc.status, tc.code)
		})
	}
	// A well-made token passes, so each refusal above comes from what its token got wrong.
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: sign(jwt.SigningMethodES256, f.Signer, claims(now, nil))}), http.StatusOK)
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Header: map[string]string{"X-Forwarded-Authorization": "Bearer " + tok}}), http.StatusOK)
	if l := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/projects", Bearer: tok}), http.StatusOK); len(l.Items()) != 0 {
		t.Fatalf("bad requests stored projects: %s", l.Raw)
	}
}

// TestGatewayRoutesEveryOperation: every operation of the gateway document names a function the dev server
// has, and reaches that function's own router (never its 404/405), secured ones asking for a token; an
// OPTIONS operation, sent as the browser's preflight it stands for, is answered 204 by the function's edge.
func TestGatewayRoutesEveryOperation(t *testing.T) {
	t.Parallel()
	routes := gatewayRoutes(t)
	h, _ := newPlatform(t)
	for _, r := range routes {
		if _, ok := functions[r.Function]; !ok {
			t.Errorf("%s %s routes to %s, which the dev server does not have", r.Method, r.Path, r.Function)
			continue
		}
		path := strings.ReplaceAll(r.Path, "{id}", uuid.NewString())
		if r.Method == http.MethodOptions {
			res := servicetest.Do(t, h, req{Method: r.Method, Path: path, Header: map[string]string{"Origin": devFrontendOrigin, "Access-Control-Request-Method": "GET"}})
			if res.Status != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != devFrontendOrigin {
				t.Errorf("preflight %s %s: %d %s, want 204 with Access-Control-Allow-Origin", r.Method, path, res.Status, res.Raw)
			}
			continue
		}
		res := servicetest.Do(t, h, req{Method: r.Method, Path: path})
		if r.Secured && res.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d %s, want 401", r.Method, path, res.Status, res.Raw)
		}
		if code := res.Str("code"); code == "method_not_allowed" || code == "not_found" {
			t.Errorf("%s %s: %d %s; the function does not serve a route the gateway sends it", r.Method, path, res.Status, res.Raw)
		}
	}
}

// gatewayDocument returns the path of the repository's gateway document.
func gatewayDocument(t *testing.T) string {
	t.Helper()
	doc, err := contract.FindDocument(".")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// gatewayRoutes returns the routes of the repository's gateway document.
func gatewayRoutes(t *testing.T) []gateway.Route {
	t.Helper()
	routes, err := gateway.LoadFile(gatewayDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	return routes
}
