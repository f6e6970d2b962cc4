package identity

import (
	"context"
	"time"
)

// Login is LoginFrom without throttling, for the tests of logging in itself (the throttle has its own tests):
// they may fail as often as they need without tripping a limit.
func (s *Service) Login(ctx context.Context, email, password, tenantSlug string, now time.Time) (Session, error) {
	return s.login(ctx, email, password, tenantSlug, nil, now)
}
