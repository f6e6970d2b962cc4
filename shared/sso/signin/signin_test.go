package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/sso/ssotest"
	"github.com/google/uuid"
)

func TestPublicAddress(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"100.64.0.1": false, "224.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:8.8.8.8": true,
	} {
		if got := sso.PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestHTTPClientRefusesPrivateAddresses: outside local runs and tests, an issuer cannot point the platform at
// its own network, even through a name that resolves there.
func TestHTTPClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	for _, target := range []string{srv.URL, "http://localhost:" + u.Port()} {
		res, err := NewHTTPClient(false).Get(target)
		if err == nil {
			res.Body.Close()
			t.Fatalf("GET %s through the guarded client succeeded", target)
		}
		if !errors.Is(err, errBlockedAddress) {
			t.Fatalf("GET %s: %v, want the blocked-address error", target, err)
		}
	}
	res, err := NewHTTPClient(true).Get(srv.URL)
	if err != nil {
		t.Fatalf("unguarded client: %v", err)
	}
	res.Body.Close()
}

func TestProvidersCache(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/jwks"}`, srv.URL)
	}))
	defer srv.Close()
	ctx := context.Background()
	p := NewProviders(NewHTTPClient(true), time.Hour)
	now := time.Now()
	p.now = func() time.Time { return now }
	for range 3 {
		prov, err := p.Get(ctx, srv.URL)
		if err != nil || prov.Endpoint().TokenURL != srv.URL+"/token" {
			t.Fatalf("Get = %v, %v", prov, err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d discoveries within the TTL, want 1", hits.Load())
	}
	now = now.Add(time.Hour)
	if _, err := p.Get(ctx, srv.URL); err != nil || hits.Load() != 2 {
		t.Fatalf("after the TTL: %v, %d discoveries, want 2", err, hits.Load())
	}
	// An issuer whose document names another issuer is refused, and a failure is not cached.
	for range 2 {
		if _, err := p.Get(ctx, srv.URL+"/"); err == nil {
			t.Fatal("an issuer mismatch was accepted")
		}
	}
	if hits.Load() != 4 {
		t.Fatalf("%d discoveries, want 4: a failed one is read again", hits.Load())
	}
	if _, err := p.Get(ctx, srv.URL+"/missing"); err == nil {
		t.Fatal("a missing discovery document was accepted")
	}
}

// world is a directory and tenant store with one organization, acme, whose connection points at a real
// provider, and a sign-in service over them.
type world struct {
	d      *dbtest.Database
	idp    *ssotest.Provider
	svc    *Service
	tenant uuid.UUID
	client *http.Client
}

const redirectURL = "http://127.0.0.1:1/v1/auth/sso/acme/callback"

func newWorld(t *testing.T, edit func(*world, *sso.Connection, *Options)) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{d: dbtest.New(t), idp: ssotest.New(t), tenant: uuid.Must(uuid.NewV7())}
	w.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	conn := sso.Connection{Enabled: true, Issuer: w.idp.Issuer(), ClientID: w.idp.ClientID, ClientSecret: w.idp.ClientSecret,
		AllowedDomains: []string{"acme.test", "eu.acme.test"}, DefaultRole: "viewer"}
	o := Options{
		Directory: w.d.DB.Directory, Tenants: w.d.DB.Tenants,
		Identity:  identity.New(w.d.DB.Directory, identity.Params{Memory: 64, Time: 1, Threads: 1}, time.Hour),
		Providers: NewProviders(NewHTTPClient(true), time.Hour), State: sso.RandomStateSigner(), PlainSecrets: true,
	}
	if edit != nil {
		edit(w, &conn, &o)
	}
	w.svc = New(o)
	data, _ := json.Marshal(conn)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO directory.tenants (id, slug, name) VALUES ($1, 'acme', 'Acme')`, []any{w.tenant}},
		{`INSERT INTO tenant.settings (tenant_id, sso) VALUES ($1, $2)`, []any{w.tenant, data}},
		{`INSERT INTO directory.domains (id, tenant_id, domain, verification_token, verified_at) VALUES ($1, $2, 'acme.test', 't', now())`, []any{uuid.New(), w.tenant}},
	} {
		if _, err := w.d.Owner.Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// authorize starts a sign-in, lets the provider approve u, and returns the opened state and the callback.
func (w *world) authorize(t *testing.T, u ssotest.User) (sso.State, Callback) {
	t.Helper()
	a, err := w.svc.Start(context.Background(), StartInput{Slug: "ACME", RedirectURL: redirectURL})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	w.idp.SignInNext(u)
	res, err := w.client.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	st, err := w.svc.OpenState(back.Query().Get("state"))
	if err != nil {
		t.Fatalf("open state: %v", err)
	}
	return st, Callback{Slug: "acme", Code: back.Query().Get("code"), Verifier: a.Verifier, RedirectURL: redirectURL}
}

func withClaims(u ssotest.User, edit func(*ssotest.Claims)) ssotest.User {
	u.Tamper = edit
	return u
}

func person(email string) ssotest.User {
	return ssotest.User{Subject: email, Email: email, EmailVerified: true, Name: "P"}
}

// TestConcurrentFirstSignIns: the same new person finishing several sign-ins at once gets one identity, one
// membership and one user.joined event.
func TestConcurrentFirstSignIns(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	type flow struct {
		st sso.State
		cb Callback
	}
	var flows []flow
	for range 4 {
		st, cb := w.authorize(t, person("grace@acme.test"))
		flows = append(flows, flow{st, cb})
	}
	results := make([]Result, len(flows))
	errs := make([]error, len(flows))
	var wg sync.WaitGroup
	for i, f := range flows {
		wg.Go(func() { results[i], errs[i] = w.svc.Finish(ctx, f.st, f.cb) })
	}
	wg.Wait()
	joined := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("finish %d: %v", i, err)
		}
		if results[i].Session.Principal != results[0].Session.Principal || results[i].Session.Principal.Role != "viewer" {
			t.Fatalf("principals differ: %+v vs %+v", results[i].Session.Principal, results[0].Session.Principal)
		}
		if results[i].Joined {
			joined++
		}
	}
	var identities, members, events, activity int
	if err := w.d.Owner.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM directory.identities WHERE email = 'grace@acme.test'),
		(SELECT count(*) FROM directory.memberships WHERE tenant_id = $1),
		(SELECT count(*) FROM tenant.outbox WHERE tenant_id = $1 AND type = 'user.joined'),
		(SELECT count(*) FROM tenant.activity WHERE tenant_id = $1 AND entity_type = 'member')`, w.tenant).
		Scan(&identities, &members, &events, &activity); err != nil {
		t.Fatal(err)
	}
	if joined != 1 || identities != 1 || members != 1 || events != 1 || activity != 1 {
		t.Fatalf("joined %d, identities %d, memberships %d, events %d, activity %d; want 1 each", joined, identities, members, events, activity)
	}
}

func TestFinish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*world, *sso.Connection, *Options)
		user ssotest.User
		want error
	}{
		{"subdomain of a verified domain", nil, person("a@eu.acme.test"), nil},
		{"unverified domain trusted locally", func(_ *world, c *sso.Connection, o *Options) {
			c.AllowedDomains = []string{"acme.test", "labs.test"}
			o.TrustUnverifiedDomains = true
		}, person("a@labs.test"), nil},
		{"unverified domain", func(_ *world, c *sso.Connection, _ *Options) { c.AllowedDomains = []string{"acme.test", "labs.test"} }, person("a@labs.test"), ErrDomainNotVerified},
		{"email not verified", nil, ssotest.User{Subject: "s", Email: "a@acme.test"}, ErrEmailNotVerified},
		{"plain secret outside local runs", func(_ *world, _ *sso.Connection, o *Options) { o.PlainSecrets = false }, person("a@acme.test"), ErrMisconfigured},
		{"secret reference without a resolver", func(w *world, c *sso.Connection, _ *Options) {
			c.ClientSecret = "secret://projects/p/secrets/sso-" + w.tenant.String() + "/versions/1"
		}, person("a@acme.test"), ErrMisconfigured},
		{"another secret's reference", func(_ *world, c *sso.Connection, o *Options) {
			c.ClientSecret = "secret://projects/p/secrets/token-signing-keys/versions/1"
			o.Secrets = secrets.NewResolverWithAccessor(nil)
		}, person("a@acme.test"), ErrMisconfigured},
		{"wrong client secret", func(_ *world, c *sso.Connection, _ *Options) { c.ClientSecret = "wrong" }, person("a@acme.test"), ErrMisconfigured},
		{"owner as the default role", func(_ *world, c *sso.Connection, _ *Options) { c.DefaultRole = "owner" }, person("a@acme.test"), ErrMisconfigured},
		{"no subject", nil, withClaims(person("a@acme.test"), func(c *ssotest.Claims) { c.Subject = "" }), ErrIDToken},
		{"NUL in the subject", nil, withClaims(person("a@acme.test"), func(c *ssotest.Claims) { c.Subject = "a\x00b" }), ErrIDToken},
		{"subject too long", nil, withClaims(person("a@acme.test"), func(c *ssotest.Claims) { c.Subject = strings.Repeat("s", 256) }), ErrIDToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tc.edit)
			st, cb := w.authorize(t, tc.user)
			res, err := w.svc.Finish(context.Background(), st, cb)
			if !errors.Is(err, tc.want) || (tc.want == nil && res.Session.RefreshToken == "") {
				t.Fatalf("Finish = %+v, %v; want %v", res, err, tc.want)
			}
		})
	}
}

// TestEmailVerifiedClaim: the standard boolean, and the string some providers send.
func TestEmailVerifiedClaim(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{`true`: true, `"true"`: true, `"TRUE"`: true, `false`: false, `"false"`: false, `null`: false, `1`: false} {
		var c idClaims
		if err := json.Unmarshal([]byte(`{"email_verified":`+raw+`}`), &c); err != nil {
			t.Fatal(err)
		}
		if c.emailVerified() != want {
			t.Errorf("email_verified %s = %v, want %v", raw, !want, want)
		}
	}
	long := make([]rune, 300)
	for i := range long {
		long[i] = 'é'
	}
	if n := (idClaims{Name: string(long)}).displayName(); len([]rune(n)) != 200 {
		t.Fatalf("display name of %d runes, want 200", len([]rune(n)))
	}
	if n := (idClaims{PreferredUsername: " jane\x00 "}).displayName(); n != "jane" {
		t.Fatalf("display name %q, want the preferred username", n)
	}
	if n := (idClaims{Name: "Mallory\u202e\u2066 Admin\n"}).displayName(); n != "Mallory Admin" {
		t.Fatalf("display name %q, want it without controls and bidi characters", n)
	}
}

func TestStartRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	for slug, want := range map[string]error{"": ErrNotFound, "nowhere": ErrNotFound, string(make([]byte, 64)): ErrNotFound} {
		if _, err := w.svc.Start(ctx, StartInput{Slug: slug, RedirectURL: redirectURL}); !errors.Is(err, want) {
			t.Errorf("Start(%q) = %v, want %v", slug, err, want)
		}
	}
	if _, err := w.svc.Start(ctx, StartInput{Slug: "acme", ReturnTo: "https://anywhere.test/", RedirectURL: redirectURL}); !errors.Is(err, ErrReturnURL) {
		t.Fatalf("return URL with an empty allow list: %v", err)
	}
	a, err := w.svc.Start(ctx, StartInput{Slug: "acme", LoginHint: "grace@acme.test", RedirectURL: redirectURL})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(a.URL); u.Query().Get("login_hint") != "grace@acme.test" {
		t.Fatalf("login_hint not passed on: %s", a.URL)
	}
}

// TestSpentCode: a code presented again is refused as a failed exchange, after one token request, not a
// second one in another client authentication whose error would hide the first's.
func TestSpentCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	ctx := context.Background()
	st, cb := w.authorize(t, person("grace@acme.test"))
	if _, err := w.svc.Finish(ctx, st, cb); err != nil {
		t.Fatal(err)
	}
	before := w.idp.TokenRequests()
	_, err := w.svc.Finish(ctx, st, cb)
	if !errors.Is(err, ErrExchange) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("spent code: %v, want the exchange refused with invalid_grant", err)
	}
	if n := w.idp.TokenRequests() - before; n != 1 {
		t.Fatalf("%d token requests for the spent code, want 1", n)
	}
}
