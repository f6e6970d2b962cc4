package sso

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MinStateKeyBytes is the shortest state-signing key accepted: the HMAC-SHA256 output length.
const MinStateKeyBytes = 32

// Config is the single sign-on part of the auth function's configuration.
type Config struct {
	// ReturnURLs are the places a finished sign-in may send the browser back to: each entry an origin
	// (https://app.example.com) that admits any path under it, or an origin with a path
	// (https://example.com/app) that admits that path and the paths below it. Locally, an empty list admits
	// any http://localhost or http://127.0.0.1 origin, where frontends under development live.
	ReturnURLs []string `env:"SSO_RETURN_URLS"`
	// PublicURL is the platform's public base URL (the API Gateway's), which the callback URL registered at
	// identity providers starts with. Required in production, where a request's own Host names the Cloud Run
	// service rather than the gateway; elsewhere it defaults to the request's scheme and host.
	PublicURL string `env:"SSO_PUBLIC_URL"`
	// StateKey signs the state parameter: base64 of at least MinStateKeyBytes random bytes (`openssl rand
	// -base64 32`), usually a Secret Manager reference. Every instance must share it, so it is required in
	// production; elsewhere an empty key means a random one per process.
	StateKey string `env:"SSO_STATE_KEY"`
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	for _, raw := range c.ReturnURLs {
		if _, err := parseReturnEntry(raw); err != nil {
			errs = append(errs, fmt.Errorf("SSO_RETURN_URLS: %w", err))
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("SSO_PUBLIC_URL is %q, want an absolute http(s) URL without query or fragment", c.PublicURL))
		}
	}
	if c.StateKey != "" {
		if _, err := ParseStateKey(c.StateKey); err != nil {
			errs = append(errs, fmt.Errorf("SSO_STATE_KEY: %w", err))
		}
	}
	return errors.Join(errs...)
}

// BaseURL returns PublicURL without a trailing slash.
func (c Config) BaseURL() string { return strings.TrimRight(c.PublicURL, "/") }

// ParseStateKey decodes a state-signing key from standard or URL-safe base64, padded or not.
func ParseStateKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) < MinStateKeyBytes {
				return nil, fmt.Errorf("the key has %d bytes, want at least %d", len(key), MinStateKeyBytes)
			}
			return key, nil
		}
	}
	return nil, errors.New("the key is not base64")
}
