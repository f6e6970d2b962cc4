package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// The SSO configuration is a part service.Main loads before the function serves: a bad state key fails it,
// which stops the start instead of leaving the SSO routes answering 503. It sets the environment, so it does
// not run in parallel.
func TestSSOPartStopsTheStart(t *testing.T) {
	t.Setenv("SSO_STATE_KEY", "c2hvcnQ=")
	f := servicetest.New(t)
	if err := ssoPart.Load(context.Background(), f.Env); err == nil || !strings.Contains(err.Error(), "SSO_STATE_KEY") {
		t.Fatalf("loading the SSO part with a short state key: %v, want an error naming SSO_STATE_KEY", err)
	}
	t.Setenv("SSO_STATE_KEY", "")
	t.Setenv("SSO_PUBLIC_URL", "ftp://gateway")
	if err := ssoPart.Load(context.Background(), f.Env); err == nil || !strings.Contains(err.Error(), "SSO_PUBLIC_URL") {
		t.Fatalf("loading the SSO part with a bad public URL: %v, want an error naming SSO_PUBLIC_URL", err)
	}
}
