package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/token"
)

// from sends r as coming from client address ip, as API Gateway forwards it.
func from(ip string, r req) req {
	r.Header = map[string]string{"X-Forwarded-For": ip + ", 10.0.0.1"}
	return r
}

func refreshReq(tok string) req {
	return req{Method: "POST", Path: "/v1/auth/refresh", Body: map[string]any{"refresh_token": tok}}
}

func logoutReq(tok string) req {
	return req{Method: "POST", Path: "/v1/auth/logout", Body: map[string]any{"refresh_token": tok}}
}

func resetReq(email string) req {
	return req{Method: "POST", Path: "/v1/auth/password-reset", Body: map[string]any{"email": email}}
}

func confirmReq(tok, password string) req {
	return req{Method: "POST", Path: "/v1/auth/password-reset/confirm", Body: map[string]any{"token": tok, "password": password}}
}

// principalOf checks that res is a token answer in the login shape and returns its access token's principal.
func principalOf(t *testing.T, f *servicetest.Fixture, res servicetest.Response) token.Principal {
	t.Helper()
	p, err := token.NewVerifier(f.Env.Keys, servicetest.Issuer, servicetest.Audience).Verify(res.Str("access_token"), f.Env.Now())
	if err != nil {
		t.Fatalf("access token of %s: %v", res.Raw, err)
	}
	tenant, _ := res.Body["tenant"].(map[string]any)
	if tenant["id"] != p.TenantID.String() || tenant["role"] != p.Role || tenant["slug"] == "" ||
		res.Str("refresh_token") == "" || res.Str("token_type") != "Bearer" || res.Body["expires_in"] != float64(900) ||
		res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token answer %s (Cache-Control %q) does not have the login's shape for %+v", res.Raw, res.Header.Get("Cache-Control"), p)
	}
	return p
}

// fields returns the failing field names of a validation problem.
func fields(res servicetest.Response) []string {
	errs, _ := res.Body["errors"].([]any)
	var out []string
	for _, e := range errs {
		m, _ := e.(map[string]any)
		s, _ := m["field"].(string)
		out = append(out, s)
	}
	return out
}

// loginOK logs email in to tenant and returns the answer.
func loginOK(t *testing.T, h http.Handler, email, password, tenant string) servicetest.Response {
	t.Helper()
	return servicetest.Expect(t, servicetest.Do(t, h, login(email, password, tenant)), http.StatusOK)
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	first := loginOK(t, h, "ada@acme.test", servicetest.Password, "")

	second := servicetest.Expect(t, servicetest.Do(t, h, refreshReq(first.Str("refresh_token"))), http.StatusOK)
	if p := principalOf(t, f, second); p != ada {
		t.Fatalf("refreshed principal %+v, want %+v", p, ada)
	}
	if tenant := second.Body["tenant"].(map[string]any); tenant["slug"] != "acme" {
		t.Fatalf("tenant = %v", tenant)
	}
	if second.Str("refresh_token") == first.Str("refresh_token") {
		t.Fatal("refresh returned the same refresh token")
	}
	third := servicetest.Expect(t, servicetest.Do(t, h, refreshReq(second.Str("refresh_token"))), http.StatusOK)

	// The first token is spent: presenting it again after the reuse interval is refused and revokes the
	// family, so even the newest token of the family stops working.
	later := time.Now().Add(f.Env.Config.Token.RefreshReuseInterval + time.Second)
	f.Env.Now = func() time.Time { return later }
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(first.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(third.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(second.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")

	// Another login is another family, untouched.
	other := loginOK(t, h, "ada@acme.test", servicetest.Password, "")
	servicetest.Expect(t, servicetest.Do(t, h, refreshReq(other.Str("refresh_token"))), http.StatusOK)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq("unknown-token-of-the-right-length-0123456789")), http.StatusUnauthorized, "invalid_grant")
}

func TestRefreshExpires(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	start := time.Now()
	f.Env.Now = func() time.Time { return start }
	tok := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("refresh_token")
	// A second session of the same login time: a token refreshed just before the TTL is spent, so the check
	// after the TTL needs one of its own.
	early := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("refresh_token")
	f.Env.Now = func() time.Time { return start.Add(f.Env.Config.Token.RefreshTTL - time.Second) }
	servicetest.Expect(t, servicetest.Do(t, h, refreshReq(early)), http.StatusOK)
	f.Env.Now = func() time.Time { return start.Add(f.Env.Config.Token.RefreshTTL + time.Second) }
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(tok)), http.StatusUnauthorized, "invalid_grant")
}

func TestLogout(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	kept := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("refresh_token")
	first := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("refresh_token")
	rotated := servicetest.Expect(t, servicetest.Do(t, h, refreshReq(first)), http.StatusOK).Str("refresh_token")

	res := servicetest.Expect(t, servicetest.Do(t, h, logoutReq(rotated)), http.StatusNoContent)
	if res.Raw != "" {
		t.Fatalf("logout body %q", res.Raw)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(rotated)), http.StatusUnauthorized, "invalid_grant")
	// Logging out again, or with a token nobody has, is answered alike and reveals nothing.
	servicetest.Expect(t, servicetest.Do(t, h, logoutReq(rotated)), http.StatusNoContent)
	servicetest.Expect(t, servicetest.Do(t, h, logoutReq("unknown-token-of-the-right-length-0123456789")), http.StatusNoContent)
	servicetest.Expect(t, servicetest.Do(t, h, logoutReq("nonsense")), http.StatusNoContent)
	// The other session goes on.
	servicetest.Expect(t, servicetest.Do(t, h, refreshReq(kept)), http.StatusOK)
}

// A refresh reads the membership again: the new access token carries the current role, and a removed member
// or a suspended organization gets 401.
func TestRefreshFollowsMembership(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	ctx := context.Background()
	owner := f.SignUp(t, "acme", "ada@acme.test")
	f.SignUp(t, "globex", "hank@globex.test")
	hankAtAcme := "bob@acme.test"
	// bob signs up his own organization, then is added to acme as a member.
	bob := f.SignUp(t, "bobco", hankAtAcme)
	if _, err := f.DB.Owner.Exec(ctx, `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, 'member')`,
		owner.TenantID, bob.IdentityID); err != nil {
		t.Fatal(err)
	}
	bobTok := loginOK(t, h, hankAtAcme, servicetest.Password, "acme").Str("refresh_token")

	if _, err := f.DB.Owner.Exec(ctx, `UPDATE directory.memberships SET role = 'admin' WHERE tenant_id = $1 AND identity_id = $2`,
		owner.TenantID, bob.IdentityID); err != nil {
		t.Fatal(err)
	}
	res := servicetest.Expect(t, servicetest.Do(t, h, refreshReq(bobTok)), http.StatusOK)
	if p := principalOf(t, f, res); p.Role != "admin" || p.TenantID != owner.TenantID {
		t.Fatalf("after promotion: %+v, want admin of acme", p)
	}
	bobTok = res.Str("refresh_token")

	t.Run("removed member", func(t *testing.T) {
		if _, err := f.DB.Owner.Exec(ctx, `DELETE FROM directory.memberships WHERE tenant_id = $1 AND identity_id = $2`,
			owner.TenantID, bob.IdentityID); err != nil {
			t.Fatal(err)
		}
		servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(bobTok)), http.StatusUnauthorized, "invalid_grant")
		// Bob's own organization is another family and goes on.
		loginOK(t, h, hankAtAcme, servicetest.Password, "bobco")
	})

	t.Run("suspended organization", func(t *testing.T) {
		tok := loginOK(t, h, "hank@globex.test", servicetest.Password, "").Str("refresh_token")
		if _, err := f.DB.Owner.Exec(ctx, `UPDATE directory.tenants SET status = 'suspended' WHERE slug = 'globex'`); err != nil {
			t.Fatal(err)
		}
		servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(tok)), http.StatusUnauthorized, "invalid_grant")
	})
}

// resetToken returns the raw token of the newest password-reset event for email, as the notifier reads it.
func resetToken(t *testing.T, f *servicetest.Fixture, email string) string {
	t.Helper()
	var tok string
	err := f.DB.Owner.QueryRow(context.Background(), `SELECT data->>'token' FROM directory.outbox
		WHERE type = $1 AND data->>'email' = $2 ORDER BY id DESC LIMIT 1`, pubsub.TypePasswordResetRequested, email).Scan(&tok)
	if err != nil {
		t.Fatalf("no reset event for %s: %v", email, err)
	}
	return tok
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	sess := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("refresh_token")

	known := servicetest.Expect(t, servicetest.Do(t, h, resetReq("Ada@acme.test")), http.StatusAccepted)
	unknown := servicetest.Expect(t, servicetest.Do(t, h, resetReq("nobody@acme.test")), http.StatusAccepted)
	if known.Raw != unknown.Raw || known.Header.Get("Content-Type") != unknown.Header.Get("Content-Type") {
		t.Fatalf("reset answers differ: %q vs %q", known.Raw, unknown.Raw)
	}
	tok := resetToken(t, f, "ada@acme.test")

	// The policy is checked before the token is spent.
	res := servicetest.Do(t, h, confirmReq(tok, "password1234"))
	servicetest.ExpectProblem(t, res, http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fields(res), []string{"password"}) {
		t.Fatalf("fields = %v", fields(res))
	}
	const newPW = "a brand new long password"
	servicetest.Expect(t, servicetest.Do(t, h, confirmReq(tok, newPW)), http.StatusNoContent)
	// Single use.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, confirmReq(tok, "another new long password")), http.StatusUnauthorized, "invalid_reset_token")
	// Every session of ada ended.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(sess)), http.StatusUnauthorized, "invalid_grant")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, login("ada@acme.test", servicetest.Password, "")), http.StatusUnauthorized, "invalid_credentials")
	loginOK(t, h, "ada@acme.test", newPW, "")

	servicetest.ExpectProblem(t, servicetest.Do(t, h, confirmReq("unknown-token-of-the-right-length-0123456789", newPW)), http.StatusUnauthorized, "invalid_reset_token")
}

func TestPasswordResetExpires(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	start := time.Now()
	f.Env.Now = func() time.Time { return start }
	servicetest.Expect(t, servicetest.Do(t, h, resetReq("ada@acme.test")), http.StatusAccepted)
	tok := resetToken(t, f, "ada@acme.test")
	f.Env.Now = func() time.Time { return start.Add(time.Hour + time.Second) }
	servicetest.ExpectProblem(t, servicetest.Do(t, h, confirmReq(tok, "a brand new long password")), http.StatusUnauthorized, "invalid_reset_token")
	loginOK(t, h, "ada@acme.test", servicetest.Password, "")
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	first := loginOK(t, h, "ada@acme.test", servicetest.Password, "")
	access, refresh := first.Str("access_token"), first.Str("refresh_token")
	change := func(current, next string) req {
		return req{Method: "POST", Path: "/v1/auth/password", Bearer: access, Body: map[string]any{"current_password": current, "new_password": next}}
	}

	servicetest.ExpectProblem(t, servicetest.Do(t, h, change("not my password!", "a brand new long password")), http.StatusForbidden, "wrong_password")
	for _, tc := range []struct {
		name, current, next string
		want                []string
	}{
		{"common new password", servicetest.Password, "iloveyou1234", []string{"new_password"}},
		{"short new password", servicetest.Password, "short", []string{"new_password"}},
		{"same password", servicetest.Password, servicetest.Password, []string{"new_password"}},
		{"missing both", "", "", []string{"current_password", "new_password"}},
	} {
		res := servicetest.Do(t, h, change(tc.current, tc.next))
		servicetest.ExpectProblem(t, res, http.StatusUnprocessableEntity, "validation_failed")
		if !slices.Equal(fields(res), tc.want) {
			t.Fatalf("%s: fields %v, want %v", tc.name, fields(res), tc.want)
		}
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/password",
		Body: map[string]any{"current_password": servicetest.Password, "new_password": "a brand new long password"}}), http.StatusUnauthorized, "unauthenticated")

	servicetest.Expect(t, servicetest.Do(t, h, change(servicetest.Password, "a brand new long password")), http.StatusNoContent)
	// Every refresh-token family of the identity is revoked, the caller's included.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(refresh)), http.StatusUnauthorized, "invalid_grant")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, login("ada@acme.test", servicetest.Password, "")), http.StatusUnauthorized, "invalid_credentials")
	loginOK(t, h, "ada@acme.test", "a brand new long password", "")
}

func TestSwitchAndMemberships(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	acme := f.SignUp(t, "acme", "ada@acme.test")
	// Signing up a second organization with the same email and password joins the same identity.
	beta := f.SignUp(t, "beta", "ada@acme.test")
	globex := f.SignUp(t, "globex", "hank@globex.test")
	if beta.IdentityID != acme.IdentityID {
		t.Fatal("the second sign-up made another identity")
	}
	access := loginOK(t, h, "ada@acme.test", servicetest.Password, "acme").Str("access_token")
	switchTo := func(bearer string, body any) req {
		return req{Method: "POST", Path: "/v1/auth/switch", Bearer: bearer, Body: body}
	}

	res := servicetest.Expect(t, servicetest.Do(t, h, switchTo(access, map[string]any{"tenant": "beta"})), http.StatusOK)
	if p := principalOf(t, f, res); p != beta {
		t.Fatalf("switched principal %+v, want %+v", p, beta)
	}
	// The switch opened its own session: its refresh token rotates in beta.
	again := servicetest.Expect(t, servicetest.Do(t, h, refreshReq(res.Str("refresh_token"))), http.StatusOK)
	if p := principalOf(t, f, again); p != beta {
		t.Fatalf("refreshed switched session %+v, want %+v", p, beta)
	}
	// With beta's access token, back to acme.
	back := servicetest.Expect(t, servicetest.Do(t, h, switchTo(res.Str("access_token"), map[string]any{"tenant": "acme"})), http.StatusOK)
	if p := principalOf(t, f, back); p != acme {
		t.Fatalf("switched back %+v, want %+v", p, acme)
	}

	// Organizations ada is not in answer exactly like ones that do not exist.
	notIn := servicetest.Do(t, h, switchTo(access, map[string]any{"tenant": "globex"}))
	servicetest.ExpectProblem(t, notIn, http.StatusNotFound, "not_found")
	nowhere := servicetest.Do(t, h, switchTo(access, map[string]any{"tenant": "nowhere"}))
	servicetest.ExpectProblem(t, nowhere, http.StatusNotFound, "not_found")
	if notIn.Raw != nowhere.Raw {
		t.Fatalf("answers differ: %q vs %q", notIn.Raw, nowhere.Raw)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, switchTo(access, map[string]any{})), http.StatusUnprocessableEntity, "validation_failed")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, switchTo("", map[string]any{"tenant": "beta"})), http.StatusUnauthorized, "unauthenticated")

	list := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/auth/memberships", Bearer: access}), http.StatusOK)
	items := list.Items()
	if len(items) != 2 {
		t.Fatalf("memberships = %s", list.Raw)
	}
	for i, want := range []struct {
		id, slug string
	}{{acme.TenantID.String(), "acme"}, {beta.TenantID.String(), "beta"}} {
		it := items[i]
		if it["tenant_id"] != want.id || it["slug"] != want.slug || it["name"] != "Org "+want.slug || it["role"] != "owner" || it["status"] != "active" {
			t.Fatalf("membership %d = %v", i, it)
		}
	}
	// Hank sees his organization only.
	hank := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/auth/memberships", Bearer: f.Token(t, globex)}), http.StatusOK)
	if items := hank.Items(); len(items) != 1 || items[0]["slug"] != "globex" {
		t.Fatalf("hank's memberships = %s", hank.Raw)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/auth/memberships"}), http.StatusUnauthorized, "unauthenticated")
}

// expectThrottled checks a 429 problem with a Retry-After of at most window, and returns its body.
func expectThrottled(t *testing.T, res servicetest.Response, window time.Duration) string {
	t.Helper()
	servicetest.ExpectProblem(t, res, http.StatusTooManyRequests, "too_many_attempts")
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > window {
		t.Fatalf("Retry-After %q, want 1 to %d seconds", res.Header.Get("Retry-After"), int(window.Seconds()))
	}
	return res.Raw
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2 // from() writes the caller and one proxy, the gateway's setup
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	const window = 15 * time.Minute

	// Five free failures per email and address; then that address waits, even with the right password, and a
	// known and an unknown email get the same answer. Another address is not held back.
	var bodies []string
	for _, email := range []string{"ada@acme.test", "nobody@acme.test"} {
		for range 5 {
			servicetest.ExpectProblem(t, servicetest.Do(t, h, from("198.51.100.1", login(email, "wrong password!!", ""))),
				http.StatusUnauthorized, "invalid_credentials")
		}
		res := servicetest.Do(t, h, from("198.51.100.1", login(email, servicetest.Password, "")))
		bodies = append(bodies, expectThrottled(t, res, window))
		if res.Header.Get("Retry-After") != "1" {
			t.Fatalf("first delay Retry-After %q, want 1", res.Header.Get("Retry-After"))
		}
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("429 bodies differ for a known and an unknown email: %q vs %q", bodies[0], bodies[1])
	}
	servicetest.Expect(t, servicetest.Do(t, h, from("198.51.100.2", login("ada@acme.test", servicetest.Password, ""))), http.StatusOK)

	// Fifty failures from one address, each for another email, then that address is refused for anyone.
	for i := range 50 {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, from("203.0.113.5", login(fmt.Sprintf("guess%d@acme.test", i), "wrong password!!", ""))),
			http.StatusUnauthorized, "invalid_credentials")
	}
	expectThrottled(t, servicetest.Do(t, h, from("203.0.113.5", login("someone@acme.test", "wrong password!!", ""))), window)
	// Another address is not affected.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, from("203.0.113.6", login("someone@acme.test", "wrong password!!", ""))),
		http.StatusUnauthorized, "invalid_credentials")

	// When the window has passed, the spraying address may try again.
	later := time.Now().Add(window + time.Minute)
	f.Env.Now = func() time.Time { return later }
	servicetest.Expect(t, servicetest.Do(t, h, from("203.0.113.5", login("ada@acme.test", servicetest.Password, ""))), http.StatusOK)
}

func TestPasswordResetThrottle(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	var bodies []string
	for _, email := range []string{"ada@acme.test", "nobody@acme.test"} {
		for i := range 5 {
			servicetest.Expect(t, servicetest.Do(t, h, from(fmt.Sprintf("198.51.100.%d", i+1), resetReq(email))), http.StatusAccepted)
		}
		bodies = append(bodies, expectThrottled(t, servicetest.Do(t, h, from("198.51.100.99", resetReq(email))), time.Hour))
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("429 bodies differ for a known and an unknown email: %q vs %q", bodies[0], bodies[1])
	}
}

func TestSessionEndpointsRefuseBadInput(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	owner := f.SignUp(t, "acme", "ada@acme.test")
	bearer := f.Token(t, owner)
	tests := []struct {
		name   string
		r      req
		status int
		code   string
		fields []string
	}{
		{"refresh: malformed", req{Method: "POST", Path: "/v1/auth/refresh", Body: `{"refresh_token"`}, 400, "malformed_json", nil},
		{"refresh: empty body", req{Method: "POST", Path: "/v1/auth/refresh", Body: ``}, 400, "empty_body", nil},
		{"refresh: missing token", req{Method: "POST", Path: "/v1/auth/refresh", Body: `{}`}, 422, "validation_failed", []string{"refresh_token"}},
		{"refresh: unknown field", req{Method: "POST", Path: "/v1/auth/refresh", Body: `{"refresh_token":"x","scope":"all"}`}, 422, "validation_failed", []string{"scope"}},
		{"refresh: wrong type", req{Method: "POST", Path: "/v1/auth/refresh", Body: `{"refresh_token":42}`}, 422, "validation_failed", []string{"refresh_token"}},
		{"refresh: NUL token", req{Method: "POST", Path: "/v1/auth/refresh", Body: `{"refresh_token":"\u0000"}`}, 401, "invalid_grant", nil},
		{"logout: missing token", req{Method: "POST", Path: "/v1/auth/logout", Body: `{"refresh_token":"  "}`}, 422, "validation_failed", []string{"refresh_token"}},
		{"logout: not an object", req{Method: "POST", Path: "/v1/auth/logout", Body: `["x"]`}, 400, "malformed_json", nil},
		{"reset: missing email", req{Method: "POST", Path: "/v1/auth/password-reset", Body: `{}`}, 422, "validation_failed", []string{"email"}},
		{"reset: bad email", req{Method: "POST", Path: "/v1/auth/password-reset", Body: `{"email":"Ada <ada@acme.test>"}`}, 422, "validation_failed", []string{"email"}},
		{"reset: NUL email", req{Method: "POST", Path: "/v1/auth/password-reset", Body: `{"email":"ada\u0000@acme.test"}`}, 422, "validation_failed", []string{"email"}},
		{"reset: unknown field", req{Method: "POST", Path: "/v1/auth/password-reset", Body: `{"email":"ada@acme.test","tenant":"acme"}`}, 422, "validation_failed", []string{"tenant"}},
		{"confirm: missing both", req{Method: "POST", Path: "/v1/auth/password-reset/confirm", Body: `{}`}, 422, "validation_failed", []string{"token", "password"}},
		{"confirm: common password", req{Method: "POST", Path: "/v1/auth/password-reset/confirm", Body: `{"token":"x","password":"qwertyuiop12"}`}, 422, "validation_failed", []string{"password"}},
		{"confirm: malformed", req{Method: "POST", Path: "/v1/auth/password-reset/confirm", Body: `{"token":`}, 400, "malformed_json", nil},
		{"password: unknown field", req{Method: "POST", Path: "/v1/auth/password", Bearer: bearer, Body: `{"password":"x"}`}, 422, "validation_failed", []string{"password"}},
		{"password: malformed", req{Method: "POST", Path: "/v1/auth/password", Bearer: bearer, Body: `nope`}, 400, "malformed_json", nil},
		{"switch: blank tenant", req{Method: "POST", Path: "/v1/auth/switch", Bearer: bearer, Body: `{"tenant":" "}`}, 422, "validation_failed", []string{"tenant"}},
		{"switch: NUL tenant", req{Method: "POST", Path: "/v1/auth/switch", Bearer: bearer, Body: `{"tenant":"ac\u0000me"}`}, 404, "not_found", nil},
		{"switch: long tenant", req{Method: "POST", Path: "/v1/auth/switch", Bearer: bearer, Body: map[string]any{"tenant": string(make([]byte, 5000))}}, 404, "not_found", nil},
		{"switch: wrong type", req{Method: "POST", Path: "/v1/auth/switch", Bearer: bearer, Body: `{"tenant":{"slug":"acme"}}`}, 422, "validation_failed", []string{"tenant"}},
		{"switch: bad token", req{Method: "POST", Path: "/v1/auth/switch", Bearer: "not.a.token", Body: `{"tenant":"acme"}`}, 401, "invalid_token", nil},
		{"login: NUL email", req{Method: "POST", Path: "/v1/auth/login", Body: `{"email":"ada\u0000@acme.test","password":"whatever it is"}`}, 401, "invalid_credentials", nil},
		{"memberships: wrong method", req{Method: "POST", Path: "/v1/auth/memberships", Bearer: bearer}, 405, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := servicetest.Do(t, h, tc.r)
			if tc.code == "" {
				servicetest.Expect(t, res, tc.status)
				return
			}
			servicetest.ExpectProblem(t, res, tc.status, tc.code)
			if tc.fields != nil && !slices.Equal(fields(res), tc.fields) {
				t.Fatalf("fields %v, want %v", fields(res), tc.fields)
			}
		})
	}
}

// TestJWKSDropsRetiredKeys: a retired key is published through its grace period and not after.
func TestJWKSDropsRetiredKeys(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	signing, err := token.EncodePrivatePEM(f.Signer)
	if err != nil {
		t.Fatal(err)
	}
	old, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	retiredAt := time.Now().Truncate(time.Second)
	retired, err := token.EncodeRetiredPEM(&old.PublicKey, retiredAt)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.ParseKeySet(signing, retired)
	if err != nil {
		t.Fatal(err)
	}
	f.Env.Keys = keys.WithRotationGrace(10 * time.Minute)
	h := New(f.Env)
	for _, tc := range []struct {
		at   time.Time
		want int
	}{{retiredAt.Add(time.Minute), 2}, {retiredAt.Add(11 * time.Minute), 1}} {
		f.Env.Now = func() time.Time { return tc.at }
		res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/.well-known/jwks.json"}), http.StatusOK)
		if ks, _ := res.Body["keys"].([]any); len(ks) != tc.want {
			t.Fatalf("at %s: %d keys, want %d: %s", tc.at, len(ks), tc.want, res.Raw)
		}
	}
}
