package service

import (
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/coditect/hyperscale/shared/config"
)

// TestConfigBoundsBodiesAndKeysCursors loads the function configuration: BODY_READ_TIMEOUT defaults to 10s
// and is bounded, and CURSOR_KEY must be base64 of 32 bytes or more.
func TestConfigBoundsBodiesAndKeysCursors(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://app@localhost/hyperscale"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			m[bk] = bv
		}
		return m
	}
	var cfg Config
	if err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(base))); err != nil {
		t.Fatal(err)
	}
	if cfg.Edge.BodyReadTimeout != 10*time.Second || cfg.Cursor.Key != "" {
		t.Fatalf("defaults: body read timeout %s, cursor key %q", cfg.Edge.BodyReadTimeout, cfg.Cursor.Key)
	}
	for _, tc := range []struct{ name, value, problem string }{
		{"BODY_READ_TIMEOUT", "0s", "BODY_READ_TIMEOUT"},
		{"BODY_READ_TIMEOUT", "1h", "BODY_READ_TIMEOUT"},
		{"CURSOR_KEY", "c2hvcnQ", "CURSOR_KEY"},
		{"CURSOR_KEY", "not base64, even if long enough to be a key", "CURSOR_KEY"},
	} {
		var cfg Config
		err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(with(tc.name, tc.value))))
		if err == nil || !strings.Contains(err.Error(), tc.problem) {
			t.Errorf("%s=%s: %v, want a problem naming %s", tc.name, tc.value, err, tc.problem)
		}
	}
	cfg = Config{}
	if err := config.Load(t.Context(), &cfg, config.WithLookuper(envconfig.MapLookuper(with("CURSOR_KEY", "aHlwZXJzY2FsZSB0ZXN0IGN1cnNvciBrZXksIDMyKyBieXRlcw")))); err != nil {
		t.Fatalf("a good key: %v", err)
	}
	if _, err := cfg.Cursor.Cursors(false, nil); err != nil {
		t.Fatalf("a good key does not make a signer: %v", err)
	}
}
