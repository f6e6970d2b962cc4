package tenants

import (
	"net/http"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/coditect/hyperscale/shared/tenancy"
)

func (h *handler) getTenant(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadTenant)
	if err != nil {
		return err
	}
	t, err := h.orgs.Get(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) updateTenant(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageTenant)
	if err != nil {
		return err
	}
	var in tenancy.TenantInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	t, err := h.orgs.Rename(r.Context(), p.TenantID, p.IdentityID, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, t)
	return nil
}

func (h *handler) getSettings(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ReadTenant)
	if err != nil {
		return err
	}
	s, err := h.settings.Get(r.Context(), p.TenantID)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) replaceSettings(w http.ResponseWriter, r *http.Request) error {
	p, err := service.Allow(r, access.ManageTenant)
	if err != nil {
		return err
	}
	var in tenancy.SettingsInput
	if err := httpx.Decode(w, r, &in); err != nil {
		return err
	}
	s, err := h.settings.ReplaceBy(r.Context(), p, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s)
	return nil
}
