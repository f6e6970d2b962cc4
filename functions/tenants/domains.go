package tenants

import (
	"context"
	"net/http"
	"net/url"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/tenancy"
)

// ownHosts are the deployment's own host names, which no organization may claim as a custom domain, on top of
// tenancy.PlatformDomains.
func ownHosts(env *service.Env) []string {
	if u, err := url.Parse(env.Config.Token.Issuer); err == nil && u.Hostname() != "" {
		return []string{u.Hostname()}
	}
	return nil
}

// domainsPart is the custom-domain configuration (DOMAIN_CLAIM_TTL), which service.Main loads and validates
// before the function serves: a bad value stops the start.
var domainsPart = service.NewPart(func(ctx context.Context, _ *service.Env) (tenancy.DomainConfig, error) {
	var cfg tenancy.DomainConfig
	err := config.Load(ctx, &cfg)
	return cfg, err
})

// loadDomains builds the domain store with its configuration. An Env that service.Main did not start (the dev
// server's, tests') loads the configuration here.
func loadDomains(env *service.Env, resolver tenancy.TXTResolver) (*tenancy.Domains, error) {
	cfg, err := domainsPart.Get(context.Background(), env)
	if err != nil {
		return nil, err
	}
	return tenancy.NewDomains(env.DB.Directory, env.DB.Tenants, resolver, env.Log, ownHosts(env)...).WithConfig(cfg), nil
}

// withDomains answers 503 while the domain configuration is invalid (the reason was logged at start), so the
// rest of the function keeps serving.
func (h *handler) withDomains(fn httpx.HandlerFunc) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if h.domains == nil {
			return tenancy.ErrDomainsUnavailable
		}
		return fn(w, r)
	}
}

type domainList struct {
	Items []tenancy.Domain `json:"items"`
}

func (h *handler) listDomains(c *service.Call) (domainList, error) {
	items, err := h.domains.List(c.Context(), c.TenantID)
	return domainList{Items: items}, err
}

func (h *handler) addDomain(c *service.Call, in tenancy.DomainInput) (tenancy.Domain, error) {
	d, err := h.domains.Add(c.Context(), c.TenantID, c.IdentityID, in)
	if err == nil {
		c.Header().Set("Location", "/v1/tenants/me/domains/"+d.ID.String())
	}
	return d, err
}

func (h *handler) removeDomain(c *service.Call) error {
	return h.domains.Remove(c.Context(), c.TenantID, c.IdentityID, c.ID("id"))
}

func (h *handler) verifyDomain(c *service.Call) (tenancy.Domain, error) {
	return h.domains.Verify(c.Context(), c.TenantID, c.IdentityID, c.ID("id"))
}
