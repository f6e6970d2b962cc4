package tenancy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// require_mfa is stored, read back, and seen by the policy of its own organization only.
func TestRequireMFASetting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	s := tenancy.NewSettingsStore(d.DB.Tenants, true)
	policy := tenancy.NewMFAPolicy(d.DB.Tenants, 0)
	acme, other, actor := uuid.New(), uuid.New(), uuid.New()

	var errs valid.Errors
	for _, bad := range []string{`{"require_mfa":"yes"}`, `{"require_mfa":1}`} {
		if _, err := s.Replace(ctx, acme, actor, settingsInput(t, bad)); !errors.As(err, &errs) || errs[0].Field != "require_mfa" {
			t.Fatalf("%s: %v, want a require_mfa field error", bad, err)
		}
	}
	put, err := s.Replace(ctx, acme, actor, settingsInput(t, `{"require_mfa":true}`))
	if err != nil || !put.RequireMFA {
		t.Fatalf("replace = %+v, %v", put, err)
	}
	if got, err := s.Get(ctx, acme); err != nil || !got.RequireMFA {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if _, err := s.Replace(ctx, other, actor, settingsInput(t, `{"features":{"beta":true}}`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant uuid.UUID
		want   bool
	}{{acme, true}, {other, false}, {uuid.New(), false}} {
		if got, err := policy.Required(ctx, tc.tenant); err != nil || got != tc.want {
			t.Fatalf("required(%s) = %v, %v; want %v", tc.tenant, got, err, tc.want)
		}
	}
	// Switching it off is a change the policy sees (with no cache).
	if _, err := s.Replace(ctx, acme, actor, settingsInput(t, `{}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := policy.Required(ctx, acme); got {
		t.Fatal("require_mfa still on after it was removed")
	}
	// A cached answer holds for its ttl.
	cached := tenancy.NewMFAPolicy(d.DB.Tenants, time.Hour)
	if got, _ := cached.Required(ctx, acme); got {
		t.Fatal("cached policy on")
	}
	if _, err := s.Replace(ctx, acme, actor, settingsInput(t, `{"require_mfa":true}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := cached.Required(ctx, acme); got {
		t.Fatal("the cache read again within its ttl")
	}
}
