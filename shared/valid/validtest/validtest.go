// Package validtest helps tests look into the validation failures that domain code returns.
package validtest

import (
	"errors"

	"github.com/coditect/hyperscale/shared/valid"
)

// Fields returns the names of the failing fields of err, in order, or nil when err carries no valid.Errors.
func Fields(err error) []string {
	var e valid.Errors
	if !errors.As(err, &e) {
		return nil
	}
	out := make([]string, len(e))
	for i, f := range e {
		out[i] = f.Field
	}
	return out
}
