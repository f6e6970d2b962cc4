package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/sso"
)

// TestDevSSOWalkthrough follows the walkthrough startDevOIDC prints, on a local platform routed by the gateway
// document: the printed connection is valid, and signing in through the dev provider returns tokens, as the
// person login_hint names.
func TestDevSSOWalkthrough(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	// make run is a local environment: plain client secrets and unverified domains are accepted there.
	local := *f.Env
	local.Config.Env = "local"
	h, err := platform(&local, gatewayDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	issuer, stop, err := runDevOIDC("127.0.0.1:0", devOIDCDefaultEmail)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	text := ssoWalkthrough("8080", issuer, devOIDCDefaultEmail)
	body := regexp.MustCompile(`-d '(\{.*\})'`).FindStringSubmatch(text)
	if body == nil {
		t.Fatalf("walkthrough has no settings body:\n%s", text)
	}
	var settings struct {
		SSO sso.Connection `json:"sso"`
	}
	if err := json.Unmarshal([]byte(body[1]), &settings); err != nil {
		t.Fatalf("settings body: %v", err)
	}
	if err := settings.SSO.Validate(true); err != nil {
		t.Fatalf("the walkthrough's connection is invalid locally: %v", err)
	}
	// Stored as the tenants function's PUT /v1/tenants/me/settings stores it.
	owner := f.SignUp(t, "acme", "ada@acme.test")
	data, _ := json.Marshal(settings.SSO)
	if _, err := f.DB.Owner.Exec(context.Background(), `INSERT INTO tenant.settings (tenant_id, sso) VALUES ($1, $2)`, owner.TenantID, data); err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for _, tc := range []struct{ query, email string }{
		{"", devOIDCDefaultEmail},
		{"?login_hint=grace@acme.test", "grace@acme.test"},
	} {
		res, err := client.Get(srv.URL + "/v1/auth/sso/acme/start" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
			Tenant      struct {
				Slug, Role string
			} `json:"tenant"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.AccessToken == "" || out.Tenant.Slug != "acme" || out.Tenant.Role != "member" {
			t.Fatalf("sign-in %q = %d %s", tc.query, res.StatusCode, raw)
		}
		p, err := f.Env.Verifier.Verify(out.AccessToken, f.Env.Now())
		if err != nil {
			t.Fatal(err)
		}
		var email string
		if err := f.DB.Owner.QueryRow(context.Background(), `SELECT email FROM directory.identities WHERE id = $1`, p.IdentityID).Scan(&email); err != nil || email != tc.email {
			t.Fatalf("signed in as %q (%v), want %q", email, err, tc.email)
		}
	}
}

// TestDevOIDCBusyPort: a busy port is a warning, not a failure of make run.
func TestDevOIDCBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	t.Setenv("DEV_OIDC_PORT", port)
	f := servicetest.New(t)
	var logs bytes.Buffer
	env := *f.Env
	env.Log = slog.New(slog.NewTextHandler(&logs, nil))
	stop, err := startDevOIDC(context.Background(), &env)
	if err != nil || stop == nil {
		t.Fatalf("startDevOIDC on a busy port = %v", err)
	}
	stop()
	if !strings.Contains(logs.String(), "dev OIDC provider not started") || !strings.Contains(logs.String(), port) {
		t.Fatalf("no warning logged: %s", logs.String())
	}
}

func TestDevUser(t *testing.T) {
	t.Parallel()
	for hint, want := range map[string]string{"": "sso.user@acme.test", "Grace@Acme.test": "grace@acme.test", "not an email": "sso.user@acme.test"} {
		if u := devUser(hint, devOIDCDefaultEmail); u.Email != want || !u.EmailVerified || u.Subject != "dev|"+want {
			t.Errorf("devUser(%q) = %+v, want %s", hint, u, want)
		}
	}
}
