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
