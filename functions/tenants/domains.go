package tenants

import (
	"context"
	"net/http"
	"net/url"

	"github.com/coditect/hyperscale/shared/access"
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

func (h *handler) listDomains(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadTenant)
	if err != nil {
		return err
	}
	items, err := h.domains.List(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, domainList{Items: items})
	return nil
}

func (h *handler) addDomain(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageTenant)
	if err != nil {
		return err
	}
	var in tenancy.DomainInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	d, err := h.domains.Add(r.Context(), p.TenantID, p.IdentityID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tenants/me/domains/"+d.ID.String())
	httpx.WriteJSON(w, http.StatusCreated, d)
	return nil
}

func (h *handler) removeDomain(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageTenant)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.domains.Remove(r.Context(), p.TenantID, p.IdentityID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) verifyDomain(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageTenant)
	if err != nil {
		return err
	}
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.domains.Verify(r.Context(), p.TenantID, p.IdentityID, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}
