package sso

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlockedAddress is the dial error for an address an organization's issuer may not point the platform at.
var ErrBlockedAddress = errors.New("address not allowed for an identity provider")

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
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
	}
	if !PublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
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
