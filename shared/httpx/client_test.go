package httpx

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddrBehind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		remote  string
		xff     []string // header lines, in order
		proxies int
		want    string // "" for the zero Addr
	}{
		{"no proxies: the connection", "192.0.2.1:1234", nil, 0, "192.0.2.1"},
		{"no proxies: the header is ignored", "192.0.2.1:1234", []string{"203.0.113.9"}, 0, "192.0.2.1"},
		{"no proxies: a spoofed chain is ignored", "192.0.2.1:1234", []string{"10.0.0.1, 203.0.113.9"}, 0, "192.0.2.1"},
		{"one proxy: the right-most entry", "10.0.0.2:80", []string{"203.0.113.9"}, 1, "203.0.113.9"},
		{"one proxy: entries the caller sent are skipped", "10.0.0.2:80", []string{"1.1.1.1, 2.2.2.2, 203.0.113.9"}, 1, "203.0.113.9"},
		{"two proxies: second from the right", "10.0.0.3:80", []string{"1.1.1.1, 203.0.113.9, 10.0.0.2"}, 2, "203.0.113.9"},
		{"two proxies: over several header lines", "10.0.0.3:80", []string{"1.1.1.1, 203.0.113.9", "10.0.0.2"}, 2, "203.0.113.9"},
		{"two proxies: spaces and empty entries", "10.0.0.3:80", []string{" 203.0.113.9 ,, 10.0.0.2 ,"}, 2, "203.0.113.9"},
		{"fewer entries than proxies: the left-most", "10.0.0.3:80", []string{"203.0.113.9"}, 2, "203.0.113.9"},
		{"no header behind proxies: the connection", "10.0.0.3:80", nil, 2, "10.0.0.3"},
		{"IPv6 entry", "10.0.0.2:80", []string{"2001:db8::1"}, 1, "2001:db8::1"},
		{"IPv6 entry with brackets and port", "10.0.0.2:80", []string{"[2001:db8::1]:443"}, 1, "2001:db8::1"},
		{"IPv6 entry in brackets", "10.0.0.2:80", []string{"[2001:db8::2]"}, 1, "2001:db8::2"},
		{"IPv6 zone dropped", "10.0.0.2:80", []string{"fe80::1%eth0"}, 1, "fe80::1"},
		{"IPv4 with a port", "10.0.0.2:80", []string{"203.0.113.9:5678"}, 1, "203.0.113.9"},
		{"IPv4-mapped IPv6 unmapped", "10.0.0.2:80", []string{"::ffff:203.0.113.9"}, 1, "203.0.113.9"},
		{"IPv6 connection", "[2001:db8::5]:1234", nil, 0, "2001:db8::5"},
		{"malformed chosen entry", "10.0.0.2:80", []string{"203.0.113.9, unknown"}, 1, ""},
		{"garbage header", "10.0.0.2:80", []string{"\x00;;<script>"}, 1, ""},
		{"malformed entry left of the chosen one does not matter", "10.0.0.2:80", []string{"garbage, 203.0.113.9"}, 1, "203.0.113.9"},
		{"malformed connection address", "not an address", nil, 0, ""},
		{"empty connection address", "", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := ClientAddrBehind(r, tt.proxies)
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Fatalf("ClientAddrBehind(%d) = %v, want %v", tt.proxies, got, want)
			}
		})
	}
}

// TestEdgeDerivesTheClientAddr: handlers behind Edge read the address its TrustedProxies imply; a request
// that never passed Edge gets the connection's; malformed headers answer normally.
func TestEdgeDerivesTheClientAddr(t *testing.T) {
	t.Parallel()
	var got netip.Addr
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = ClientAddr(r)
		w.WriteHeader(http.StatusNoContent)
	})
	for _, tc := range []struct {
		proxies int
		xff     string
		want    netip.Addr
	}{
		{0, "203.0.113.9", netip.MustParseAddr("192.0.2.1")},
		{1, "1.1.1.1, 203.0.113.9", netip.MustParseAddr("203.0.113.9")},
		{2, "1.1.1.1, 203.0.113.9, 10.0.0.2", netip.MustParseAddr("203.0.113.9")},
		{1, "%%%, \xff", netip.Addr{}},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header.Set("X-Forwarded-For", tc.xff)
		rec := httptest.NewRecorder()
		Edge{Log: slog.New(slog.DiscardHandler), TrustedProxies: tc.proxies}.Wrap(h).ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent || got != tc.want {
			t.Fatalf("%d proxies, %q: status %d, ClientAddr %v, want %v", tc.proxies, tc.xff, rec.Code, got, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	if a := ClientAddr(r); a != netip.MustParseAddr("192.0.2.7") {
		t.Fatalf("outside Edge: %v, want the connection's address", a)
	}
}

func TestClientConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n  int
		ok bool
	}{{0, true}, {2, true}, {MaxTrustedProxies, true}, {-1, false}, {MaxTrustedProxies + 1, false}} {
		if err := (ClientConfig{TrustedProxies: tc.n}).Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%d) = %v, want ok %v", tc.n, err, tc.ok)
		}
	}
}

type waitErr struct{ s int64 }

func (e waitErr) Error() string            { return "too many" }
func (e waitErr) RetryAfterSeconds() int64 { return e.s }

func TestWriteErrorThrottled(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest("POST", "/", nil), fmt.Errorf("login: %w", waitErr{s: 42}))
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusTooManyRequests || p.Code != "too_many_attempts" || rec.Header().Get("Retry-After") != "42" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %+v, Retry-After %q", rec.Code, p, rec.Header().Get("Retry-After"))
	}
	if got := TooManyAttempts(0).header.Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After for 0 s = %q, want 1", got)
	}
}
