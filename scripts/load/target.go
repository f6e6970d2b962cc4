package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// lookupFunc resolves a host name to its addresses; tests pass a fake one.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// lookupHost is the system resolver.
func lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// checkTarget parses the -url flag and refuses anything but an http(s) origin on this machine. It returns the
// origin (scheme and host, no path).
func checkTarget(ctx context.Context, raw string, lookup lookupFunc) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("-url %q: the scheme must be http or https", raw)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("-url %q: give only scheme://host[:port]", raw)
	}
	if err := checkLoopbackHost(ctx, u.Hostname(), lookup); err != nil {
		return nil, fmt.Errorf("-url %q: %w", raw, err)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// checkLoopbackHost accepts "localhost", a loopback address (127.0.0.0/8, ::1, or either mapped into IPv6) and
// a name every address of which is a loopback one; it refuses everything else.
func checkLoopbackHost(ctx context.Context, host string, lookup lookupFunc) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" {
		return errors.New("no host")
	}
	if h == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if !isLoopback(ip) {
			return fmt.Errorf("%s is not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)", host)
		}
		return nil
	}
	addrs, err := lookup(ctx, h)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%s resolves to no address", host)
	}
	for _, a := range addrs {
		if !isLoopback(a) {
			return fmt.Errorf("%s resolves to %s, which is not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)", host, a)
		}
	}
	return nil
}

func isLoopback(ip netip.Addr) bool { return ip.Unmap().IsLoopback() }

// loopbackOnly is the dialer's Control hook: it runs on every connection with the address actually dialled, so
// a name that resolved to loopback in checkTarget and to something else later is still refused.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("refusing to dial %s: %w", address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !isLoopback(ip) {
		return fmt.Errorf("refusing to dial %s: not a loopback address", address)
	}
	return nil
}

// newClient is the one client every worker shares: its idle pool holds a connection per worker, it dials only
// loopback addresses, ignores proxy settings and does not follow redirects (a 3xx counts as an error).
func newClient(concurrency int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
