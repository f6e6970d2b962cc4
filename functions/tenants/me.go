package tenants

import (
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/tenancy"
)

func (h *handler) getTenant(c *service.Call) (tenancy.Tenant, error) {
	return h.orgs.Get(c.Context(), c.TenantID)
}

func (h *handler) updateTenant(c *service.Call, in tenancy.TenantInput) (tenancy.Tenant, error) {
	return h.orgs.Rename(c.Context(), c.TenantID, c.IdentityID, in)
}

func (h *handler) getSettings(c *service.Call) (tenancy.Settings, error) {
	return h.settings.Get(c.Context(), c.TenantID)
}

func (h *handler) replaceSettings(c *service.Call, in tenancy.SettingsInput) (tenancy.Settings, error) {
	return h.settings.ReplaceBy(c.Context(), c.Principal, in)
}
