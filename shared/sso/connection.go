// Package sso is per-organization single sign-on: an OIDC connection each organization's admins configure,
// the authorization-code flow with PKCE that starts and finishes a login, and just-in-time provisioning of the
// identity and membership on a first login.
package sso

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/secrets"
	"github.com/coditect/hyperscale/shared/valid"
)

// Connection is an organization's OIDC connection, stored in its settings (tenant.settings.sso).
type Connection struct {
	// Enabled turns the connection on; a disabled one keeps its configuration.
	Enabled bool `json:"enabled"`
	// Issuer is the provider's issuer URL; its discovery document is read from there.
	Issuer string `json:"issuer"`
	// ClientID is this platform's client id at the provider.
	ClientID string `json:"client_id"`
	// ClientSecret is a Secret Manager reference (secret://...); a plain value is accepted only locally.
	ClientSecret string `json:"client_secret"`
	// AllowedDomains are the email domains that may sign in; an email outside them is refused.
	AllowedDomains []string `json:"allowed_domains"`
	// DefaultRole is the role a person provisioned on first login gets (never owner).
	DefaultRole string `json:"default_role"`
	// Scopes are the scopes a sign-in asks for; openid is required, and an empty list means DefaultScopes.
	Scopes []string `json:"scopes,omitempty"`
	// TokenAuthMethod is how the client authenticates at the token endpoint: AuthClientSecretBasic or
	// AuthClientSecretPost; empty means the first of the two the provider's discovery document advertises
	// (basic when it advertises none, as OIDC Discovery §3 defaults).
	TokenAuthMethod string `json:"token_auth_method,omitempty"`
	// Required makes this connection the only way into the organization: a password session, or one opened
	// through another organization's provider, is refused at login and at a switch (403 sso_required). It
	// needs an enabled connection.
	Required bool `json:"required,omitempty"`
}

// Client authentication methods at the token endpoint (OIDC Core §9) the platform can use.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// DefaultScopes are the scopes of a connection that names none.
var DefaultScopes = []string{"openid", "email", "profile"}

// MaxScopes bounds a connection's scopes.
const MaxScopes = 20

// scopePattern is a scope token (RFC 6749 §3.3), bounded.
var scopePattern = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]{1,128}$`)

// EffectiveScopes returns the scopes a sign-in asks for: the connection's, or DefaultScopes.
func (c *Connection) EffectiveScopes() []string {
	if len(c.Scopes) == 0 {
		return slices.Clone(DefaultScopes)
	}
	return slices.Clone(c.Scopes)
}

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// Validate normalises c and reports every failing field, named under "sso.". local allows a plain client
// secret and an http issuer on loopback, for the dev server's in-process provider.
func (c *Connection) Validate(local bool) error {
	var errs valid.Errors
	c.Issuer = strings.TrimSpace(c.Issuer)
	u, err := url.Parse(c.Issuer)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		errs.Add("sso.issuer", "must be an absolute URL without query or fragment")
	case u.Scheme != "https" && !(local && u.Scheme == "http" && isLoopback(u.Hostname())):
		errs.Add("sso.issuer", "must use https")
	}
	errs.Check(strings.TrimSpace(c.ClientID) != "" && len(c.ClientID) <= 256, "sso.client_id", "is required (at most 256 characters)")
	switch {
	case c.ClientSecret == "":
		errs.Add("sso.client_secret", "is required")
	case !secrets.IsReference(c.ClientSecret) && !local:
		errs.Add("sso.client_secret", "must be a Secret Manager reference (secret://projects/P/secrets/S/versions/V)")
	}
	errs.Check(len(c.AllowedDomains) > 0 && len(c.AllowedDomains) <= 50, "sso.allowed_domains", "must list 1 to 50 email domains")
	for i, d := range c.AllowedDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		c.AllowedDomains[i] = d
		errs.Check(domainPattern.MatchString(d), fmt.Sprintf("sso.allowed_domains[%d]", i), "must be a domain name")
	}
	errs.Check(c.DefaultRole != access.Owner && slices.Contains(access.Roles, c.DefaultRole), "sso.default_role", "must be admin, member or viewer")
	if c.Scopes != nil {
		var scopes []string
		ok := len(c.Scopes) <= MaxScopes
		for _, sc := range c.Scopes {
			sc = strings.TrimSpace(sc)
			ok = ok && scopePattern.MatchString(sc)
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
		switch {
		case !ok:
			errs.Add("sso.scopes", fmt.Sprintf("must list at most %d scope tokens (RFC 6749 §3.3)", MaxScopes))
		case !slices.Contains(scopes, "openid"):
			errs.Add("sso.scopes", "must include openid")
		default:
			c.Scopes = scopes
		}
	}
	errs.Check(c.TokenAuthMethod == "" || c.TokenAuthMethod == AuthClientSecretBasic || c.TokenAuthMethod == AuthClientSecretPost,
		"sso.token_auth_method", "must be client_secret_basic or client_secret_post, or left out to follow the provider's discovery document")
	errs.Check(!c.Required || c.Enabled, "sso.required", "needs an enabled connection: nobody could get in")
	return errs.Err()
}

// AllowsEmail reports whether email's domain is one of the connection's allowed domains.
func (c *Connection) AllowsEmail(email string) bool {
	at := strings.LastIndexByte(email, '@')
	return at > 0 && slices.Contains(c.AllowedDomains, strings.ToLower(email[at+1:]))
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
