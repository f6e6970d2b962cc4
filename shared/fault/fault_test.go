package fault_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/fault"
)

var errSample = fault.New(fault.Conflict, "sample", "a sample refusal")

func TestSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		err   error
		is    bool
		kind  fault.Kind
		code  string
		retry time.Duration
	}{
		{"itself", errSample, true, fault.Conflict, "sample", 0},
		{"wrapped", fmt.Errorf("load x: %w", errSample), true, fault.Conflict, "sample", 0},
		{"retry copy", fmt.Errorf("try: %w", errSample.WithRetryAfter(3*time.Second)), true, fault.Conflict, "sample", 3 * time.Second},
		{"same text other sentinel", fault.New(fault.Conflict, "sample", "a sample refusal"), false, fault.Conflict, "sample", 0},
		{"plain error", errors.New("boom"), false, fault.Internal, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(tt.err, errSample); got != tt.is {
				t.Errorf("errors.Is = %v, want %v", got, tt.is)
			}
			if got := fault.KindOf(tt.err); got != tt.kind {
				t.Errorf("KindOf = %v, want %v", got, tt.kind)
			}
			e := fault.As(tt.err)
			if tt.code == "" {
				if e != nil {
					t.Errorf("As = %v, want nil", e)
				}
				return
			}
			if e == nil || e.Code != tt.code || e.RetryAfter != tt.retry {
				t.Errorf("As = %+v, want code %q retry %v", e, tt.code, tt.retry)
			}
		})
	}
}

func TestKindNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range fault.Kinds() {
		n := k.String()
		if n == "unknown" || seen[n] {
			t.Errorf("kind %d has name %q", k, n)
		}
		seen[n] = true
	}
	if got := fault.Kind(-1).String(); got != "unknown" {
		t.Errorf("Kind(-1) = %q", got)
	}
}
