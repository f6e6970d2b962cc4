package main

import (
	"net/url"
	"slices"
	"strings"
)

// devFrontendOrigin is where a frontend under development lives (Vite's default port); the SSO walkthrough
// returns there too.
const devFrontendOrigin = "http://localhost:5173"

// localOrigins is the CORS_ALLOWED_ORIGINS the dev server sets when the developer set none: the dev frontend,
// under both loopback names a browser may be pointed at, and the origin of every SSO return URL the developer
// configured (SSO_RETURN_URLS), since a frontend a sign-in returns to then calls the API from that origin.
func localOrigins(lookup func(string) (string, bool)) string {
	origins := []string{devFrontendOrigin, "http://127.0.0.1:5173"}
	returns, _ := lookup("SSO_RETURN_URLS")
	for raw := range strings.SplitSeq(returns, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue // the auth function reports a malformed entry when it loads its configuration
		}
		if o := u.Scheme + "://" + strings.ToLower(u.Host); !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	return strings.Join(origins, ",")
}
