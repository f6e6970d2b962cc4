package service_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/coditect/hyperscale/shared/config"
	"github.com/coditect/hyperscale/shared/service"
)

// TestConfigCORSOrigins: CORS_ALLOWED_ORIGINS loads as a comma-separated list with every function's
// configuration, is empty by default, reports each malformed origin, and refuses "*" in production only.
func TestConfigCORSOrigins(t *testing.T) {
	t.Parallel()
	load := func(t *testing.T, vars map[string]string) (service.Config, error) {
		vars["DATABASE_URL"] = "postgres://localhost/app"
		var cfg service.Config
		err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(vars)))
		return cfg, err
	}
	cfg, err := load(t, map[string]string{})
	if err != nil || len(cfg.CORS.AllowedOrigins) != 0 {
		t.Fatalf("default: %v, origins %q; want none", err, cfg.CORS.AllowedOrigins)
	}
	cfg, err = load(t, map[string]string{"CORS_ALLOWED_ORIGINS": "http://localhost:5173, https://app.example.com"})
	if err != nil || !slices.Equal(cfg.CORS.AllowedOrigins, []string{"http://localhost:5173", "https://app.example.com"}) {
		t.Fatalf("two origins: %v, origins %q", err, cfg.CORS.AllowedOrigins)
	}

	tests := []struct {
		name, env, origins string
		// problem is what the error must name; empty means no CORS problem at all.
		problem string
	}{
		{"a path", "test", "https://app.example.com/app", "https://app.example.com/app"},
		{"a wildcard host", "local", "https://*.example.com", "https://*.example.com"},
		{"two bad entries", "local", "app.example.com,http://localhost:5173/", "app.example.com"},
		{"any origin in local", "local", "*", ""},
		{"any origin in test", "test", "*", ""},
		{"any origin in production", "production", "https://app.example.com,*", `"*" is refused in production`},
		{"named origins in production", "production", "https://app.example.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, map[string]string{"ENV": tc.env, "CORS_ALLOWED_ORIGINS": tc.origins})
			// Production refuses other settings these tests leave unset; only the CORS problems matter here.
			var got []string
			if err != nil {
				for line := range strings.SplitSeq(err.Error(), "\n") {
					if strings.Contains(line, "CORS_ALLOWED_ORIGINS") {
						got = append(got, line)
					}
				}
			}
			switch {
			case tc.problem == "" && len(got) > 0:
				t.Fatalf("%s=%q: %q, want no CORS problem", tc.env, tc.origins, got)
			case tc.problem != "" && (len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), tc.problem)):
				t.Fatalf("%s=%q: %q, want a CORS problem naming %s", tc.env, tc.origins, got, tc.problem)
			case tc.name == "two bad entries" && len(got) != 2:
				t.Fatalf("%q: want both entries reported", got)
			}
		})
	}
}
