package sso

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/coditect/hyperscale/shared/fault"
)

// Metadata is what the platform reads of a provider's discovery document (OpenID Connect Discovery 1.0 §3).
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
}

// Kinds of discovery failure, which a DiscoveryError wraps.
var (
	// ErrProviderUnreachable means the discovery document could not be read: the network, a timeout, a 5xx.
	ErrProviderUnreachable = fault.New(fault.BadGateway, "sso_provider_unavailable", "the identity provider could not be reached; try again")
	// ErrIssuerMismatch means the document names another issuer than the connection's, even by a trailing
	// slash: ID tokens carry the document's issuer, and the connection's would refuse every one of them.
	ErrIssuerMismatch = fault.New(fault.Unavailable, "sso_issuer_mismatch", "the identity provider names another issuer than this organization's single sign-on; ask its admins to correct the issuer")
	// ErrProviderIncompatible means the document is missing, malformed, or describes a provider the platform
	// cannot sign in with (no code flow, no S256 PKCE, no client authentication it speaks).
	ErrProviderIncompatible = fault.New(fault.Unavailable, "sso_provider_incompatible", "this organization's identity provider does not offer what single sign-on needs; ask its admins")
)

// DiscoveryError is a failed discovery or a provider that does not fit the connection. Kind is one of
// ErrProviderUnreachable, ErrIssuerMismatch and ErrProviderIncompatible; Field names the connection's field
// at fault as the settings API does ("sso.issuer", "sso.token_auth_method"); Detail says what, for an admin.
type DiscoveryError struct {
	Kind   error
	Field  string
	Detail string
}

func (e *DiscoveryError) Error() string { return e.Detail }

// Unwrap returns the kind, so errors.Is matches it.
func (e *DiscoveryError) Unwrap() error { return e.Kind }

// WellKnownPath is where a provider publishes its discovery document under its issuer.
const WellKnownPath = "/.well-known/openid-configuration"

// maxDiscoveryBytes bounds a discovery document; real ones are a few kilobytes.
const maxDiscoveryBytes = 256 << 10

// Discover reads issuer's discovery document with client (NewHTTPClient) and checks that it names issuer
// exactly, as OpenID Connect Discovery §4.3 requires. Every error is a *DiscoveryError.
func Discover(ctx context.Context, client *http.Client, issuer string) (Metadata, error) {
	// The document lives under the issuer with any trailing slash removed (Discovery §4.1).
	where := strings.TrimSuffix(issuer, "/") + WellKnownPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return Metadata{}, &DiscoveryError{ErrProviderIncompatible, "sso.issuer", fmt.Sprintf("cannot request %s: %v", where, err)}
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return Metadata{}, &DiscoveryError{ErrProviderUnreachable, "sso.issuer", fmt.Sprintf("could not read %s: %v", where, err)}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxDiscoveryBytes+1))
	switch {
	case err != nil:
		return Metadata{}, &DiscoveryError{ErrProviderUnreachable, "sso.issuer", fmt.Sprintf("could not read %s: %v", where, err)}
	case res.StatusCode >= 500:
		return Metadata{}, &DiscoveryError{ErrProviderUnreachable, "sso.issuer", fmt.Sprintf("%s answered HTTP %d", where, res.StatusCode)}
	case res.StatusCode != http.StatusOK:
		return Metadata{}, &DiscoveryError{ErrProviderIncompatible, "sso.issuer",
			fmt.Sprintf("no discovery document at %s (HTTP %d): is the issuer right?", where, res.StatusCode)}
	case len(body) > maxDiscoveryBytes:
		return Metadata{}, &DiscoveryError{ErrProviderIncompatible, "sso.issuer", fmt.Sprintf("the discovery document at %s is larger than %d bytes", where, maxDiscoveryBytes)}
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return Metadata{}, &DiscoveryError{ErrProviderIncompatible, "sso.issuer", fmt.Sprintf("the discovery document at %s is not a JSON object: %v", where, err)}
	}
	if md.Issuer != issuer {
		return Metadata{}, &DiscoveryError{ErrIssuerMismatch, "sso.issuer",
			fmt.Sprintf("the provider's discovery document names the issuer %q, not %q: use its value exactly", md.Issuer, issuer)}
	}
	return md, nil
}

// Check reports whether the provider md describes can sign c's people in: an authorization and a token
// endpoint and a key set, the code flow, S256 PKCE and a client authentication the platform speaks, where
// the document advertises them (a document that is silent is taken at its word later). It returns nil or a
// *DiscoveryError of kind ErrProviderIncompatible.
func (md Metadata) Check(c *Connection) error {
	incompatible := func(field, format string, args ...any) error {
		return &DiscoveryError{ErrProviderIncompatible, field, fmt.Sprintf(format, args...)}
	}
	for _, ep := range []struct{ name, value string }{
		{"authorization_endpoint", md.AuthorizationEndpoint}, {"token_endpoint", md.TokenEndpoint}, {"jwks_uri", md.JWKSURI},
	} {
		if u, err := url.Parse(ep.value); ep.value == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return incompatible("sso.issuer", "the provider's discovery document has no usable %s", ep.name)
		}
	}
	if len(md.ResponseTypesSupported) > 0 && !slices.Contains(md.ResponseTypesSupported, "code") {
		return incompatible("sso.issuer", "the provider does not support the authorization code flow (response_types_supported %v)", md.ResponseTypesSupported)
	}
	if len(md.GrantTypesSupported) > 0 && !slices.Contains(md.GrantTypesSupported, "authorization_code") {
		return incompatible("sso.issuer", "the provider does not support the authorization_code grant (grant_types_supported %v)", md.GrantTypesSupported)
	}
	if len(md.CodeChallengeMethodsSupported) > 0 && !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
		return incompatible("sso.issuer", "the provider does not support S256 PKCE (code_challenge_methods_supported %v)", md.CodeChallengeMethodsSupported)
	}
	if _, err := md.AuthMethod(c); err != nil {
		return err
	}
	return nil
}

// AuthMethod returns how c's client authenticates at the token endpoint: c.TokenAuthMethod when set (which
// the provider must advertise, if it advertises any), else client_secret_basic when the provider advertises
// it or nothing (the default of Discovery §3), else client_secret_post. A provider that advertises neither
// is a *DiscoveryError of kind ErrProviderIncompatible.
func (md Metadata) AuthMethod(c *Connection) (string, error) {
	advertised := md.TokenEndpointAuthMethodsSupported
	if len(advertised) == 0 {
		advertised = []string{AuthClientSecretBasic}
	}
	if c.TokenAuthMethod != "" {
		if !slices.Contains(advertised, c.TokenAuthMethod) {
			return "", &DiscoveryError{ErrProviderIncompatible, "sso.token_auth_method",
				fmt.Sprintf("the provider does not accept %s (token_endpoint_auth_methods_supported %v)", c.TokenAuthMethod, advertised)}
		}
		return c.TokenAuthMethod, nil
	}
	for _, m := range []string{AuthClientSecretBasic, AuthClientSecretPost} {
		if slices.Contains(advertised, m) {
			return m, nil
		}
	}
	return "", &DiscoveryError{ErrProviderIncompatible, "sso.token_auth_method",
		fmt.Sprintf("the provider accepts none of client_secret_basic and client_secret_post (token_endpoint_auth_methods_supported %v)", advertised)}
}
