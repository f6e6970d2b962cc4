package service_test

import (
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service"
	"github.com/sethvargo/go-envconfig"
)

// TestConfigClientAndThrottle: the client-address and throttling settings load with every function's
// configuration, default to what production starts with, and are validated at start.
func TestConfigClientAndThrottle(t *testing.T) {
	t.Parallel()
	var cfg service.Config
	if err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"DATABASE_URL": "postgres://localhost/app", "TRUSTED_PROXY_COUNT": "2", "THROTTLE_LOGIN_FREE": "7",
	}))); err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := identity.DefaultLimits
	want.LoginBackoff.Free = 7
	if cfg.Client.TrustedProxies != 2 || cfg.Throttle.Limits() != want {
		t.Fatalf("Client %+v, limits %+v", cfg.Client, cfg.Throttle.Limits())
	}

	var bad service.Config
	err := config.Load(t.Context(), &bad, config.WithLookuper(envconfig.MapLookuper(map[string]string{
		"DATABASE_URL": "postgres://localhost/app", "TRUSTED_PROXY_COUNT": "-1", "THROTTLE_CLIENT_MAX": "-3",
	})))
	if err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXY_COUNT") || !strings.Contains(err.Error(), "THROTTLE_CLIENT_MAX") {
		t.Fatalf("Load = %v, want both settings refused", err)
	}
}
