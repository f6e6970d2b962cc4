package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// MaxTrustedProxies bounds TRUSTED_PROXY_COUNT: no deployment of the platform has more hops than this in front
// of a function, and a larger figure is a typing mistake.
const MaxTrustedProxies = 8

// ClientConfig says how to find the caller's address behind the proxies in front of a function.
type ClientConfig struct {
	// TrustedProxies is how many proxies in front of the function append to X-Forwarded-For. The caller's
	// address is the entry that many places from the right; zero ignores the header and takes the
	// connection's address. Behind API Gateway on Cloud Run it is 2 (docs/2026-12-03-client-address.md).
	TrustedProxies int `env:"TRUSTED_PROXY_COUNT, default=0"`
}

// Validate reports a count that is negative or larger than MaxTrustedProxies.
func (c ClientConfig) Validate() error {
	if c.TrustedProxies < 0 || c.TrustedProxies > MaxTrustedProxies {
		return fmt.Errorf("TRUSTED_PROXY_COUNT is %d, want 0 to %d", c.TrustedProxies, MaxTrustedProxies)
	}
	return nil
}

type clientAddrKey struct{}

// ClientAddr returns the caller's IP address as Edge derived it, or, for a request that did not pass through
// Edge, the connection's address. It is the zero netip.Addr when neither holds an address: callers treat that
// as one shared unknown client, never as a reason to fail the request.
func ClientAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientAddrKey{}).(netip.Addr); ok {
		return a
	}
	return ClientAddrBehind(r, 0)
}

// withClientAddr returns ctx carrying the caller's address.
func withClientAddr(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, a)
}

// ClientAddrBehind derives the caller's address of r when trustedProxies proxies stand in front of the server,
// each appending the address it received the request from to X-Forwarded-For.
//
// Only the entries those proxies wrote can be believed; anything to their left came from the caller. So the
// caller's address is the trustedProxies-th entry counted from the right, over every X-Forwarded-For line in
// order. With zero proxies the header is ignored and the connection's address (RemoteAddr) is the caller's.
// When the header holds fewer entries than there are proxies, the left-most is taken: every entry present was
// then written by a proxy. An entry may carry a port or brackets (an IPv6 address with a port); IPv4-mapped
// IPv6 addresses are unmapped and zones dropped. An entry that is no address at all ("unknown", garbage) gives
// the zero Addr.
func ClientAddrBehind(r *http.Request, trustedProxies int) netip.Addr {
	if trustedProxies <= 0 {
		return parseHostAddr(r.RemoteAddr)
	}
	var entries []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(line, ",") {
			if e = strings.TrimSpace(e); e != "" {
				entries = append(entries, e)
			}
		}
	}
	if len(entries) == 0 {
		// No proxy wrote anything: the request did not come the way the configuration says. The connection's
		// address is still the best there is.
		return parseHostAddr(r.RemoteAddr)
	}
	i := max(len(entries)-trustedProxies, 0)
	return parseHostAddr(entries[i])
}

// parseHostAddr reads an IP address that may carry a port ("192.0.2.1:443", "[2001:db8::1]:443") or brackets.
func parseHostAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}
