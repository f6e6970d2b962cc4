package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/scripts/gateway"
	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const password = "correct horse battery"

// platformTest is the whole platform over a private database, routed by the real gateway document.
type platformTest struct {
	t      *testing.T
	srv    *httptest.Server
	env    *service.Env
	signer *ecdsa.PrivateKey
}

func newPlatform(t *testing.T) *platformTest {
	t.Helper()
	d := dbtest.New(t)
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemText, err := token.EncodePrivatePEM(signer)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.ParseKeySet(pemText, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := service.Config{}
	cfg.Env = "test"
	cfg.Token = token.Config{Issuer: "https://hyperscale.test", Audience: "hyperscale-api", AccessTTL: 15 * time.Minute, RefreshTTL: 7 * 24 * time.Hour}
	env := service.WithKeys(cfg, slog.New(slog.DiscardHandler), d.DB, keys)
	wd, _ := os.Getwd()
	doc, err := gateway.FindDocument(wd)
	if err != nil {
		t.Fatal(err)
	}
	h, err := platform(env, doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &platformTest{t: t, srv: srv, env: env, signer: signer}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (p *platformTest) do(method, path, bearer string, body any, header ...string) response {
	p.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			p.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, p.srv.URL+path, r)
	if err != nil {
		p.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

func (p *platformTest) expect(res response, status int) response {
	p.t.Helper()
	if res.status != status {
		p.t.Fatalf("status %d, want %d; body %s", res.status, status, res.raw)
	}
	return res
}

// signUp creates an organization and returns its sign-up answer.
func (p *platformTest) signUp(slug, email string) response {
	p.t.Helper()
	return p.expect(p.do("POST", "/v1/tenants", "", map[string]any{
		"name": "Org " + slug, "slug": slug, "owner": map[string]any{"email": email, "password": password, "name": "Owner"},
	}), http.StatusCreated)
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func TestSliceEndToEnd(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)

	su := p.signUp("acme", "Ada@Acme.test")
	tenant, _ := su.body["tenant"].(map[string]any)
	if str(tenant, "slug") != "acme" || str(tenant, "name") != "Org acme" || str(tenant, "id") == "" {
		t.Fatalf("sign-up tenant = %v", tenant)
	}
	if str(su.body, "token_type") != "Bearer" || su.body["expires_in"] != float64(900) || str(su.body, "access_token") == "" || str(su.body, "refresh_token") == "" {
		t.Fatalf("sign-up tokens = %s", su.raw)
	}

	login := p.expect(p.do("POST", "/v1/auth/login", "", map[string]any{"email": "ada@acme.test", "password": password, "tenant": "acme"}), http.StatusOK)
	tok := str(login.body, "access_token")
	if tok == "" || str(login.body, "refresh_token") == "" || str(login.body, "token_type") != "Bearer" {
		t.Fatalf("login = %s", login.raw)
	}
	// The tenant may be left out by an identity with one membership.
	p.expect(p.do("POST", "/v1/auth/login", "", map[string]any{"email": "ada@acme.test", "password": password}), http.StatusOK)

	created := p.expect(p.do("POST", "/v1/projects", tok, map[string]any{"name": "Apollo", "description": "moon"}), http.StatusCreated)
	id := str(created.body, "id")
	if str(created.body, "name") != "Apollo" || created.header.Get("Location") != "/v1/projects/"+id {
		t.Fatalf("created = %s (Location %q)", created.raw, created.header.Get("Location"))
	}
	for i := 0; i < 2; i++ {
		p.expect(p.do("POST", "/v1/projects", tok, map[string]any{"name": fmt.Sprintf("P%d", i)}), http.StatusCreated)
	}
	first := p.expect(p.do("GET", "/v1/projects?limit=2", tok, nil), http.StatusOK)
	items, _ := first.body["items"].([]any)
	next := str(first.body, "next_cursor")
	if len(items) != 2 || next == "" {
		t.Fatalf("first page = %s", first.raw)
	}
	second := p.expect(p.do("GET", "/v1/projects?limit=2&cursor="+next, tok, nil), http.StatusOK)
	items, _ = second.body["items"].([]any)
	if len(items) != 1 || second.body["next_cursor"] != nil || str(items[0].(map[string]any), "id") != id {
		t.Fatalf("second page = %s; want only the first project and no cursor", second.raw)
	}

	got := p.expect(p.do("GET", "/v1/projects/"+id, tok, nil), http.StatusOK)
	if str(got.body, "description") != "moon" {
		t.Fatalf("get = %s", got.raw)
	}
	upd := p.expect(p.do("PUT", "/v1/projects/"+id, tok, map[string]any{"name": "Artemis", "description": "back"}), http.StatusOK)
	if str(upd.body, "name") != "Artemis" {
		t.Fatalf("put = %s", upd.raw)
	}
	p.expect(p.do("DELETE", "/v1/projects/"+id, tok, nil), http.StatusNoContent)
	p.expect(p.do("GET", "/v1/projects/"+id, tok, nil), http.StatusNotFound)
	p.expect(p.do("DELETE", "/v1/projects/"+id, tok, nil), http.StatusNotFound)

	jwks := p.expect(p.do("GET", "/.well-known/jwks.json", "", nil), http.StatusOK)
	keys, _ := jwks.body["keys"].([]any)
	if len(keys) != 1 || str(keys[0].(map[string]any), "alg") != "ES256" || keys[0].(map[string]any)["d"] != nil {
		t.Fatalf("jwks = %s", jwks.raw)
	}
	p.expect(p.do("GET", "/healthz", "", nil), http.StatusOK)
}

func TestSignUpFailures(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.signUp("taken", "first@example.test")
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"taken slug", map[string]any{"name": "X", "slug": "taken", "owner": map[string]any{"email": "other@example.test", "password": password}}, 409, "slug_taken"},
		{"malformed slug", map[string]any{"name": "X", "slug": "Not A Slug", "owner": map[string]any{"email": "o@example.test", "password": password}}, 422, "validation_failed"},
		{"reserved slug", map[string]any{"name": "X", "slug": "admin", "owner": map[string]any{"email": "o@example.test", "password": password}}, 422, "validation_failed"},
		{"short password", map[string]any{"name": "X", "slug": "shorty", "owner": map[string]any{"email": "o@example.test", "password": "short"}}, 422, "validation_failed"},
		{"bad email", map[string]any{"name": "X", "slug": "bademail", "owner": map[string]any{"email": "not-an-email", "password": password}}, 422, "validation_failed"},
		{"existing email, wrong password", map[string]any{"name": "X", "slug": "hijack", "owner": map[string]any{"email": "first@example.test", "password": "another long password"}}, 401, "invalid_credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := p.do("POST", "/v1/tenants", "", tc.body)
			if res.status != tc.status || str(res.body, "code") != tc.code || res.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("got %d %s, want %d %s as problem+json", res.status, res.raw, tc.status, tc.code)
			}
		})
	}
	// The same person may sign a second organization up with their password, and then must name one to log in.
	p.signUp("second", "first@example.test")
	res := p.expect(p.do("POST", "/v1/auth/login", "", map[string]any{"email": "first@example.test", "password": password}), 422)
	if errs, _ := res.body["errors"].([]any); len(errs) != 1 || str(errs[0].(map[string]any), "field") != "tenant" {
		t.Fatalf("login without tenant = %s", res.raw)
	}
}

func TestLoginDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	p.signUp("acme", "ada@acme.test")
	p.signUp("globex", "hank@globex.test")
	cases := map[string]map[string]any{
		"wrong password":        {"email": "ada@acme.test", "password": "wrong password!!"},
		"unknown email":         {"email": "nobody@acme.test", "password": password},
		"organization not hers": {"email": "ada@acme.test", "password": password, "tenant": "globex"},
		"no such organization":  {"email": "ada@acme.test", "password": password, "tenant": "nowhere"},
	}
	var bodies []string
	for name, body := range cases {
		res := p.do("POST", "/v1/auth/login", "", body)
		if res.status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", name, res.status)
		}
		bodies = append(bodies, res.raw)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("login failures differ: %q vs %q", b, bodies[0])
		}
	}
}

// TestBadInputIsAProblem sends malformed requests and bad tokens: each gets a 4xx problem+json, never a 500.
func TestBadInputIsAProblem(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	su := p.signUp("acme", "ada@acme.test")
	tok := str(su.body, "access_token")
	claims := func(now time.Time) jwt.MapClaims {
		var principal struct {
			Sub string `json:"sub"`
			Tid string `json:"tid"`
		}
		parts := strings.Split(tok, ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(b, &principal)
		return jwt.MapClaims{"iss": "https://hyperscale.test", "aud": "hyperscale-api", "sub": principal.Sub, "tid": principal.Tid,
			"role": "owner", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}
	}
	kid := func() string {
		k, _ := token.Thumbprint(&p.signer.PublicKey)
		return k
	}()
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(m, c)
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubPEM, _ := token.EncodePublicPEM(&p.signer.PublicKey)
	now := time.Now()
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." +
		strings.Split(sign(jwt.SigningMethodES256, p.signer, claims(now)), ".")[1] + "."

	tests := []struct {
		name   string
		method string
		path   string
		bearer string
		body   any
		header []string
		status int
		code   string
	}{
		{"malformed json", "POST", "/v1/projects", tok, `{"name":`, nil, 400, "malformed_json"},
		{"not an object", "POST", "/v1/projects", tok, `[1,2]`, nil, 400, "malformed_json"},
		{"trailing data", "POST", "/v1/projects", tok, `{"name":"a"} {"name":"b"}`, nil, 400, "malformed_json"},
		{"empty body", "POST", "/v1/projects", tok, ``, nil, 400, "empty_body"},
		{"unknown field", "POST", "/v1/projects", tok, `{"name":"a","owner":"me"}`, nil, 422, "validation_failed"},
		{"wrong type", "POST", "/v1/projects", tok, `{"name":42}`, nil, 422, "validation_failed"},
		{"oversized body", "POST", "/v1/projects", tok, `{"name":"a","description":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "body_too_large"},
		{"wrong media type", "POST", "/v1/projects", tok, `{"name":"a"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"missing name", "POST", "/v1/projects", tok, `{"description":"d"}`, nil, 422, "validation_failed"},
		{"bad limit", "GET", "/v1/projects?limit=1000", tok, nil, nil, 422, "validation_failed"},
		{"bad cursor", "GET", "/v1/projects?cursor=garbage", tok, nil, nil, 422, "validation_failed"},
		{"id not a uuid", "GET", "/v1/projects/not-a-uuid", tok, nil, nil, 404, "not_found"},
		{"unknown route", "GET", "/v1/nothing", tok, nil, nil, 404, "not_found"},
		{"wrong method", "PATCH", "/v1/projects", tok, nil, nil, 405, "method_not_allowed"},
		{"signup malformed", "POST", "/v1/tenants", "", `{"name":"x",`, nil, 400, "malformed_json"},
		{"signup unknown field", "POST", "/v1/tenants", "", `{"name":"x","plan":"enterprise"}`, nil, 422, "validation_failed"},
		{"login malformed", "POST", "/v1/auth/login", "", `nope`, nil, 400, "malformed_json"},
		{"login missing fields", "POST", "/v1/auth/login", "", `{}`, nil, 422, "validation_failed"},
		{"missing token", "GET", "/v1/projects", "", nil, nil, 401, "unauthenticated"},
		{"not a bearer", "GET", "/v1/projects", "", nil, []string{"Authorization", "Basic YTpi"}, 401, "unauthenticated"},
		{"garbage token", "GET", "/v1/projects", "not.a.jwt", nil, nil, 401, "invalid_token"},
		{"expired token", "GET", "/v1/projects", sign(jwt.SigningMethodES256, p.signer, claims(now.Add(-2*time.Hour))), nil, nil, 401, "token_expired"},
		{"not-yet-valid token", "GET", "/v1/projects", sign(jwt.SigningMethodES256, p.signer, claims(now.Add(time.Hour))), nil, nil, 401, "invalid_token"},
		{"wrongly signed token", "GET", "/v1/projects", sign(jwt.SigningMethodES256, other, claims(now)), nil, nil, 401, "invalid_token"},
		{"alg none token", "GET", "/v1/projects", none, nil, nil, 401, "invalid_token"},
		{"HS256 with the public key", "GET", "/v1/projects", sign(jwt.SigningMethodHS256, []byte(pubPEM), claims(now)), nil, nil, 401, "invalid_token"},
		{"wrong audience", "GET", "/v1/projects", sign(jwt.SigningMethodES256, p.signer, func() jwt.MapClaims { c := claims(now); c["aud"] = "elsewhere"; return c }()), nil, nil, 401, "invalid_token"},
		{"gateway-forwarded bad token", "GET", "/v1/projects", "", nil, []string{"X-Forwarded-Authorization", "Bearer not.a.jwt"}, 401, "invalid_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := p.do(tc.method, tc.path, tc.bearer, tc.body, tc.header...)
			if res.status != tc.status || str(res.body, "code") != tc.code {
				t.Fatalf("got %d %.300s, want %d %s", res.status, res.raw, tc.status, tc.code)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json", ct)
			}
		})
	}
	// A valid token minted here passes, so the refusals above come from what each token got wrong.
	p.expect(p.do("GET", "/v1/projects", sign(jwt.SigningMethodES256, p.signer, claims(now)), nil), http.StatusOK)
	// Nothing the bad requests sent was stored.
	list := p.expect(p.do("GET", "/v1/projects", tok, nil), http.StatusOK)
	if items, _ := list.body["items"].([]any); len(items) != 0 {
		t.Fatalf("bad requests stored projects: %s", list.raw)
	}
}

func TestAnotherTenantSeesNothingOverHTTP(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	a := str(p.signUp("acme", "ada@acme.test").body, "access_token")
	b := str(p.signUp("globex", "hank@globex.test").body, "access_token")
	id := str(p.expect(p.do("POST", "/v1/projects", a, map[string]any{"name": "A's plans"}), http.StatusCreated).body, "id")

	for _, tc := range []struct{ method, path string }{
		{"GET", "/v1/projects/" + id},
		{"PUT", "/v1/projects/" + id},
		{"DELETE", "/v1/projects/" + id},
	} {
		var body any
		if tc.method == "PUT" {
			body = map[string]any{"name": "taken over"}
		}
		res := p.do(tc.method, tc.path, b, body)
		if res.status != http.StatusNotFound || str(res.body, "code") != "not_found" {
			t.Fatalf("B %s %s = %d %s, want 404", tc.method, tc.path, res.status, res.raw)
		}
	}
	list := p.expect(p.do("GET", "/v1/projects", b, nil), http.StatusOK)
	if items, _ := list.body["items"].([]any); len(items) != 0 {
		t.Fatalf("B lists %s", list.raw)
	}
	got := p.expect(p.do("GET", "/v1/projects/"+id, a, nil), http.StatusOK)
	if str(got.body, "name") != "A's plans" {
		t.Fatalf("A's project after B's attempts: %s", got.raw)
	}
}

func TestViewerCannotWrite(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	su := p.signUp("acme", "ada@acme.test")
	tenant, _ := uuid.Parse(str(su.body["tenant"].(map[string]any), "id"))
	viewer, _, err := p.env.Issuer.Issue(token.Principal{IdentityID: uuid.New(), TenantID: tenant, Role: "viewer"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res := p.do("POST", "/v1/projects", viewer, map[string]any{"name": "nope"})
	if res.status != http.StatusForbidden || str(res.body, "code") != "forbidden" {
		t.Fatalf("viewer create = %d %s, want 403", res.status, res.raw)
	}
	p.expect(p.do("GET", "/v1/projects", viewer, nil), http.StatusOK)
}

func TestGatewayRoutesEveryOperation(t *testing.T) {
	t.Parallel()
	wd, _ := os.Getwd()
	doc, err := gateway.FindDocument(wd)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := gateway.LoadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if _, ok := functions[r.Function]; !ok {
			t.Errorf("%s %s routes to %s, which the dev server does not have", r.Method, r.Path, r.Function)
		}
	}
	// Each routed operation reaches its function's own router (anything but a router-level 404/405).
	p := newPlatform(t)
	for _, r := range routes {
		path := strings.ReplaceAll(r.Path, "{id}", uuid.NewString())
		res := p.do(r.Method, path, "", nil)
		if code := str(res.body, "code"); code == "method_not_allowed" || (res.status == 404 && r.Secured) {
			t.Errorf("%s %s: %d %s; the function does not serve a route the gateway sends it", r.Method, path, res.status, res.raw)
		}
		if r.Secured && res.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", r.Method, path, res.status)
		}
	}
	_ = context.Background()
}
