package idempotency_test

import (
	"testing"

	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
)

// TestIsolation runs the isolation cases the store tests of this package register, after checking that every
// store type and every tenant table the package owns has one.
func TestIsolation(t *testing.T) {
	t.Parallel()
	isolation.Suite(t)
}
