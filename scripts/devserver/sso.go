package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/sso/ssotest"
)

// The dev provider's client, as an organization's connection names it.
const (
	devOIDCClientID     = "hyperscale-dev"
	devOIDCClientSecret = "hyperscale-dev-secret"
	devOIDCDefaultPort  = "8089"
	devOIDCDefaultEmail = "sso.user@acme.test"
)

// startDevOIDC starts an in-process OIDC provider so a frontend developer can try single sign-on locally, and
// returns the function that stops it. It listens on 127.0.0.1:DEV_OIDC_PORT (8089) and signs in, without
// asking, the person its authorization request's login_hint names, or DEV_OIDC_EMAIL (sso.user@acme.test).
// A busy port, or any other failure, is logged and skipped: SSO is a convenience of `make run`, not a reason
// for it to fail.
func startDevOIDC(ctx context.Context, env *service.Env) (stop func(), err error) {
	port := os.Getenv("DEV_OIDC_PORT")
	if port == "" {
		port = devOIDCDefaultPort
	}
	email := os.Getenv("DEV_OIDC_EMAIL")
	if email == "" {
		email = devOIDCDefaultEmail
	}
	issuer, stop, err := runDevOIDC("127.0.0.1:"+port, email)
	if err != nil {
		env.Log.WarnContext(ctx, "dev OIDC provider not started; single sign-on cannot be tried locally", slog.String("error", err.Error()),
			slog.String("hint", "free port "+port+" or set DEV_OIDC_PORT"))
		return func() {}, nil
	}
	env.Log.InfoContext(ctx, "dev OIDC provider serving", slog.String("issuer", issuer), slog.String("client_id", devOIDCClientID),
		slog.String("signs_in", email))
	fmt.Fprint(os.Stderr, ssoWalkthrough(env.Config.Port, issuer, email))
	return stop, nil
}

// runDevOIDC starts the provider on addr and returns its issuer URL and the function that stops it.
func runDevOIDC(addr, defaultEmail string) (issuer string, stop func(), err error) {
	m, err := ssotest.Start(ssotest.Options{
		Addr: addr, ClientID: devOIDCClientID, ClientSecret: devOIDCClientSecret,
		User: func(r *http.Request) ssotest.User { return devUser(r.URL.Query().Get("login_hint"), defaultEmail) },
	})
	if err != nil {
		return "", nil, fmt.Errorf("start dev OIDC provider on %s: %w", addr, err)
	}
	return m.Issuer(), func() { _ = m.Shutdown() }, nil
}

// devUser is the person the dev provider signs in: the login hint when it is an email address, else the default.
func devUser(hint, defaultEmail string) ssotest.User {
	email, ok := identity.NormalizeEmail(hint)
	if !ok {
		email, _ = identity.NormalizeEmail(defaultEmail)
	}
	name := email
	if at := strings.IndexByte(email, '@'); at > 0 {
		name = email[:at]
	}
	return ssotest.User{Subject: "dev|" + email, Email: email, EmailVerified: true, Name: name}
}

// ssoWalkthrough is the ready-to-paste way through single sign-on on the dev server, for the organization acme
// of the main walkthrough (whose owner's access token is $TOKEN).
func ssoWalkthrough(port, issuer, email string) string {
	base := "http://localhost:" + port
	domain := email[strings.IndexByte(email, '@')+1:]
	return fmt.Sprintf(`
Single sign-on: an OIDC provider runs at %[2]s
(client id %[3]s, secret %[4]s); it signs in %[5]s at once, or whoever login_hint names.
Once acme exists and $TOKEN holds its owner's access token (see the walkthrough below), connect acme to it:

  curl -s -X PUT %[1]s/v1/tenants/me/settings -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"features":{},"limits":{},"preferences":{},"sso":{"enabled":true,"issuer":"%[2]s","client_id":"%[3]s","client_secret":"%[4]s","allowed_domains":["%[6]s"],"default_role":"member"}}'

  # sign in: curl follows the redirects and keeps the PKCE cookie; the tokens come back as JSON
  curl -sL -b /dev/null '%[1]s/v1/auth/sso/acme/start?login_hint=grace@%[6]s'

  # or in a browser, back to your frontend with the tokens in the URL fragment
  %[1]s/v1/auth/sso/acme/start?return_to=%[7]s/

`, base, issuer, devOIDCClientID, devOIDCClientSecret, email, domain, devFrontendOrigin)
}
