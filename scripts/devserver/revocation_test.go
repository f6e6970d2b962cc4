package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// revocationWorld is acme (owner ada) with bob, an admin of acme who logged in through the auth function.
type revocationWorld struct {
	h                    http.Handler
	f                    *servicetest.Fixture
	ada, bob             string // access tokens
	adaReload, bobReload string // refresh tokens
	bobID                string
}

func newRevocationWorld(t *testing.T) *revocationWorld {
	t.Helper()
	h, f := newPlatform(t)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	bob := f.SignUp(t, "bobco", "bob@bobco.test")
	if _, err := f.DB.Owner.Exec(context.Background(), `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, 'admin')`,
		owner.TenantID, bob.IdentityID); err != nil {
		t.Fatal(err)
	}
	w := &revocationWorld{h: h, f: f, bobID: bob.IdentityID.String()}
	res := w.login(t, "ada@acme.test")
	w.ada, w.adaReload = res.Str("access_token"), res.Str("refresh_token")
	res = w.login(t, "bob@bobco.test")
	w.bob, w.bobReload = res.Str("access_token"), res.Str("refresh_token")
	return w
}

func (w *revocationWorld) login(t *testing.T, email string) servicetest.Response {
	t.Helper()
	return servicetest.Expect(t, servicetest.Do(t, w.h, req{Method: "POST", Path: "/v1/auth/login",
		Body: map[string]any{"email": email, "password": servicetest.Password, "tenant": "acme"}}), http.StatusOK)
}

func (w *revocationWorld) do(t *testing.T, bearer string, r req) servicetest.Response {
	t.Helper()
	r.Bearer = bearer
	return servicetest.Do(t, w.h, r)
}

var (
	listProjects  = req{Method: "GET", Path: "/v1/projects"}
	createProject = req{Method: "POST", Path: "/v1/projects", Body: map[string]any{"name": "Bob's"}}
	invite        = req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "new@acme.test", "role": "member"}}
)

// A member removed through the users function is refused by the projects function, with the access token
// that worked a moment before.
func TestRemovedMemberIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	w := newRevocationWorld(t)
	servicetest.Expect(t, w.do(t, w.bob, listProjects), http.StatusOK)
	servicetest.Expect(t, w.do(t, w.bob, createProject), http.StatusCreated)

	servicetest.Expect(t, w.do(t, w.ada, req{Method: "DELETE", Path: "/v1/users/" + w.bobID}), http.StatusNoContent)
	for _, r := range []req{listProjects, createProject, {Method: "GET", Path: "/v1/users/me"}, {Method: "GET", Path: "/v1/search?q=x"}} {
		servicetest.ExpectProblem(t, w.do(t, w.bob, r), http.StatusUnauthorized, "invalid_token")
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, w.h, req{Method: "POST", Path: "/v1/auth/refresh",
		Body: map[string]any{"refresh_token": w.bobReload}}), http.StatusUnauthorized, "invalid_grant")
	// Ada is untouched.
	servicetest.Expect(t, w.do(t, w.ada, listProjects), http.StatusOK)
}

// A demoted admin's token is stale: refused before any admin action, and its refresh carries the new role,
// which the action then refuses.
func TestDemotedAdminIsRefusedAdminActions(t *testing.T) {
	t.Parallel()
	w := newRevocationWorld(t)
	servicetest.Expect(t, w.do(t, w.bob, invite), http.StatusCreated)

	servicetest.Expect(t, w.do(t, w.ada, req{Method: "PUT", Path: "/v1/users/" + w.bobID + "/role", Body: map[string]any{"role": "member"}}), http.StatusOK)
	again := invite
	again.Body = map[string]any{"email": "another@acme.test", "role": "member"}
	servicetest.ExpectProblem(t, w.do(t, w.bob, again), http.StatusUnauthorized, "token_stale")
	servicetest.ExpectProblem(t, w.do(t, w.bob, listProjects), http.StatusUnauthorized, "token_stale")

	res := servicetest.Expect(t, servicetest.Do(t, w.h, req{Method: "POST", Path: "/v1/auth/refresh",
		Body: map[string]any{"refresh_token": w.bobReload}}), http.StatusOK)
	if tn, _ := res.Body["tenant"].(map[string]any); tn["role"] != "member" {
		t.Fatalf("refreshed as %v, want member", res.Body["tenant"])
	}
	fresh := res.Str("access_token")
	servicetest.ExpectProblem(t, w.do(t, fresh, again), http.StatusForbidden, "forbidden")
	servicetest.Expect(t, w.do(t, fresh, listProjects), http.StatusOK)
}

// With a session-check TTL, an instance trusts what it read for that long and no longer: the bound is the TTL.
// Bob is removed and Ada logs out at t0; both tokens were read at t0.
func TestRevocationBound(t *testing.T) {
	t.Parallel()
	w := newRevocationWorld(t)
	t0 := time.Now()
	clock := t0
	w.f.Env.Now = func() time.Time { return clock }
	const ttl = 5 * time.Second
	w.f.Env.Sessions = identity.NewSessionCache(w.f.Env.DB.Directory, ttl, 0, func() time.Time { return w.f.Env.Now() })
	me := req{Method: "GET", Path: "/v1/users/me"}

	servicetest.Expect(t, w.do(t, w.bob, listProjects), http.StatusOK)
	servicetest.Expect(t, w.do(t, w.ada, me), http.StatusOK)
	servicetest.Expect(t, w.do(t, w.ada, req{Method: "DELETE", Path: "/v1/users/" + w.bobID}), http.StatusNoContent)
	servicetest.Expect(t, servicetest.Do(t, w.h, req{Method: "POST", Path: "/v1/auth/logout",
		Body: map[string]any{"refresh_token": w.adaReload}}), http.StatusNoContent)

	// Within the bound the remembered answers may stand.
	clock = t0.Add(ttl - time.Second)
	servicetest.Expect(t, w.do(t, w.bob, listProjects), http.StatusOK)
	servicetest.Expect(t, w.do(t, w.ada, me), http.StatusOK)
	// At the bound they do not.
	clock = t0.Add(ttl)
	servicetest.ExpectProblem(t, w.do(t, w.bob, listProjects), http.StatusUnauthorized, "invalid_token")
	servicetest.ExpectProblem(t, w.do(t, w.bob, me), http.StatusUnauthorized, "invalid_token")
	servicetest.ExpectProblem(t, w.do(t, w.ada, me), http.StatusUnauthorized, "invalid_token")
	// A new login is read afresh.
	servicetest.Expect(t, w.do(t, w.login(t, "ada@acme.test").Str("access_token"), me), http.StatusOK)
}

// A suspended organization is still refused with 403 (the tenant-status check), session check or not.
func TestSuspensionStillAnswers403(t *testing.T) {
	t.Parallel()
	w := newRevocationWorld(t)
	if _, err := w.f.DB.Owner.Exec(context.Background(), `UPDATE directory.tenants SET status = 'suspended' WHERE slug = 'acme'`); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{w.ada, w.bob} {
		servicetest.ExpectProblem(t, w.do(t, tok, listProjects), http.StatusForbidden, "tenant_suspended")
	}
}
