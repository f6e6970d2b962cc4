package identity_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db/dbtest"
	"github.com/coditect/hyperscale/shared/db/dbtest/isolation"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

// TestIsolation runs the isolation cases of this package's stores, after checking that each has one.
func TestIsolation(t *testing.T) {
	t.Parallel()
	isolation.Suite(t)
}

// sessionFixture is one signed-up owner's session on each side.
type sessionFixture struct {
	tenants [2]uuid.UUID
	sess    [2]identity.Session
	cache   *identity.SessionCache
}

func (f *sessionFixture) Tenant(s isolation.Side) uuid.UUID { return f.tenants[s] }

// A session opened in tenant A honours no token that names it from tenant B.
var _ = isolation.Register(isolation.Case[*sessionFixture]{
	Name:   "session check",
	Stores: []string{"SessionCache"},
	Arrange: func(t *testing.T, d *dbtest.Database, w isolation.Wall) *sessionFixture {
		ids := identity.New(d.DB.Directory, cheap, refreshTTL)
		orgs := tenancy.New(d.DB.Directory, d.DB.Tenants, ids, slog.New(slog.DiscardHandler))
		f := &sessionFixture{cache: identity.NewSessionCache(w.DB.Directory, 0, 0, time.Now)}
		// Arrange runs for every operation and wall in one database, so the slugs are fresh each time.
		suffix := uuid.NewString()[:8]
		for i, org := range []string{"acme", "globex"} {
			slug := org + "-" + suffix
			tn, sess, err := orgs.SignUp(context.Background(), tenancy.SignUpInput{Name: slug, Slug: slug,
				Owner: tenancy.Owner{Email: "owner@" + slug + ".test", Password: "a long enough password", Name: "Owner"}}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			f.tenants[i], f.sess[i] = tn.ID, sess
		}
		return f
	},
	Ops: []isolation.Op[*sessionFixture]{
		// Run counts A's session honoured for the side's principal.
		{Name: "check A's session", Want: isolation.Nothing, Run: func(ctx context.Context, f *sessionFixture, as isolation.Side) (int, error) {
			a := f.sess[isolation.A]
			err := f.cache.Check(ctx, f.sess[as].Principal, token.Session{ID: a.ID, MembershipVersion: a.MembershipVersion})
			if errors.Is(err, identity.ErrSessionEnded) {
				return 0, nil
			}
			return isolation.One(err)
		}},
	},
})
