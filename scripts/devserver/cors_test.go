package main

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/google/uuid"
)

// anyParam matches a path template's parameters, which any value fills for a preflight.
var anyParam = regexp.MustCompile(`\{[^/}]+\}`)

// TestCORSEveryRoute sends a browser's preflight (Origin, Access-Control-Request-Method and
// Access-Control-Request-Headers: authorization,content-type) to every operation of the real gateway document,
// through the dev server's router and the function the document names, as make run serves it. From the dev
// frontend's origin each succeeds with the asked method and headers, the max age and no credentials; from an
// origin not allowed, no answer carries an Access-Control-* header.
func TestCORSEveryRoute(t *testing.T) {
	t.Parallel()
	routes := gatewayRoutes(t)
	h, _ := newPlatform(t)
	const evil = "https://evil.example.net"
	tried := 0
	for _, r := range routes {
		if r.Method == http.MethodOptions {
			continue
		}
		path := anyParam.ReplaceAllStringFunc(r.Path, func(string) string { return uuid.NewString() })
		for _, origin := range []string{devFrontendOrigin, "http://127.0.0.1:5173", evil} {
			res := servicetest.Do(t, h, req{Method: http.MethodOptions, Path: path, Header: map[string]string{
				"Origin": origin, "Access-Control-Request-Method": r.Method, "Access-Control-Request-Headers": "authorization,content-type",
			}})
			where := r.Method + " " + r.Path + " from " + origin
			if res.Status != http.StatusNoContent || res.Raw != "" {
				t.Errorf("preflight of %s: %d %.200s, want 204 and no body", where, res.Status, res.Raw)
				continue
			}
			if origin == evil {
				for k := range res.Header {
					if strings.HasPrefix(strings.ToLower(k), "access-control-") {
						t.Errorf("preflight of %s: %s %q, want no CORS header", where, k, res.Header.Values(k))
					}
				}
				continue
			}
			tried++
			for _, want := range [][2]string{
				{"Access-Control-Allow-Origin", origin},
				{"Access-Control-Allow-Methods", r.Method},
				{"Access-Control-Allow-Headers", "authorization,content-type"},
				{"Access-Control-Max-Age", "600"},
				{"Access-Control-Allow-Credentials", ""},
			} {
				if got := res.Header.Get(want[0]); got != want[1] {
					t.Errorf("preflight of %s: %s %q, want %q", where, want[0], got, want[1])
				}
			}
			if vary := strings.ToLower(strings.Join(res.Header.Values("Vary"), ",")); !strings.Contains(vary, "origin") {
				t.Errorf("preflight of %s: Vary %q does not name Origin", where, vary)
			}
		}
	}
	if tried == 0 {
		t.Fatal("the gateway document has no operation to send a preflight for")
	}
}

// TestCORSActualRequests: a browser's requests from the dev frontend's origin carry Access-Control-Allow-Origin
// and expose the headers a frontend reads (Location of a created project among them); from an origin not
// allowed, the same requests are served as usual without any Access-Control-* header.
func TestCORSActualRequests(t *testing.T) {
	t.Parallel()
	h, f := newPlatform(t)
	tok := f.Token(t, f.SignUp(t, "acme", "ada@acme.test"))
	const evil = "https://evil.example.net"
	for _, tc := range []struct {
		name   string
		r      req
		status int
		header string // a header of the answer the frontend must be able to read
	}{
		{"create a project", req{Method: "POST", Path: "/v1/projects", Bearer: tok, Body: map[string]any{"name": "Apollo"}}, http.StatusCreated, "Location"},
		{"list projects", req{Method: "GET", Path: "/v1/projects", Bearer: tok}, http.StatusOK, "X-Request-Id"},
		{"refused without a token", req{Method: "GET", Path: "/v1/projects"}, http.StatusUnauthorized, "X-Request-Id"},
	} {
		for _, origin := range []string{devFrontendOrigin, evil} {
			tc.r.Header = map[string]string{"Origin": origin}
			res := servicetest.Expect(t, servicetest.Do(t, h, tc.r), tc.status)
			where := tc.name + " from " + origin
			if res.Header.Get(tc.header) == "" {
				t.Errorf("%s: no %s in the answer", where, tc.header)
			}
			if origin == evil {
				for k := range res.Header {
					if strings.HasPrefix(strings.ToLower(k), "access-control-") {
						t.Errorf("%s: %s %q, want no CORS header", where, k, res.Header.Values(k))
					}
				}
				continue
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", where, got, origin)
			}
			exposed := strings.Split(strings.ToLower(strings.ReplaceAll(res.Header.Get("Access-Control-Expose-Headers"), " ", "")), ",")
			for _, name := range []string{"etag", "retry-after", "location", "idempotent-replayed", strings.ToLower(tc.header)} {
				if !slices.Contains(exposed, name) {
					t.Errorf("%s: Access-Control-Expose-Headers %q lacks %s", where, res.Header.Get("Access-Control-Expose-Headers"), name)
				}
			}
			if c := res.Header.Get("Access-Control-Allow-Credentials"); c != "" {
				t.Errorf("%s: Access-Control-Allow-Credentials %q, want none", where, c)
			}
		}
	}
}
