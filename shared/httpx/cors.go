package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rs/cors"
)

// CORSConfig is the part of a function's configuration that says which browser origins may call it, read with
// go-envconfig (docs/2026-12-03-cors.md).
type CORSConfig struct {
	// AllowedOrigins are the origins (scheme://host[:port]) whose pages may call the platform from a browser:
	// CORS_ALLOWED_ORIGINS, comma-separated. Empty, the default, allows none; "*" allows any, outside
	// production only. The dev server sets the local frontend's origins.
	AllowedOrigins []string `env:"CORS_ALLOWED_ORIGINS"`
}

// AnyOrigin is the entry of CORSConfig.AllowedOrigins that allows every origin.
const AnyOrigin = "*"

// Validate reports every entry of AllowedOrigins that is not an origin a browser sends (empty entries, as a
// trailing comma leaves, are skipped); whether "*" is acceptable depends on the environment, which the
// function's configuration checks (AllowsAnyOrigin).
func (c CORSConfig) Validate() error {
	var errs []error
	for _, raw := range c.AllowedOrigins {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		if err := checkOrigin(raw); err != nil {
			errs = append(errs, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err))
		}
	}
	return errors.Join(errs...)
}

// AllowsAnyOrigin reports whether the list holds "*".
func (c CORSConfig) AllowsAnyOrigin() bool {
	for _, o := range c.AllowedOrigins {
		if strings.TrimSpace(o) == AnyOrigin {
			return true
		}
	}
	return false
}

// checkOrigin accepts "*" and what a browser puts in an Origin header: an http(s) scheme and a host with an
// optional port, nothing else. An entry with a path or a trailing slash would never equal an Origin header,
// and a wildcard inside a host is refused because a pattern such as https://*.example.com also admits any
// subdomain an attacker gets hold of.
func checkOrigin(o string) error {
	if o == AnyOrigin {
		return nil
	}
	bad := func(why string) error {
		return fmt.Errorf("%q is not an origin (scheme://host[:port]): %s", o, why)
	}
	if strings.Contains(o, "*") {
		return bad(`no wildcard, except "*" alone`)
	}
	u, err := url.Parse(o)
	if err != nil {
		return bad(err.Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("the scheme must be http or https")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return bad("no host")
	case u.User != nil:
		return bad("no credentials")
	case u.Path != "" || u.RawPath != "":
		return bad("no path, not even a trailing slash")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(o, "#"):
		return bad("no query or fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("the port must be from 1 to 65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("an empty port")
	}
	return nil
}

// CORSMaxAge is how long, in seconds, a browser may reuse a preflight's answer. Browsers cache a preflight per
// origin and URL, so a frontend pays one for each resource it writes to; ten minutes saves nearly all of them
// in a working session, and a narrowed configuration reaches every browser within ten minutes.
const CORSMaxAge = 600

// corsMethods are the methods the routes answer to; HEAD is there because every GET route answers it too.
var corsMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// corsRequestHeaders are the headers a frontend sends that are not CORS-safelisted: the token, a JSON body's
// type, a creating POST's key, a conditional write's ETag, and a request id of the caller's own, which Edge
// keeps so that a frontend's error report names the logs to read.
var corsRequestHeaders = []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-Id"}

// corsExposedHeaders are the response headers a frontend must read that a browser hides by default: a task's
// ETag, how long to wait after a 429 or 503, where a created resource lives, whether an answer is an
// idempotent replay (shared/idempotency sets it), and the request id to quote to support.
var corsExposedHeaders = []string{"ETag", "Retry-After", "Location", "Idempotent-Replayed", "X-Request-Id"}

// corsHandler answers the preflights of the allowed origins and marks next's answers to them readable.
//
// A preflight (OPTIONS with Access-Control-Request-Method) is answered 204 here, before authentication (a
// browser sends no token on it) and without reaching next; a non-preflight OPTIONS goes on to next, whose
// router refuses it. A request from an origin not allowed gets no Access-Control-* header at all and is
// otherwise served as usual: refusing it is the browser's part. Credentials stay off, since the platform's
// tokens travel in Authorization, not in cookies.
func corsHandler(origins []string, next http.Handler) http.Handler {
	opts := cors.Options{
		AllowedMethods: corsMethods,
		AllowedHeaders: corsRequestHeaders,
		ExposedHeaders: corsExposedHeaders,
		MaxAge:         CORSMaxAge,
	}
	for _, o := range origins {
		if o = strings.TrimSpace(o); o != "" {
			opts.AllowedOrigins = append(opts.AllowedOrigins, o)
		}
	}
	if len(opts.AllowedOrigins) == 0 {
		// rs/cors reads an empty list as "every origin"; here it means none.
		opts.AllowOriginFunc = func(string) bool { return false }
	}
	return cors.New(opts).Handler(next)
}
