// Package ssotest runs a real OIDC provider in-process (oauth2-proxy/mockoidc on 127.0.0.1) for tests of
// single sign-on: discovery, an authorization endpoint that approves at once, a token endpoint that checks
// PKCE, and RS256 ID tokens whose claims a test can bend to exercise every refusal.
package ssotest

import (
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

// User is the person the provider signs in next.
type User struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// Tamper, when set, edits the ID token's claims before they are signed: a wrong nonce, audience, issuer
	// or expiry, signed with the provider's real key.
	Tamper func(*Claims)
}

// Claims are the ID token's claims as the provider signs them.
type Claims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
}

// ID returns the subject.
func (u User) ID() string { return u.Subject }

// Userinfo returns the userinfo document.
func (u User) Userinfo([]string) ([]byte, error) {
	return []byte(`{"sub":"` + u.Subject + `"}`), nil
}

// Claims returns the ID token's claims built on base, after Tamper.
func (u User) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c := &Claims{IDTokenClaims: base, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name}
	if u.Tamper != nil {
		u.Tamper(c)
	}
	return c, nil
}

// Provider is a running provider.
type Provider struct {
	*mockoidc.MockOIDC
}

// New starts a provider on a loopback port and stops it when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	m, err := Start(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("ssotest: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return &Provider{MockOIDC: m}
}

// Options configure Start.
type Options struct {
	// Addr is the address to listen on, such as 127.0.0.1:0.
	Addr string
	// ClientID and ClientSecret are the one client's credentials; random ones when empty.
	ClientID, ClientSecret string
	// User, when set, chooses the person each authorization request signs in (the dev server reads its
	// login_hint); otherwise queued users are signed in, then mockoidc's default one.
	User func(*http.Request) User
}

// Start runs a mockoidc provider as o says. Its requests are served one at a time: mockoidc keeps its
// sessions in a map without a lock.
func Start(o Options) (*mockoidc.MockOIDC, error) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return nil, err
	}
	if o.ClientID != "" {
		m.ClientID = o.ClientID
	}
	if o.ClientSecret != "" {
		m.ClientSecret = o.ClientSecret
	}
	// Only S256: a client that sent plain PKCE would be refused rather than pass unnoticed.
	m.CodeChallengeMethodsSupported = []string{"S256"}
	var mu sync.Mutex
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if o.User != nil && r.URL.Path == mockoidc.AuthorizationEndpoint {
				m.QueueUser(o.User(r))
			}
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	if err := m.Start(ln, nil); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return m, nil
}

// SignInNext makes u the person the next authorization approves.
func (p *Provider) SignInNext(u User) { p.QueueUser(u) }
