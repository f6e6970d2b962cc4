package signin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ProviderTTL is how long a provider's discovery document is trusted before it is read again. Its signing
// keys are fetched separately, again whenever an ID token names a key the cached set lacks.
const ProviderTTL = time.Hour

// maxProviders bounds the cache: past it, the cache starts over rather than grow with the number of issuers.
const maxProviders = 10_000

// errBlockedAddress is the dial error for an address an organization's issuer may not point the platform at.
var errBlockedAddress = errors.New("address not allowed for an identity provider")

// NewHTTPClient returns the client that reads providers' discovery documents and keys and exchanges codes:
// bounded at every step, so a slow provider holds a request for seconds, not minutes. Unless
// allowPrivate, it refuses to connect to loopback, private, link-local and other non-public addresses (checked
// on the resolved address, so DNS cannot route around it): an issuer URL is chosen by an organization's
// admins, and must not turn the platform into a window on its own network.
func NewHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	if !allowPrivate {
		dialer.Control = refusePrivate
		// A proxy would be the address dialled, and it would reach whatever the issuer names.
		transport.Proxy = nil
	}
	return &http.Client{Timeout: 15 * time.Second, Transport: transport}
}

// refusePrivate is a net.Dialer Control function refusing every address that is not a public unicast one.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errBlockedAddress, address)
	}
	if !PublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", errBlockedAddress, address)
	}
	return nil
}

// PublicAddress reports whether a is a globally routable unicast address.
func PublicAddress(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsLoopback(), a.IsPrivate(), a.IsLinkLocalUnicast(),
		a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(), a.IsMulticast():
		return false
	}
	// Shared address space (RFC 6598), used by carrier-grade NAT and some cloud internals.
	if a.Is4() && netip.MustParsePrefix("100.64.0.0/10").Contains(a) {
		return false
	}
	return true
}

// Providers discovers OIDC providers by issuer and keeps each for ProviderTTL. It is safe for concurrent use.
type Providers struct {
	client *http.Client
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]providerEntry
}

type providerEntry struct {
	provider *oidc.Provider
	expires  time.Time
}

// NewProviders returns a cache that discovers providers with client and keeps them for ttl.
func NewProviders(client *http.Client, ttl time.Duration) *Providers {
	return &Providers{client: client, ttl: ttl, now: time.Now, entries: map[string]providerEntry{}}
}

// Client returns the HTTP client providers are reached with.
func (p *Providers) Client() *http.Client { return p.client }

// Get returns issuer's provider, reading its discovery document when the cache has none or an expired one.
// A failed discovery is not cached, so the next sign-in tries again.
func (p *Providers) Get(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := p.now()
	p.mu.Lock()
	e, ok := p.entries[issuer]
	p.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.provider, nil
	}
	// The provider keeps the client for its key set, which outlives this request.
	prov, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	p.mu.Lock()
	if len(p.entries) >= maxProviders {
		p.entries = map[string]providerEntry{}
	}
	p.entries[issuer] = providerEntry{provider: prov, expires: now.Add(p.ttl)}
	p.mu.Unlock()
	return prov, nil
}
