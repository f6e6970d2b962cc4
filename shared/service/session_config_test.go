package service

import (
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/sethvargo/go-envconfig"
)

func TestSessionCheckTTL(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (Config, error) {
		var cfg Config
		env["DATABASE_URL"] = "postgres://localhost/app"
		err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(env)))
		return cfg, err
	}
	cfg, err := load(map[string]string{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.SessionCheckTTL != 5*time.Second || cfg.Token.RefreshReuseInterval != 10*time.Second {
		t.Fatalf("defaults: SESSION_CHECK_TTL %s, TOKEN_REFRESH_REUSE_INTERVAL %s; want 5s and 10s", cfg.SessionCheckTTL, cfg.Token.RefreshReuseInterval)
	}
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"0s", true}, {"1m", true}, {"-1s", false}, {"61s", false}} {
		_, err := load(map[string]string{"SESSION_CHECK_TTL": tc.value})
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "SESSION_CHECK_TTL")) {
			t.Errorf("SESSION_CHECK_TTL=%s: %v, want ok=%v", tc.value, err, tc.ok)
		}
	}
}
