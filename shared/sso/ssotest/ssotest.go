// Package ssotest runs a real OIDC provider in-process (oauth2-proxy/mockoidc on 127.0.0.1) for tests of
// single sign-on: discovery, an authorization endpoint that approves at once, a token endpoint that checks
// PKCE, a UserInfo endpoint, and RS256 ID tokens whose claims a test can bend to exercise every refusal.
//
// A thin middleware in front of mockoidc makes it behave like the providers met in the field: it counts token
// requests, accepts the client's credentials only in the ways Options.AuthMethods names (mockoidc itself reads
// them from the body alone), and lets a test edit the discovery document (another issuer, no S256).
package ssotest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
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
	// UserinfoOnly leaves email, email_verified and name out of the ID token and serves them from the
	// UserInfo endpoint instead, as OIDC Core §5.4 allows.
	UserinfoOnly bool
	// Tamper, when set, edits the ID token's claims before they are signed: a wrong nonce, audience, issuer
	// or expiry, signed with the provider's real key.
	Tamper func(*Claims)
}

// Claims are the ID token's claims as the provider signs them.
type Claims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
}

// ID returns the subject.
func (u User) ID() string { return u.Subject }

// Userinfo returns the userinfo document: the subject, and the email and name too for a UserinfoOnly user.
func (u User) Userinfo([]string) ([]byte, error) {
	doc := map[string]any{"sub": u.Subject}
	if u.UserinfoOnly {
		doc["email"], doc["email_verified"], doc["name"] = u.Email, u.EmailVerified, u.Name
	}
	return json.Marshal(doc)
}

// Claims returns the ID token's claims built on base, after Tamper.
func (u User) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c := &Claims{IDTokenClaims: base}
	if !u.UserinfoOnly {
		verified := u.EmailVerified
		c.Email, c.EmailVerified, c.Name = u.Email, &verified, u.Name
	}
	if u.Tamper != nil {
		u.Tamper(c)
	}
	return c, nil
}

// Provider is a running provider.
type Provider struct {
	*mockoidc.MockOIDC
	tokenRequests atomic.Int64
}

// TokenRequests returns how many requests the token endpoint received.
func (p *Provider) TokenRequests() int { return int(p.tokenRequests.Load()) }

// New starts a provider on a loopback port and stops it when the test ends.
func New(t testing.TB) *Provider { return NewWith(t, Options{}) }

// NewWith starts a provider configured by o (its Addr defaults to a loopback port) and stops it when the test
// ends.
func NewWith(t testing.TB, o Options) *Provider {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	p, err := start(o)
	if err != nil {
		t.Fatalf("ssotest: %v", err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
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
	// AuthMethods are the client authentications the token endpoint accepts and the discovery document
	// advertises: client_secret_basic, client_secret_post, or both (when empty). A request authenticated
	// otherwise is refused with 401 invalid_client, as real providers do.
	AuthMethods []string
	// Discovery, when set, edits the discovery document (decoded as a JSON object) before it is served.
	Discovery func(doc map[string]any)
}

const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
)

// Start runs a mockoidc provider as o says. Its requests are served one at a time: mockoidc keeps its
// sessions in a map without a lock.
func Start(o Options) (*mockoidc.MockOIDC, error) {
	p, err := start(o)
	if err != nil {
		return nil, err
	}
	return p.MockOIDC, nil
}

func start(o Options) (*Provider, error) {
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
	if len(o.AuthMethods) == 0 {
		o.AuthMethods = []string{authBasic, authPost}
	}
	// Only S256: a client that sent plain PKCE would be refused rather than pass unnoticed.
	m.CodeChallengeMethodsSupported = []string{"S256"}
	p := &Provider{MockOIDC: m}
	var mu sync.Mutex
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			switch r.URL.Path {
			case mockoidc.AuthorizationEndpoint:
				if o.User != nil {
					m.QueueUser(o.User(r))
				}
			case mockoidc.TokenEndpoint:
				p.tokenRequests.Add(1)
				if !clientAuth(w, r, o.AuthMethods) {
					return
				}
			case mockoidc.DiscoveryEndpoint:
				serveDiscovery(w, r, next, o)
				return
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
	return p, nil
}

// clientAuth admits the token request r only when its client authenticated in one of the methods allowed,
// moving Basic credentials into the form, where mockoidc reads them. It answers the refusal itself.
func clientAuth(w http.ResponseWriter, r *http.Request, allowed []string) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	id, secret, basic := r.BasicAuth()
	inBody := r.PostForm.Has("client_secret")
	switch {
	case basic && inBody:
		// RFC 6749 §2.3: a client must not use more than one authentication method in a request.
		return refuseClient(w, "the client authenticated in two ways at once")
	case basic && !slices.Contains(allowed, authBasic):
		return refuseClient(w, "client_secret_basic is not accepted")
	case inBody && !slices.Contains(allowed, authPost):
		return refuseClient(w, "client_secret_post is not accepted")
	case basic:
		// The credentials are form-encoded before Basic encoding (RFC 6749 §2.3.1).
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		for _, f := range []url.Values{r.Form, r.PostForm} {
			f.Set("client_id", id)
			f.Set("client_secret", secret)
		}
	}
	return true
}

func refuseClient(w http.ResponseWriter, why string) bool {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": why})
	return false
}

// serveDiscovery serves mockoidc's discovery document with the auth methods of o, then o.Discovery's edits.
func serveDiscovery(w http.ResponseWriter, r *http.Request, next http.Handler, o Options) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc["token_endpoint_auth_methods_supported"] = o.AuthMethods
	if o.Discovery != nil {
		o.Discovery(doc)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

// SignInNext makes u the person the next authorization approves.
func (p *Provider) SignInNext(u User) { p.QueueUser(u) }
