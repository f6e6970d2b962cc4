package auth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coditect/hyperscale/shared/sso/ssotest"
	"github.com/coditect/hyperscale/shared/token"
)

// useProvider replaces the world's provider with one configured by o, under the same client credentials (the
// ones Secret Manager holds), and points acme's connection, edited by edit, at it.
func (w *ssoWorld) useProvider(t *testing.T, o ssotest.Options, edit func(*sso.Connection)) {
	t.Helper()
	o.ClientID, o.ClientSecret = w.idp.ClientID, w.idp.ClientSecret
	w.idp = ssotest.NewWith(t, o)
	c := w.connection(w.acme.TenantID)
	if edit != nil {
		edit(&c)
	}
	w.connect(t, w.acme.TenantID, c)
}

// TestSSOTokenEndpointAuthentication: the client authenticates at the token endpoint in the one way the
// connection or the provider's discovery document names, in exactly one request.
func TestSSOTokenEndpointAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		methods []string
		method  string
		status  int
		code    string
	}{
		{name: "post-only provider, from discovery", methods: []string{"client_secret_post"}, status: 200},
		{name: "basic-only provider, from discovery", methods: []string{"client_secret_basic"}, status: 200},
		{name: "both advertised, post configured", methods: []string{"client_secret_basic", "client_secret_post"}, method: "client_secret_post", status: 200},
		{name: "both advertised, basic by default", methods: []string{"client_secret_basic", "client_secret_post"}, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newSSOWorld(t)
			w.useProvider(t, ssotest.Options{AuthMethods: tc.methods}, func(c *sso.Connection) { c.TokenAuthMethod = tc.method })
			res := w.signIn(t, newBrowser(), "acme", "", person("grace@acme.test"))
			if res.status != tc.status {
				t.Fatalf("callback = %d %s", res.status, res.raw)
			}
			if n := w.idp.TokenRequests(); n != 1 {
				t.Fatalf("%d token requests, want 1", n)
			}
		})
	}

	// A provider that advertises basic but refuses it: one refused request, answered 503 sso_misconfigured,
	// since the provider refused the client's credentials rather than the code.
	w := newSSOWorld(t)
	w.useProvider(t, ssotest.Options{AuthMethods: []string{"client_secret_post"}, Discovery: func(d map[string]any) {
		d["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post"}
	}}, nil)
	expectProblem(t, w.signIn(t, newBrowser(), "acme", "", person("grace@acme.test")), http.StatusServiceUnavailable, "sso_misconfigured")
	if n := w.idp.TokenRequests(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
}

// TestSSOUserinfoClaims: a provider that returns the email from its UserInfo endpoint only, as OIDC allows,
// signs people in; the UserInfo is believed only for the ID token's subject, and only a verified email.
func TestSSOUserinfoClaims(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	u := person("grace@acme.test")
	u.UserinfoOnly = true
	res := w.signIn(t, newBrowser(), "acme", "", u)
	if res.status != http.StatusOK {
		t.Fatalf("callback = %d %s", res.status, res.raw)
	}
	p := w.verify(t, res.str("access_token"))
	if n := w.count(t, `SELECT count(*) FROM directory.identities WHERE id = $1 AND email = 'grace@acme.test' AND name = 'Person grace@acme.test'`, p.IdentityID); n != 1 {
		t.Fatal("the identity does not carry the UserInfo's email and name")
	}

	unverified := person("hal@acme.test")
	unverified.UserinfoOnly, unverified.EmailVerified = true, false
	expectProblem(t, w.signIn(t, newBrowser(), "acme", "", unverified), http.StatusForbidden, "email_not_verified")

	// The ID token speaks for another subject than the UserInfo.
	other := person("ian@acme.test")
	other.UserinfoOnly = true
	other.Tamper = func(c *ssotest.Claims) { c.Subject = "someone-else" }
	expectProblem(t, w.signIn(t, newBrowser(), "acme", "", other), http.StatusUnauthorized, "invalid_id_token")
	if n := w.count(t, `SELECT count(*) FROM directory.identities WHERE email IN ('hal@acme.test', 'ian@acme.test')`); n != 0 {
		t.Fatalf("refused sign-ins provisioned %d identities", n)
	}
}

// TestSSOIssuerMismatchAtSignIn: a connection whose issuer differs from the provider's by a trailing slash
// (stored before the settings checked it) answers that, not "could not be reached".
func TestSSOIssuerMismatchAtSignIn(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	c := w.connection(w.acme.TenantID)
	c.Issuer += "/"
	w.connect(t, w.acme.TenantID, c)
	a := newBrowser().get(t, w.startURL("acme", ""))
	expectProblem(t, a, http.StatusServiceUnavailable, "sso_issuer_mismatch")

	w.useProvider(t, ssotest.Options{Discovery: func(d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }}, nil)
	expectProblem(t, newBrowser().get(t, w.startURL("acme", "")), http.StatusServiceUnavailable, "sso_provider_incompatible")
}

// TestSSOScopes: a connection's scopes are what the authorization request asks for.
func TestSSOScopes(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	c := w.connection(w.acme.TenantID)
	c.Scopes = []string{"openid", "email"}
	w.connect(t, w.acme.TenantID, c)
	a := newBrowser().get(t, w.startURL("acme", ""))
	if a.status != http.StatusFound || !strings.Contains(a.header.Get("Location"), "scope=openid+email&") {
		t.Fatalf("start = %d to %s, want scope openid email", a.status, a.header.Get("Location"))
	}
}

// TestSSOLinks: the provider's (issuer, subject) is linked to the identity at the first sign-in, and later
// sign-ins follow the link even when the provider's email for the person changed.
func TestSSOLinks(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	first := w.signIn(t, newBrowser(), "acme", "", ssotest.User{Subject: "okta|42", Email: "grace@acme.test", EmailVerified: true, Name: "Grace"})
	if first.status != http.StatusOK {
		t.Fatalf("first sign-in = %d %s", first.status, first.raw)
	}
	grace := w.verify(t, first.str("access_token"))
	if n := w.count(t, `SELECT count(*) FROM directory.sso_links WHERE issuer = $1 AND subject = 'okta|42' AND identity_id = $2 AND tenant_id = $3`,
		w.idp.Issuer(), grace.IdentityID, w.acme.TenantID); n != 1 {
		t.Fatal("the first sign-in left no link")
	}
	renamed := w.signIn(t, newBrowser(), "acme", "", ssotest.User{Subject: "okta|42", Email: "grace.hopper@acme.test", EmailVerified: true, Name: "Grace"})
	if renamed.status != http.StatusOK {
		t.Fatalf("sign-in after the rename = %d %s", renamed.status, renamed.raw)
	}
	if p := w.verify(t, renamed.str("access_token")); p != grace {
		t.Fatalf("after the rename the principal is %+v, want %+v", p, grace)
	}
	if n := w.count(t, `SELECT count(*) FROM directory.identities WHERE email LIKE 'grace%'`); n != 1 {
		t.Fatalf("%d identities for grace, want 1", n)
	}
	// The link chooses the identity, not the organization: an email outside the allowed domains is refused.
	expectProblem(t, w.signIn(t, newBrowser(), "acme", "", ssotest.User{Subject: "okta|42", Email: "grace@evil.test", EmailVerified: true}),
		http.StatusForbidden, "email_domain_not_allowed")
	// Following the link made no new one.
	if n := w.count(t, `SELECT count(*) FROM directory.sso_links WHERE identity_id = $1`, grace.IdentityID); n != 1 {
		t.Fatalf("%d links, want 1", n)
	}
}

// TestSSOPreHijack: someone registers the victim's address with a password before the victim's organization
// turns single sign-on on. The victim's first SSO sign-in proves the email: the registrant's password no
// longer logs in and their sessions end; the victim's session works.
func TestSSOPreHijack(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	api := New(w.f.Env)
	attacker := w.f.SignUp(t, "evil", "victim@acme.test")
	login := servicetest.Expect(t, servicetest.Do(t, api, req{Method: "POST", Path: "/v1/auth/login",
		Body: map[string]any{"email": "victim@acme.test", "password": servicetest.Password}}), http.StatusOK)

	res := w.signIn(t, newBrowser(), "acme", "", person("victim@acme.test"))
	if res.status != http.StatusOK {
		t.Fatalf("victim's sign-in = %d %s", res.status, res.raw)
	}
	victim := w.verify(t, res.str("access_token"))
	if victim.IdentityID != attacker.IdentityID || victim.AMR != identity.AMRSSO(w.acme.TenantID) {
		t.Fatalf("victim's principal %+v", victim)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, api, req{Method: "POST", Path: "/v1/auth/login",
		Body: map[string]any{"email": "victim@acme.test", "password": servicetest.Password, "tenant": "evil"}}), http.StatusUnauthorized, "invalid_credentials")
	servicetest.ExpectProblem(t, servicetest.Do(t, api, refreshReq(login.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")
	if n := w.count(t, `SELECT count(*) FROM directory.identities WHERE id = $1 AND password_hash IS NULL AND email_verified_at IS NOT NULL`, victim.IdentityID); n != 1 {
		t.Fatal("the identity kept its password or its email is not marked proven")
	}
	if n := w.count(t, `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND revoked_at IS NULL`, victim.IdentityID); n != 1 {
		t.Fatalf("%d live sessions, want 1: the victim's", n)
	}
	servicetest.Expect(t, servicetest.Do(t, api, refreshReq(res.str("refresh_token"))), http.StatusOK)
	// A second sign-in finds the email proven and ends nothing.
	again := w.signIn(t, newBrowser(), "acme", "", person("victim@acme.test"))
	if again.status != http.StatusOK {
		t.Fatalf("second sign-in = %d %s", again.status, again.raw)
	}
	if n := w.count(t, `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND revoked_at IS NULL`, victim.IdentityID); n != 2 {
		t.Fatalf("%d live sessions after the second sign-in, want 2", n)
	}
}

// TestSwitchIntoSSORequiredOrganization: an organization that requires its single sign-on admits, at login
// and at a switch, only sessions opened through it; what the session proved travels with switches and
// refreshes.
func TestSwitchIntoSSORequiredOrganization(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t, "globex", "initech")
	api := New(w.f.Env)
	globex := w.orgs["globex"]
	// Globex uses the same provider, with its own connection, for its own domain.
	gc := w.connection(globex.TenantID)
	gc.AllowedDomains = []string{"globex.test"}
	w.connect(t, globex.TenantID, gc)
	w.verifyDomain(t, globex.TenantID, "globex.test")
	c := w.connection(w.acme.TenantID)
	c.Required = true
	w.connect(t, w.acme.TenantID, c)
	// Grace owns initech with a password, proved her email, and is a member of acme and globex.
	grace := w.f.SignUp(t, "initech-grace", "grace@acme.test")
	w.exec(t, `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, grace.IdentityID)
	w.exec(t, `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $3, 'member'), ($2, $3, 'member')`,
		w.acme.TenantID, globex.TenantID, grace.IdentityID)
	bearer := func(p token.Principal) string { return w.f.Token(t, p) }
	switchTo := func(tok, slug string) servicetest.Response {
		return servicetest.Do(t, api, req{Method: "POST", Path: "/v1/auth/switch", Bearer: tok, Body: map[string]any{"tenant": slug}})
	}
	loginTo := func(slug string) servicetest.Response {
		return servicetest.Do(t, api, req{Method: "POST", Path: "/v1/auth/login",
			Body: map[string]any{"email": "grace@acme.test", "password": servicetest.Password, "tenant": slug}})
	}

	// A password session: no way into acme, by login or by switch; globex takes it.
	servicetest.ExpectProblem(t, loginTo("acme"), http.StatusForbidden, "sso_required")
	pwd := principalOf(t, w.f, servicetest.Expect(t, loginTo("initech-grace"), http.StatusOK))
	if pwd.AMR != identity.AMRPassword {
		t.Fatalf("password session amr %q", pwd.AMR)
	}
	servicetest.ExpectProblem(t, switchTo(bearer(pwd), "acme"), http.StatusForbidden, "sso_required")
	servicetest.Expect(t, switchTo(bearer(pwd), "globex"), http.StatusOK)
	// A token without amr (issued before it was recorded) meets no requirement.
	legacy := pwd
	legacy.AMR = ""
	servicetest.ExpectProblem(t, switchTo(bearer(legacy), "acme"), http.StatusForbidden, "sso_required")

	// A session through globex's provider is not one through acme's: Hank, a member of both, signs in there.
	hank := w.f.SignUp(t, "hank-co", "hank@globex.test")
	w.exec(t, `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, hank.IdentityID)
	w.exec(t, `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, 'member')`, w.acme.TenantID, hank.IdentityID)
	viaGlobex := w.signIn(t, newBrowser(), "globex", "", person("hank@globex.test"))
	if viaGlobex.status != http.StatusOK {
		t.Fatalf("globex sign-in = %d %s", viaGlobex.status, viaGlobex.raw)
	}
	servicetest.ExpectProblem(t, switchTo(viaGlobex.str("access_token"), "acme"), http.StatusForbidden, "sso_required")

	// A session through acme's provider goes to globex and back, and keeps what it proved across a refresh.
	viaAcme := w.signIn(t, newBrowser(), "acme", "", person("grace@acme.test"))
	if viaAcme.status != http.StatusOK {
		t.Fatalf("acme sign-in = %d %s", viaAcme.status, viaAcme.raw)
	}
	out := servicetest.Expect(t, switchTo(viaAcme.str("access_token"), "globex"), http.StatusOK)
	if p := principalOf(t, w.f, out); p.TenantID != globex.TenantID || p.AMR != identity.AMRSSO(w.acme.TenantID) {
		t.Fatalf("switched principal %+v", p)
	}
	refreshed := servicetest.Expect(t, servicetest.Do(t, api, refreshReq(out.Str("refresh_token"))), http.StatusOK)
	back := servicetest.Expect(t, switchTo(refreshed.Str("access_token"), "acme"), http.StatusOK)
	if p := principalOf(t, w.f, back); p.TenantID != w.acme.TenantID || p.AMR != identity.AMRSSO(w.acme.TenantID) {
		t.Fatalf("principal back in acme %+v", p)
	}
	// Refused switches opened no session in acme.
	if n := w.count(t, `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND tenant_id = $2 AND amr IS DISTINCT FROM $3`,
		grace.IdentityID, w.acme.TenantID, identity.AMRSSO(w.acme.TenantID)); n != 0 {
		t.Fatalf("%d sessions in acme not opened through its provider", n)
	}
	// Without the requirement a password session may switch in again.
	c.Required = false
	w.connect(t, w.acme.TenantID, c)
	servicetest.Expect(t, switchTo(bearer(pwd), "acme"), http.StatusOK)
}

// TestSSORequiredEndsOtherSessions: once an organization requires its single sign-on, a password session
// already open there ends at its next refresh; a session through its provider carries on.
func TestSSORequiredEndsOtherSessions(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	api := New(w.f.Env)
	w.exec(t, `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, w.acme.IdentityID)
	pwd := servicetest.Expect(t, servicetest.Do(t, api, req{Method: "POST", Path: "/v1/auth/login",
		Body: map[string]any{"email": "ada@acme.test", "password": servicetest.Password}}), http.StatusOK)
	viaSSO := w.signIn(t, newBrowser(), "acme", "", person("ada@acme.test"))
	if viaSSO.status != http.StatusOK {
		t.Fatalf("sign-in = %d %s", viaSSO.status, viaSSO.raw)
	}
	c := w.connection(w.acme.TenantID)
	c.Required = true
	w.connect(t, w.acme.TenantID, c)

	servicetest.ExpectProblem(t, servicetest.Do(t, api, refreshReq(pwd.Str("refresh_token"))), http.StatusForbidden, "sso_required")
	// The session is over, not just refused: its family is revoked, so the token is now simply invalid.
	servicetest.ExpectProblem(t, servicetest.Do(t, api, refreshReq(pwd.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")
	next := servicetest.Expect(t, servicetest.Do(t, api, refreshReq(viaSSO.str("refresh_token"))), http.StatusOK)
	if p := principalOf(t, w.f, next); p.AMR != identity.AMRSSO(w.acme.TenantID) {
		t.Fatalf("refreshed principal %+v", p)
	}
}
