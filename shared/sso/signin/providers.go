package signin

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coditect/hyperscale/shared/sso"
	"github.com/coreos/go-oidc/v3/oidc"
)

// ProviderTTL is how long a provider's discovery document is trusted before it is read again. Its signing
// keys are fetched separately, again whenever an ID token names a key the cached set lacks.
const ProviderTTL = time.Hour

// maxProviders bounds the cache: past it, the cache starts over rather than grow with the number of issuers.
const maxProviders = 10_000

// errBlockedAddress is the dial error for an address an organization's issuer may not point the platform at.
var errBlockedAddress = sso.ErrBlockedAddress

// NewHTTPClient is sso.NewHTTPClient: the client that reads providers' discovery documents and keys and
// exchanges codes, refusing non-public addresses unless allowPrivate.
func NewHTTPClient(allowPrivate bool) *http.Client { return sso.NewHTTPClient(allowPrivate) }

// Providers discovers OIDC providers by issuer and keeps each for ProviderTTL. It is safe for concurrent use.
type Providers struct {
	client *http.Client
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]providerEntry
}

// Provider is a discovered provider: go-oidc's, built from the discovery document the platform read and
// checked itself, and that document.
type Provider struct {
	*oidc.Provider
	// Metadata is the provider's discovery document.
	Metadata sso.Metadata
}

type providerEntry struct {
	provider *Provider
	expires  time.Time
}

// NewProviders returns a cache that discovers providers with client and keeps them for ttl.
func NewProviders(client *http.Client, ttl time.Duration) *Providers {
	return &Providers{client: client, ttl: ttl, now: time.Now, entries: map[string]providerEntry{}}
}

// Client returns the HTTP client providers are reached with.
func (p *Providers) Client() *http.Client { return p.client }

// Get returns issuer's provider, reading its discovery document when the cache has none or an expired one.
// The document must name issuer exactly; every discovery failure is a *sso.DiscoveryError saying which kind
// (unreachable, issuer mismatch, incompatible). A failed discovery is not cached, so the next sign-in tries
// again.
func (p *Providers) Get(ctx context.Context, issuer string) (*Provider, error) {
	now := p.now()
	p.mu.Lock()
	e, ok := p.entries[issuer]
	p.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.provider, nil
	}
	md, err := sso.Discover(ctx, p.client, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	// The provider keeps the client for its key set and the UserInfo endpoint, which outlive this request.
	cfg := oidc.ProviderConfig{
		IssuerURL: md.Issuer, AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint,
		UserInfoURL: md.UserinfoEndpoint, JWKSURL: md.JWKSURI, Algorithms: supportedAlgorithms(md.IDTokenSigningAlgValuesSupported),
	}
	prov := &Provider{Provider: cfg.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), p.client)), Metadata: md}
	p.mu.Lock()
	if len(p.entries) >= maxProviders {
		p.entries = map[string]providerEntry{}
	}
	p.entries[issuer] = providerEntry{provider: prov, expires: now.Add(p.ttl)}
	p.mu.Unlock()
	return prov, nil
}

// supportedAlgorithms keeps of a provider's advertised ID-token algorithms those go-oidc verifies, as its own
// discovery does; none left means go-oidc's defaults.
func supportedAlgorithms(advertised []string) []string {
	var out []string
	for _, a := range advertised {
		switch a {
		case oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA:
			out = append(out, a)
		}
	}
	return out
}
