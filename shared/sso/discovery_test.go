package sso_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/sso"
)

// provider serves a discovery document: doc(issuer) with %[1]s standing for the server's URL, at status.
func provider(t *testing.T, status int, doc string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tenant"+sso.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, doc, srv.URL)
	}))
	t.Cleanup(srv.Close)
	return srv
}

const goodDoc = `{"issuer":"%[1]s/tenant","authorization_endpoint":"%[1]s/auth","token_endpoint":"%[1]s/token","jwks_uri":"%[1]s/jwks",
	"response_types_supported":["code","id_token"],"code_challenge_methods_supported":["S256"],
	"token_endpoint_auth_methods_supported":["client_secret_post"]}`

func TestDiscover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := sso.NewHTTPClient(true)
	good := provider(t, 200, goodDoc)
	md, err := sso.Discover(ctx, client, good.URL+"/tenant")
	if err != nil || md.TokenEndpoint != good.URL+"/token" || md.Check(&sso.Connection{}) != nil {
		t.Fatalf("Discover = %+v, %v", md, err)
	}
	tests := []struct {
		name   string
		issuer func() string
		kind   error
		says   string
	}{
		{"trailing slash", func() string { return good.URL + "/tenant/" }, sso.ErrIssuerMismatch, `names the issuer "` + good.URL + `/tenant"`},
		{"another path", func() string { return good.URL + "/other" }, sso.ErrProviderIncompatible, "HTTP 404"},
		{"server error", func() string { return provider(t, 503, `{}`).URL + "/tenant" }, sso.ErrProviderUnreachable, "HTTP 503"},
		{"not JSON", func() string { return provider(t, 200, `<html>`).URL + "/tenant" }, sso.ErrProviderIncompatible, "not a JSON object"},
		{"too large", func() string { return provider(t, 200, `{"x":"`+strings.Repeat("a", 300<<10)+`"}`).URL + "/tenant" }, sso.ErrProviderIncompatible, "larger than"},
		{"unreachable", func() string {
			s := provider(t, 200, goodDoc)
			s.Close()
			return s.URL + "/tenant"
		}, sso.ErrProviderUnreachable, "could not read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := sso.Discover(ctx, client, tc.issuer())
			var de *sso.DiscoveryError
			if !errors.Is(err, tc.kind) || !errors.As(err, &de) || de.Field != "sso.issuer" || !strings.Contains(de.Detail, tc.says) {
				t.Fatalf("Discover error %v, want %v saying %q on sso.issuer", err, tc.kind, tc.says)
			}
		})
	}
	// A private address is refused by the guarded client.
	if _, err := sso.Discover(ctx, sso.NewHTTPClient(false), good.URL+"/tenant"); !errors.Is(err, sso.ErrProviderUnreachable) || !strings.Contains(err.Error(), sso.ErrBlockedAddress.Error()) {
		t.Fatalf("guarded client: %v", err)
	}
}

func TestMetadataCheck(t *testing.T) {
	t.Parallel()
	base := func() sso.Metadata {
		return sso.Metadata{Issuer: "https://idp.test", AuthorizationEndpoint: "https://idp.test/auth", TokenEndpoint: "https://idp.test/token", JWKSURI: "https://idp.test/jwks"}
	}
	tests := []struct {
		name   string
		edit   func(*sso.Metadata)
		method string
		field  string
		auth   string
	}{
		{"silent document: basic by default", nil, "", "", sso.AuthClientSecretBasic},
		{"both: basic first", func(m *sso.Metadata) {
			m.TokenEndpointAuthMethodsSupported = []string{"private_key_jwt", "client_secret_post", "client_secret_basic"}
		}, "", "", sso.AuthClientSecretBasic},
		{"post only", func(m *sso.Metadata) { m.TokenEndpointAuthMethodsSupported = []string{"client_secret_post"} }, "", "", sso.AuthClientSecretPost},
		{"configured post", func(m *sso.Metadata) {
			m.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post"}
		},
			sso.AuthClientSecretPost, "", sso.AuthClientSecretPost},
		{"configured post, silent document", nil, sso.AuthClientSecretPost, "sso.token_auth_method", ""},
		{"configured basic, post only", func(m *sso.Metadata) { m.TokenEndpointAuthMethodsSupported = []string{"client_secret_post"} },
			sso.AuthClientSecretBasic, "sso.token_auth_method", ""},
		{"neither", func(m *sso.Metadata) { m.TokenEndpointAuthMethodsSupported = []string{"private_key_jwt"} }, "", "sso.token_auth_method", ""},
		{"no authorization endpoint", func(m *sso.Metadata) { m.AuthorizationEndpoint = "" }, "", "sso.issuer", ""},
		{"relative token endpoint", func(m *sso.Metadata) { m.TokenEndpoint = "/token" }, "", "sso.issuer", ""},
		{"no key set", func(m *sso.Metadata) { m.JWKSURI = "" }, "", "sso.issuer", ""},
		{"implicit only", func(m *sso.Metadata) { m.ResponseTypesSupported = []string{"id_token", "token id_token"} }, "", "sso.issuer", ""},
		{"no code grant", func(m *sso.Metadata) { m.GrantTypesSupported = []string{"client_credentials"} }, "", "sso.issuer", ""},
		{"plain PKCE only", func(m *sso.Metadata) { m.CodeChallengeMethodsSupported = []string{"plain"} }, "", "sso.issuer", ""},
		{"S256 PKCE", func(m *sso.Metadata) { m.CodeChallengeMethodsSupported = []string{"plain", "S256"} }, "", "", sso.AuthClientSecretBasic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			md := base()
			if tc.edit != nil {
				tc.edit(&md)
			}
			c := &sso.Connection{TokenAuthMethod: tc.method}
			err := md.Check(c)
			var de *sso.DiscoveryError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case tc.field != "" && (!errors.As(err, &de) || de.Field != tc.field || !errors.Is(err, sso.ErrProviderIncompatible)):
				t.Fatalf("Check = %v, want an incompatibility on %s", err, tc.field)
			}
			if tc.auth != "" {
				if m, err := md.AuthMethod(c); err != nil || m != tc.auth {
					t.Fatalf("AuthMethod = %q, %v; want %q", m, err, tc.auth)
				}
			}
		})
	}
}

func TestConnectionProviderSettings(t *testing.T) {
	t.Parallel()
	good := func() sso.Connection {
		return sso.Connection{Enabled: true, Issuer: "https://idp.example.com", ClientID: "client",
			ClientSecret: "secret://projects/p/secrets/s/versions/1", AllowedDomains: []string{"example.com"}, DefaultRole: "member"}
	}
	tests := []struct {
		name string
		edit func(*sso.Connection)
		want []string
	}{
		{"scopes", func(c *sso.Connection) { c.Scopes = []string{"openid", " email ", "groups", "email"} }, nil},
		{"scopes without openid", func(c *sso.Connection) { c.Scopes = []string{"email", "profile"} }, []string{"sso.scopes"}},
		{"empty scope list", func(c *sso.Connection) { c.Scopes = []string{} }, []string{"sso.scopes"}},
		{"scope with a space", func(c *sso.Connection) { c.Scopes = []string{"openid", "a b"} }, []string{"sso.scopes"}},
		{"scope with a quote", func(c *sso.Connection) { c.Scopes = []string{"openid", `a"`} }, []string{"sso.scopes"}},
		{"too many scopes", func(c *sso.Connection) {
			c.Scopes = []string{"openid"}
			for i := range sso.MaxScopes {
				c.Scopes = append(c.Scopes, fmt.Sprintf("s%d", i))
			}
		}, []string{"sso.scopes"}},
		{"post", func(c *sso.Connection) { c.TokenAuthMethod = sso.AuthClientSecretPost }, nil},
		{"basic", func(c *sso.Connection) { c.TokenAuthMethod = sso.AuthClientSecretBasic }, nil},
		{"private key JWT", func(c *sso.Connection) { c.TokenAuthMethod = "private_key_jwt" }, []string{"sso.token_auth_method"}},
		{"required", func(c *sso.Connection) { c.Required = true }, nil},
		{"required but disabled", func(c *sso.Connection) { c.Required, c.Enabled = true, false }, []string{"sso.required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			tc.edit(&c)
			if got := fields(c.Validate(false)); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("failing fields %v, want %v", got, tc.want)
			}
		})
	}
	c := good()
	c.Scopes = []string{"openid", " email ", "email"}
	if err := c.Validate(false); err != nil || strings.Join(c.EffectiveScopes(), " ") != "openid email" {
		t.Fatalf("scopes not normalised: %v %v", c.Scopes, err)
	}
	if c := good(); strings.Join(c.EffectiveScopes(), " ") != "openid email profile" {
		t.Fatalf("default scopes %v", c.EffectiveScopes())
	}
}
