package auth

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/secrets/secretstest"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/sso/ssotest"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// returnURL is the frontend page the tests' sign-ins go back to; the allow list admits its origin.
const returnURL = "https://app.acme.test/signed-in"

// clock is a test clock that moves forward on request; it is read by server goroutines, so it is atomic.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// ssoWorld is one test's platform: the auth function's SSO routes on a real HTTP server, a real OIDC provider
// beside it, and an in-process Secret Manager holding the provider's client secret under each organization's
// own secret name.
type ssoWorld struct {
	f     *servicetest.Fixture
	idp   *ssotest.Provider
	srv   *httptest.Server
	clock *clock
	// acme is the owner of the organization acme, whose connection points at idp.
	acme token.Principal
	// orgs are the owners of the other organizations the world was made with, by slug.
	orgs map[string]token.Principal
}

// newSSOWorld makes the world with acme connected to the provider, and the organizations others signed up
// (owner owner@<slug>.test) but not connected.
func newSSOWorld(t *testing.T, others ...string) *ssoWorld {
	t.Helper()
	f := servicetest.New(t)
	w := &ssoWorld{f: f, idp: ssotest.New(t), clock: &clock{}, orgs: map[string]token.Principal{}}
	f.Env.Now = w.clock.Now
	w.acme = f.SignUp(t, "acme", "ada@acme.test")
	stored := map[string]string{secretPath(w.acme.TenantID): w.idp.ClientSecret}
	for _, slug := range others {
		w.orgs[slug] = f.SignUp(t, slug, "owner@"+slug+".test")
		stored[secretPath(w.orgs[slug].TenantID)] = w.idp.ClientSecret
	}
	addr, _ := secretstest.NewServer(t, stored)
	res, err := secrets.NewResolver(context.Background(), secretstest.ClientOptions(addr)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = res.Close() })
	h, err := newSSOHandler(f.Env, ssoOptions{cfg: sso.Config{ReturnURLs: []string{"https://app.acme.test"}}, secrets: res})
	if err != nil {
		t.Fatal(err)
	}
	mux := f.Env.Mux()
	h.register(mux)
	w.srv = httptest.NewServer(f.Env.Handler(mux))
	t.Cleanup(w.srv.Close)
	w.connect(t, w.acme.TenantID, w.connection(w.acme.TenantID))
	w.verifyDomain(t, w.acme.TenantID, "acme.test")
	return w
}

// secretPath is the Secret Manager version holding tenantID's client secret, named as the tenants function
// requires (tenancy.SSOSecretName).
func secretPath(tenantID uuid.UUID) string {
	return "projects/p/secrets/" + tenancy.SSOSecretName(tenantID) + "/versions/1"
}

// connection is a valid, enabled connection of tenantID to the world's provider.
func (w *ssoWorld) connection(tenantID uuid.UUID) sso.Connection {
	return sso.Connection{
		Enabled: true, Issuer: w.idp.Issuer(), ClientID: w.idp.ClientID, ClientSecret: "secret://" + secretPath(tenantID),
		AllowedDomains: []string{"acme.test"}, DefaultRole: "member",
	}
}

// connect stores c as tenantID's connection, as the tenants function's settings do.
func (w *ssoWorld) connect(t *testing.T, tenantID uuid.UUID, c sso.Connection) {
	t.Helper()
	if err := c.Validate(true); err != nil {
		t.Fatalf("test connection is invalid: %v", err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.f.DB.Owner.Exec(context.Background(), `INSERT INTO tenant.settings (tenant_id, sso) VALUES ($1, $2)
		ON CONFLICT (tenant_id) DO UPDATE SET sso = EXCLUDED.sso`, tenantID, data); err != nil {
		t.Fatal(err)
	}
}

func (w *ssoWorld) verifyDomain(t *testing.T, tenantID uuid.UUID, domain string) {
	t.Helper()
	if _, err := w.f.DB.Owner.Exec(context.Background(), `INSERT INTO directory.domains (id, tenant_id, domain, verification_token, verified_at)
		VALUES ($1, $2, $3, 'token', now())`, uuid.Must(uuid.NewV7()), tenantID, domain); err != nil {
		t.Fatal(err)
	}
}

func (w *ssoWorld) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := w.f.DB.Owner.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func (w *ssoWorld) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := w.f.DB.Owner.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// browser is a user agent with a cookie jar that follows no redirect by itself, so each hop can be checked.
type browser struct {
	c *http.Client
}

func newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// answer is one HTTP answer with its body read.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (a answer) str(key string) string {
	s, _ := a.body[key].(string)
	return s
}

func (b *browser) get(t *testing.T, u string) answer {
	t.Helper()
	res, err := b.c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: string(data)}
	_ = json.Unmarshal(data, &a.body)
	return a
}

func expectProblem(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.str("code") != code || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s %.400s, want %d %s problem", a.status, a.header.Get("Content-Type"), a.raw, status, code)
	}
}

// startURL is the start route of slug, with returnTo when not empty.
func (w *ssoWorld) startURL(slug, returnTo string) string {
	u := w.srv.URL + "/v1/auth/sso/" + slug + "/start"
	if returnTo != "" {
		u += "?return_to=" + url.QueryEscape(returnTo)
	}
	return u
}

// authorize starts a sign-in to slug in b and lets the provider approve user: it returns the URL of the
// provider's redirect back to the callback, after checking the authorization request on the way.
func (w *ssoWorld) authorize(t *testing.T, b *browser, slug, returnTo string, user ssotest.User) *url.URL {
	t.Helper()
	start := b.get(t, w.startURL(slug, returnTo))
	if start.status != http.StatusFound {
		t.Fatalf("start = %d %s", start.status, start.raw)
	}
	authz, err := url.Parse(start.header.Get("Location"))
	if err != nil || !strings.HasPrefix(authz.String(), w.idp.AuthorizationEndpoint()+"?") {
		t.Fatalf("start redirects to %q, want the provider's authorization endpoint", start.header.Get("Location"))
	}
	q := authz.Query()
	for k, want := range map[string]string{
		"response_type": "code", "scope": "openid email profile", "code_challenge_method": "S256", "client_id": w.idp.ClientID,
		"redirect_uri": w.srv.URL + "/v1/auth/sso/" + slug + "/callback",
	} {
		if q.Get(k) != want {
			t.Fatalf("authorization %s = %q, want %q (%s)", k, q.Get(k), want, authz)
		}
	}
	if len(q.Get("code_challenge")) != 43 || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request lacks PKCE, nonce or state: %s", authz)
	}
	if start.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("start Cache-Control = %q", start.header.Get("Cache-Control"))
	}
	cookie := start.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=600"} {
		if !strings.Contains(cookie, attr) {
			t.Fatalf("verifier cookie %q lacks %s", cookie, attr)
		}
	}
	w.idp.SignInNext(user)
	back := b.get(t, authz.String())
	cb, err := url.Parse(back.header.Get("Location"))
	if back.status != http.StatusFound || err != nil || !strings.HasPrefix(cb.String(), w.srv.URL+"/v1/auth/sso/"+slug+"/callback?") {
		t.Fatalf("provider answered %d %q %s", back.status, back.header.Get("Location"), back.raw)
	}
	return cb
}

// signIn walks the whole redirect flow for user and returns the callback's answer.
func (w *ssoWorld) signIn(t *testing.T, b *browser, slug, returnTo string, user ssotest.User) answer {
	t.Helper()
	return b.get(t, w.authorize(t, b, slug, returnTo, user).String())
}

func person(email string) ssotest.User {
	return ssotest.User{Subject: "sub-" + email, Email: email, EmailVerified: true, Name: "Person " + email}
}

// verify checks an access token and returns its principal.
func (w *ssoWorld) verify(t *testing.T, raw string) token.Principal {
	t.Helper()
	p, err := token.NewVerifier(w.f.Env.Keys, servicetest.Issuer, servicetest.Audience).Verify(raw, time.Now())
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	return p
}

func TestSSOSignInProvisions(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	ctx := context.Background()
	b := newBrowser()

	res := w.signIn(t, b, "acme", "", person("grace@acme.test"))
	if res.status != http.StatusOK || res.str("refresh_token") == "" || res.str("token_type") != "Bearer" || res.body["expires_in"] != 900.0 {
		t.Fatalf("callback = %d %s", res.status, res.raw)
	}
	if res.header.Get("Cache-Control") != "no-store" || res.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("callback headers = %v", res.header)
	}
	if !strings.Contains(res.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("the verifier cookie is not cleared: %q", res.header.Get("Set-Cookie"))
	}
	p := w.verify(t, res.str("access_token"))
	if tenant, _ := res.body["tenant"].(map[string]any); p.TenantID != w.acme.TenantID || p.Role != "member" ||
		tenant["slug"] != "acme" || tenant["id"] != w.acme.TenantID.String() || tenant["role"] != "member" {
		t.Fatalf("principal %+v, answer %s", p, res.raw)
	}

	var (
		name   string
		hashed bool
		role   string
	)
	if err := w.f.DB.Owner.QueryRow(ctx, `SELECT i.name, i.password_hash IS NOT NULL, m.role FROM directory.identities i
		JOIN directory.memberships m ON m.identity_id = i.id AND m.tenant_id = $2 WHERE i.id = $1 AND i.email = 'grace@acme.test'`,
		p.IdentityID, w.acme.TenantID).Scan(&name, &hashed, &role); err != nil {
		t.Fatalf("provisioned identity: %v", err)
	}
	if name != "Person grace@acme.test" || hashed || role != "member" {
		t.Fatalf("identity name %q, password %v, role %q", name, hashed, role)
	}
	var changes map[string]map[string]any
	if err := w.f.DB.Owner.QueryRow(ctx, `SELECT changes FROM tenant.activity WHERE tenant_id = $1 AND entity_type = 'member'
		AND entity_id = $2 AND action = 'created' AND actor_id = $2`, w.acme.TenantID, p.IdentityID).Scan(&changes); err != nil {
		t.Fatalf("activity: %v", err)
	}
	if changes["role"]["new"] != "member" || changes["via"]["new"] != "sso" || changes["email"]["new"] != "grace@acme.test" {
		t.Fatalf("activity changes = %v", changes)
	}
	var event map[string]any
	if err := w.f.DB.Owner.QueryRow(ctx, `SELECT data FROM tenant.outbox WHERE tenant_id = $1 AND type = 'user.joined'`,
		w.acme.TenantID).Scan(&event); err != nil {
		t.Fatalf("user.joined: %v", err)
	}
	if event["identity_id"] != p.IdentityID.String() || event["actor_id"] != p.IdentityID.String() || event["role"] != "member" ||
		event["email"] != "grace@acme.test" || event["name"] != "Person grace@acme.test" || event["via"] != "sso" {
		t.Fatalf("user.joined = %v", event)
	}

	// A second sign-in, from another browser and back to the frontend, finds the same person and member.
	again := w.signIn(t, newBrowser(), "acme", returnURL+"?next=%2Fprojects", person("Grace@ACME.test"))
	loc := again.header.Get("Location")
	if again.status != http.StatusFound || !strings.HasPrefix(loc, returnURL+"?next=%2Fprojects#") || again.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("callback with return_to = %d %q %s", again.status, loc, again.raw)
	}
	frag, err := url.ParseQuery(loc[strings.IndexByte(loc, '#')+1:])
	if err != nil {
		t.Fatal(err)
	}
	if frag.Get("token_type") != "Bearer" || frag.Get("expires_in") != "900" || frag.Get("refresh_token") == "" || frag.Get("tenant") != "acme" {
		t.Fatalf("fragment = %v", frag)
	}
	if p2 := w.verify(t, frag.Get("access_token")); p2 != p {
		t.Fatalf("second sign-in principal %+v, want %+v", p2, p)
	}
	if again.raw != "" {
		t.Fatalf("the redirect has a body, which would repeat the tokens: %q", again.raw)
	}
	if n := w.count(t, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'user.joined'`, w.acme.TenantID); n != 1 {
		t.Fatalf("%d user.joined events, want 1", n)
	}
	if n := w.count(t, `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND tenant_id = $2`, p.IdentityID, w.acme.TenantID); n != 2 {
		t.Fatalf("%d sessions, want 2", n)
	}
}

func TestSSOExistingIdentities(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	// Hank has a password account in another organization, whose email he proved: single sign-on makes him a
	// member of acme too, and keeps his password.
	hank := w.f.SignUp(t, "globex", "hank@acme.test")
	w.exec(t, `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, hank.IdentityID)
	res := w.signIn(t, newBrowser(), "acme", "", person("hank@acme.test"))
	if res.status != http.StatusOK {
		t.Fatalf("callback = %d %s", res.status, res.raw)
	}
	if p := w.verify(t, res.str("access_token")); p.IdentityID != hank.IdentityID || p.TenantID != w.acme.TenantID || p.Role != "member" {
		t.Fatalf("principal %+v", p)
	}
	if n := w.count(t, `SELECT count(*) FROM directory.identities WHERE id = $1 AND password_hash IS NOT NULL`, hank.IdentityID); n != 1 {
		t.Fatal("sign-in dropped the password of an identity whose email was proven")
	}
	// Ada owns acme: signing in keeps her role, and records no new member.
	w.exec(t, `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, w.acme.IdentityID)
	res = w.signIn(t, newBrowser(), "acme", "", person("ada@acme.test"))
	want := w.acme
	want.AMR = "sso:" + w.acme.TenantID.String()
	if p := w.verify(t, res.str("access_token")); res.status != http.StatusOK || p != want {
		t.Fatalf("owner sign-in = %d %s", res.status, res.raw)
	}
	if n := w.count(t, `SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'user.joined'`, w.acme.TenantID); n != 1 {
		t.Fatalf("%d user.joined events, want 1 (hank's)", n)
	}
}

func TestSSOCallbackRefusals(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t, "globex", "initech")
	globex, initech := w.orgs["globex"], w.orgs["initech"]
	w.connect(t, globex.TenantID, w.connection(globex.TenantID))
	labs := w.connection(w.acme.TenantID)
	labs.AllowedDomains = []string{"acme.test", "acme-labs.test"}
	w.connect(t, w.acme.TenantID, labs)
	ic := w.connection(initech.TenantID)
	ic.AllowedDomains = []string{"initech.test"}
	w.connect(t, initech.TenantID, ic)
	w.verifyDomain(t, initech.TenantID, "initech.test")
	// Initech's sign-in works until the organization is suspended (the last case).
	if ok := w.signIn(t, newBrowser(), "initech", "", person("milton@initech.test")); ok.status != http.StatusOK {
		t.Fatalf("initech sign-in = %d %s", ok.status, ok.raw)
	}

	tamper := func(edit func(*ssotest.Claims)) ssotest.User {
		u := person("mallory@acme.test")
		u.Tamper = edit
		return u
	}
	setQuery := func(key, value string) func(*testing.T, *url.URL) {
		return func(_ *testing.T, u *url.URL) {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
		}
	}
	tests := []struct {
		name string
		slug string
		user ssotest.User
		// between edits the callback URL (or the world) before the browser follows it.
		between func(*testing.T, *url.URL)
		// fresh follows the callback in another browser, which never started the sign-in.
		fresh  bool
		status int
		code   string
	}{
		{name: "wrong nonce", user: tamper(func(c *ssotest.Claims) { c.Nonce = "not-the-nonce" }), status: 401, code: "invalid_id_token"},
		{name: "wrong audience", user: tamper(func(c *ssotest.Claims) { c.Audience = jwt.ClaimStrings{"another-client"} }), status: 401, code: "invalid_id_token"},
		{name: "expired ID token", user: tamper(func(c *ssotest.Claims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
			c.NotBefore = c.IssuedAt
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		}), status: 401, code: "invalid_id_token"},
		{name: "wrong issuer", user: tamper(func(c *ssotest.Claims) { c.Issuer = "https://idp.evil.test" }), status: 401, code: "invalid_id_token"},
		{name: "email not verified", user: ssotest.User{Subject: "s", Email: "mallory@acme.test"}, status: 403, code: "email_not_verified"},
		{name: "no email", user: ssotest.User{Subject: "s", EmailVerified: true}, status: 403, code: "email_not_verified"},
		{name: "disallowed email domain", user: person("mallory@evil.test"), status: 403, code: "email_domain_not_allowed"},
		{name: "lookalike email domain", user: person("mallory@evilacme.test"), status: 403, code: "email_domain_not_allowed"},
		{name: "allowed but unverified domain", user: person("mallory@acme-labs.test"), status: 403, code: "email_domain_not_verified"},
		{name: "tampered state", user: person("mallory@acme.test"), between: func(t *testing.T, u *url.URL) {
			st := u.Query().Get("state")
			i := len("s1.") + 5
			flipped := st[:i] + string("AB"[(strings.IndexByte("AB", st[i])+1)%2]) + st[i+1:]
			setQuery("state", flipped)(t, u)
		}, status: 401, code: "invalid_state"},
		{name: "missing state", user: person("mallory@acme.test"), between: setQuery("state", ""), status: 401, code: "invalid_state"},
		{name: "expired state", user: person("mallory@acme.test"), between: func(*testing.T, *url.URL) { w.clock.Advance(sso.StateTTL + time.Second) }, status: 401, code: "invalid_state"},
		{name: "another browser", user: person("mallory@acme.test"), fresh: true, status: 401, code: "invalid_state"},
		{name: "state of another organization", slug: "globex", user: person("mallory@acme.test"), between: func(_ *testing.T, u *url.URL) {
			u.Path = strings.Replace(u.Path, "/globex/", "/acme/", 1)
		}, status: 401, code: "invalid_state"},
		{name: "provider error", user: person("mallory@acme.test"), between: func(t *testing.T, u *url.URL) {
			q := url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}}
			u.RawQuery = q.Encode()
		}, status: 401, code: "sso_denied"},
		{name: "forged code", user: person("mallory@acme.test"), between: setQuery("code", "forged"), status: 401, code: "sso_exchange_failed"},
		{name: "no code", user: person("mallory@acme.test"), between: setQuery("code", ""), status: 401, code: "sso_exchange_failed"},
		{name: "organization suspended meanwhile", slug: "initech", user: person("mallory@initech.test"), between: func(t *testing.T, _ *url.URL) {
			w.exec(t, `UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, initech.TenantID)
		}, status: 404, code: "sso_not_found"},
	}
	// The cases share one provider and one clock, so they run in order.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.clock.offset.Store(0)
			slug := tc.slug
			if slug == "" {
				slug = "acme"
			}
			b := newBrowser()
			cb := w.authorize(t, b, slug, returnURL, tc.user)
			if tc.between != nil {
				tc.between(t, cb)
			}
			if tc.fresh {
				b = newBrowser()
			}
			expectProblem(t, b.get(t, cb.String()), tc.status, tc.code)
		})
	}
	if n := w.count(t, `SELECT count(*) FROM directory.identities WHERE email LIKE 'mallory@%'`); n != 0 {
		t.Fatalf("refused sign-ins provisioned %d identities", n)
	}
	if n := w.count(t, `SELECT count(*) FROM directory.refresh_token_families WHERE tenant_id = $1 AND identity_id <> $2`, w.acme.TenantID, w.acme.IdentityID); n != 0 {
		t.Fatalf("refused sign-ins opened %d sessions", n)
	}

	// A callback followed twice: the first succeeds, the replay is refused (its verifier cookie is spent).
	w.clock.offset.Store(0)
	b := newBrowser()
	cb := w.authorize(t, b, "acme", "", person("grace@acme.test"))
	if first := b.get(t, cb.String()); first.status != http.StatusOK {
		t.Fatalf("first callback = %d %s", first.status, first.raw)
	}
	expectProblem(t, b.get(t, cb.String()), 401, "invalid_state")
}

func TestSSOStartRefusals(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	disabled := w.f.SignUp(t, "initech", "peter@initech.test")
	c := w.connection(disabled.TenantID)
	c.Enabled = false
	w.connect(t, disabled.TenantID, c)
	w.f.SignUp(t, "globex", "hank@globex.test") // no settings at all
	suspended := w.f.SignUp(t, "umbrella", "al@umbrella.test")
	w.connect(t, suspended.TenantID, w.connection(suspended.TenantID))
	w.exec(t, `UPDATE directory.tenants SET status = 'suspended' WHERE id = $1`, suspended.TenantID)
	down := w.f.SignUp(t, "hooli", "gavin@hooli.test")
	c = w.connection(down.TenantID)
	c.Issuer = "http://" + closedAddr(t) + "/oidc"
	w.connect(t, down.TenantID, c)

	tests := []struct {
		name, slug, returnTo string
		status               int
		code                 string
	}{
		{"return_to of another site", "acme", "https://evil.test/", 400, "invalid_return_to"},
		{"return_to on a lookalike host", "acme", "https://app.acme.test.evil.test/", 400, "invalid_return_to"},
		{"return_to with credentials", "acme", "https://app.acme.test@evil.test/", 400, "invalid_return_to"},
		{"return_to over http", "acme", "http://app.acme.test/", 400, "invalid_return_to"},
		{"return_to with a fragment", "acme", returnURL + "#x", 400, "invalid_return_to"},
		{"return_to relative", "acme", "/signed-in", 400, "invalid_return_to"},
		{"return_to javascript", "acme", "javascript:alert(1)", 400, "invalid_return_to"},
		{"unknown organization", "nowhere", "", 404, "sso_not_found"},
		{"disabled connection", "initech", "", 404, "sso_not_found"},
		{"no connection", "globex", "", 404, "sso_not_found"},
		{"suspended organization", "umbrella", "", 404, "sso_not_found"},
		{"provider unreachable", "hooli", "", 502, "sso_provider_unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newBrowser().get(t, w.startURL(tc.slug, tc.returnTo))
			expectProblem(t, a, tc.status, tc.code)
			if a.header.Get("Set-Cookie") != "" {
				t.Fatalf("a refused start set a cookie: %q", a.header.Get("Set-Cookie"))
			}
		})
	}
	// The refusals hide which organizations exist: unknown, disabled and suspended answer alike.
	first := newBrowser().get(t, w.startURL("nowhere", ""))
	for _, slug := range []string{"initech", "globex", "umbrella"} {
		if a := newBrowser().get(t, w.startURL(slug, "")); a.raw != first.raw {
			t.Fatalf("%s answers %q, unknown answers %q", slug, a.raw, first.raw)
		}
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestSSOConfiguration: production refuses a configuration whose states or callback URL cannot work across
// instances, and SSO_PUBLIC_URL names the callback.
func TestSSOConfiguration(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	prod := *f.Env
	prod.Config.Env = "production"
	key := "c2VjcmV0IHN0YXRlIGtleSBvZiB0aGlydHktdHdvIGJ5dGVzISE="
	for _, tc := range []struct {
		name string
		env  *service.Env
		cfg  sso.Config
		ok   bool
	}{
		{"production without a state key", &prod, sso.Config{PublicURL: "https://api.example.com"}, false},
		{"production without a public URL", &prod, sso.Config{StateKey: key}, false},
		{"production with both", &prod, sso.Config{StateKey: key, PublicURL: "https://api.example.com"}, true},
		{"short state key", f.Env, sso.Config{StateKey: "c2hvcnQ="}, false},
		{"test without either", f.Env, sso.Config{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSSOHandler(tc.env, ssoOptions{cfg: tc.cfg})
			if (err == nil) != tc.ok {
				t.Fatalf("newSSOHandler error %v, want ok=%v", err, tc.ok)
			}
		})
	}

	idp := ssotest.New(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	w := &ssoWorld{f: f, idp: idp}
	w.connect(t, owner.TenantID, w.connection(owner.TenantID))
	h, err := newSSOHandler(f.Env, ssoOptions{cfg: sso.Config{PublicURL: "https://api.example.com/", StateKey: key}})
	if err != nil {
		t.Fatal(err)
	}
	mux := f.Env.Mux()
	h.register(mux)
	res := servicetest.Do(t, f.Env.Handler(mux), req{Method: "GET", Path: "/v1/auth/sso/ACME/start"})
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.Status != http.StatusFound || loc.Query().Get("redirect_uri") != "https://api.example.com/v1/auth/sso/acme/callback" {
		t.Fatalf("start = %d, redirect_uri %q", res.Status, loc.Query().Get("redirect_uri"))
	}
	// Over https the verifier cookie is Secure and __Host- prefixed, so no sibling subdomain can plant one.
	if c := res.Header.Get("Set-Cookie"); !strings.HasPrefix(c, "__Host-sso-") || !strings.Contains(c, "Secure") {
		t.Fatalf("verifier cookie = %q", c)
	}
}

// TestSSOUnavailableWhenMisconfigured: an invalid SSO configuration leaves the function serving, with the SSO
// routes answering 503 (not 404, not 500). It sets the environment, so it does not run in parallel.
func TestSSOUnavailableWhenMisconfigured(t *testing.T) {
	t.Setenv("SSO_STATE_KEY", "c2hvcnQ=")
	f := servicetest.New(t)
	h := New(f.Env)
	for _, path := range []string{"/v1/auth/sso/acme/start", "/v1/auth/sso/acme/callback"} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: path}), http.StatusServiceUnavailable, "sso_unavailable")
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/.well-known/jwks.json"}), http.StatusOK)
}
