package httpx

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestEdgeCORS sends preflights and actual requests through Edge: allowed origins get the preflight answer
// (204, the asked method and headers, max age, no credentials) before the handler, which stands in for
// authentication; actual requests get Access-Control-Allow-Origin and the exposed headers; an origin not
// allowed, a method or header not allowed, or no configured origin at all gets no Access-Control-* header,
// while its actual request is still served.
func TestEdgeCORS(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"
	local := []string{"http://localhost:5173", " " + app}
	type want struct {
		status  int
		reached bool
		// origin is the expected Access-Control-Allow-Origin; empty means no Access-Control-* header at all.
		origin string
	}
	tests := []struct {
		name    string
		origins []string
		method  string
		header  map[string]string
		want    want
	}{
		{"preflight of a POST with token and JSON", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"},
			want{http.StatusNoContent, false, app}},
		{"preflight of a GET", local, "OPTIONS",
			map[string]string{"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
			want{http.StatusNoContent, false, "http://localhost:5173"}},
		{"preflight of a PUT with If-Match", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization,content-type,if-match"},
			want{http.StatusNoContent, false, app}},
		{"preflight of a PATCH", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization,content-type"},
			want{http.StatusNoContent, false, app}},
		{"preflight of a DELETE", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization"},
			want{http.StatusNoContent, false, app}},
		{"preflight of a POST with Idempotency-Key and a request id", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,idempotency-key,x-request-id"},
			want{http.StatusNoContent, false, app}},
		{"preflight with the origin in other case", local, "OPTIONS",
			map[string]string{"Origin": "https://APP.example.com", "Access-Control-Request-Method": "GET"},
			want{http.StatusNoContent, false, "https://APP.example.com"}},
		{"preflight from an origin not allowed", local, "OPTIONS",
			map[string]string{"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"},
			want{http.StatusNoContent, false, ""}},
		{"preflight from a look-alike origin", local, "OPTIONS",
			map[string]string{"Origin": "https://app.example.com.evil.example.net", "Access-Control-Request-Method": "GET"},
			want{http.StatusNoContent, false, ""}},
		{"preflight from the allowed host on another port", local, "OPTIONS",
			map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
			want{http.StatusNoContent, false, ""}},
		{"preflight of a method no route uses", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "TRACE"},
			want{http.StatusNoContent, false, ""}},
		{"preflight of a header not allowed", local, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization,x-debug"},
			want{http.StatusNoContent, false, ""}},
		{"preflight with no origin configured", nil, "OPTIONS",
			map[string]string{"Origin": app, "Access-Control-Request-Method": "GET"},
			want{http.StatusNoContent, false, ""}},
		{"preflight with any origin allowed", []string{"*"}, "OPTIONS",
			map[string]string{"Origin": "https://anyone.example.org", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization"},
			want{http.StatusNoContent, false, "*"}},
		{"OPTIONS that is no preflight goes to the router", local, "OPTIONS",
			map[string]string{"Origin": app},
			want{http.StatusUnauthorized, true, app}},
		{"GET from an allowed origin", local, "GET",
			map[string]string{"Origin": app, "Authorization": "Bearer x"},
			want{http.StatusOK, true, app}},
		{"DELETE from an allowed origin", local, "DELETE",
			map[string]string{"Origin": app, "Authorization": "Bearer x"},
			want{http.StatusOK, true, app}},
		{"GET from an origin not allowed is still served", local, "GET",
			map[string]string{"Origin": "https://evil.example.net", "Authorization": "Bearer x"},
			want{http.StatusOK, true, ""}},
		{"GET with no origin configured is still served", nil, "GET",
			map[string]string{"Origin": app, "Authorization": "Bearer x"},
			want{http.StatusOK, true, ""}},
		{"GET without an Origin", local, "GET",
			map[string]string{"Authorization": "Bearer x"},
			want{http.StatusOK, true, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reached := false
			// The handler stands for a function's router behind authentication: it refuses a request without a
			// token, and sets the headers a client must be able to read.
			h := Edge{Log: slog.New(slog.DiscardHandler), AllowedOrigins: tc.origins}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached = true
				if r.Header.Get("Authorization") == "" {
					WriteError(w, r, ErrUnauthenticated)
					return
				}
				w.Header().Set("ETag", `"v1"`)
				w.WriteHeader(http.StatusOK)
			}))
			req := httptest.NewRequest(tc.method, "/v1/projects", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Result().Header
			if rec.Code != tc.want.status || reached != tc.want.reached {
				t.Fatalf("status %d, handler reached %v; want %d, %v", rec.Code, reached, tc.want.status, tc.want.reached)
			}
			if !slices.Contains(varied(got), "origin") {
				t.Errorf("Vary %q does not name Origin", got.Values("Vary"))
			}
			if got.Get("X-Request-Id") == "" {
				t.Error("the answer carries no X-Request-Id: it did not pass through the edge")
			}
			if tc.want.origin == "" {
				for k := range got {
					if strings.HasPrefix(strings.ToLower(k), "access-control-") {
						t.Errorf("%s: %q on an answer that must carry no CORS header", k, got.Values(k))
					}
				}
				return
			}
			if o := got.Get("Access-Control-Allow-Origin"); o != tc.want.origin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", o, tc.want.origin)
			}
			if c := got.Values("Access-Control-Allow-Credentials"); len(c) != 0 {
				t.Errorf("Access-Control-Allow-Credentials %q; credentials must stay off", c)
			}
			if tc.want.reached {
				exposed := strings.Split(strings.ToLower(strings.ReplaceAll(got.Get("Access-Control-Expose-Headers"), " ", "")), ",")
				for _, h := range []string{"etag", "retry-after", "location", "idempotent-replayed", "x-request-id"} {
					if !slices.Contains(exposed, h) {
						t.Errorf("Access-Control-Expose-Headers %q lacks %s", got.Get("Access-Control-Expose-Headers"), h)
					}
				}
				if m := got.Get("Access-Control-Max-Age"); m != "" {
					t.Errorf("an actual request's answer carries Access-Control-Max-Age %q", m)
				}
				return
			}
			if m := got.Get("Access-Control-Allow-Methods"); m != tc.header["Access-Control-Request-Method"] {
				t.Errorf("Access-Control-Allow-Methods %q, want the asked %q", m, tc.header["Access-Control-Request-Method"])
			}
			if a, asked := got.Get("Access-Control-Allow-Headers"), tc.header["Access-Control-Request-Headers"]; a != asked {
				t.Errorf("Access-Control-Allow-Headers %q, want the asked %q", a, asked)
			}
			if m := got.Get("Access-Control-Max-Age"); m != "600" {
				t.Errorf("Access-Control-Max-Age %q, want 600", m)
			}
			for _, h := range []string{"access-control-request-method", "access-control-request-headers"} {
				if !slices.Contains(varied(got), h) {
					t.Errorf("a preflight's Vary %q does not name %s", got.Values("Vary"), h)
				}
			}
		})
	}
}

// varied is the lower-cased list of header names h's Vary names.
func varied(h http.Header) []string {
	var names []string
	for _, v := range h.Values("Vary") {
		for n := range strings.SplitSeq(v, ",") {
			names = append(names, strings.ToLower(strings.TrimSpace(n)))
		}
	}
	return names
}

// TestCORSConfigValidate accepts origins as browsers send them and refuses what could never match one, or
// would match too much.
func TestCORSConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:5173", true},
		{"https://app.example.com", true},
		{"https://app.example.com:8443", true},
		{"http://127.0.0.1:5173", true},
		{"http://[::1]:5173", true},
		{" https://app.example.com", true},
		{"*", true},
		{"https://app.example.com/", false},
		{"https://app.example.com/app", false},
		{"https://*.example.com", false},
		{"https://app.example.com?x=1", false},
		{"https://app.example.com#top", false},
		{"https://user@app.example.com", false},
		{"ftp://app.example.com", false},
		{"app.example.com", false},
		{"//app.example.com", false},
		{"https://", false},
		{"https://app.example.com:0", false},
		{"https://app.example.com:99999", false},
		{"https://app.example.com:", false},
		{"null", false},
		{"", true}, // skipped, as a trailing comma leaves it
	}
	for _, tc := range tests {
		err := CORSConfig{AllowedOrigins: []string{tc.origin}}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") {
			t.Errorf("%q: %v does not name CORS_ALLOWED_ORIGINS", tc.origin, err)
		}
	}
	err := CORSConfig{AllowedOrigins: []string{"https://a.example.com/", "https://*.example.com", "http://localhost:5173"}}.Validate()
	if err == nil || strings.Count(err.Error(), "CORS_ALLOWED_ORIGINS") != 2 {
		t.Errorf("two bad entries of three: %v, want both reported", err)
	}
	if (CORSConfig{AllowedOrigins: []string{"http://localhost:5173", " *"}}).AllowsAnyOrigin() != true ||
		(CORSConfig{AllowedOrigins: []string{"http://localhost:5173"}}).AllowsAnyOrigin() != false {
		t.Error("AllowsAnyOrigin does not find the entry *")
	}
}
