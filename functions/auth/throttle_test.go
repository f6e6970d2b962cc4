package auth

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// spray sends 120 failed logins, each for another account and with a fresh X-Forwarded-For the caller made up
// (written by header), and returns how many got 401 and how many 429.
func spray(t *testing.T, h http.Handler, header func(i int) string) (unauthorized, throttled int) {
	t.Helper()
	for i := range 120 {
		r := login(fmt.Sprintf("user%d@acme.test", i), "Spring2031!!", "")
		r.Header = map[string]string{"X-Forwarded-For": header(i)}
		res := servicetest.Do(t, h, r)
		switch res.Status {
		case http.StatusUnauthorized:
			unauthorized++
		case http.StatusTooManyRequests:
			servicetest.ExpectProblem(t, res, http.StatusTooManyRequests, "too_many_attempts")
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
			}
			throttled++
		default:
			t.Fatalf("attempt %d: %d %s", i+1, res.Status, res.Raw)
		}
	}
	return unauthorized, throttled
}

// TestSpoofedForwardedForSpray: a made-up X-Forwarded-For no longer gives each attempt an address of its own,
// so a password spray from one source hits the per-address limit (50 in 15 minutes by default).
func TestSpoofedForwardedForSpray(t *testing.T) {
	t.Parallel()
	t.Run("no proxies: the header is ignored", func(t *testing.T) {
		t.Parallel()
		f := servicetest.New(t)
		h := New(f.Env)
		u, th := spray(t, h, func(i int) string { return fmt.Sprintf("10.%d.%d.1", i/250, i%250) })
		if u != 50 || th != 70 {
			t.Fatalf("%d x 401 and %d x 429, want 50 and 70", u, th)
		}
	})
	t.Run("behind two proxies: entries the caller sent are skipped", func(t *testing.T) {
		t.Parallel()
		f := servicetest.New(t)
		f.Env.Config.Client.TrustedProxies = 2
		h := New(f.Env)
		// The caller's made-up entries come first; the gateway appends the caller's real address, the next hop
		// the gateway's.
		u, th := spray(t, h, func(i int) string { return fmt.Sprintf("10.%d.%d.1, 203.0.113.5, 10.0.0.1", i/250, i%250) })
		if u != 50 || th != 70 {
			t.Fatalf("%d x 401 and %d x 429, want 50 and 70", u, th)
		}
		// Someone else behind the same proxies is not affected.
		r := login("user0@acme.test", "Spring2031!!", "")
		r.Header = map[string]string{"X-Forwarded-For": "203.0.113.6, 10.0.0.1"}
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), http.StatusUnauthorized, "invalid_credentials")
	})
}

// TestLoginBackoffOverHTTP: the attacker's address waits longer after each failure, while the account's
// owner logs in from her own address.
func TestLoginBackoffOverHTTP(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Env.Now = func() time.Time { return now }
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	const attacker, owner = "203.0.113.5", "198.51.100.7"
	for range 5 {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, from(attacker, login("ada@acme.test", "a guess at it!!", ""))), 401, "invalid_credentials")
	}
	for _, want := range []string{"1", "2", "4", "8", "16"} {
		res := servicetest.Do(t, h, from(attacker, login("ada@acme.test", servicetest.Password, "")))
		servicetest.ExpectProblem(t, res, http.StatusTooManyRequests, "too_many_attempts")
		if got := res.Header.Get("Retry-After"); got != want {
			t.Fatalf("Retry-After %s, want %s", got, want)
		}
		// The owner is never held back meanwhile.
		servicetest.Expect(t, servicetest.Do(t, h, from(owner, login("ada@acme.test", servicetest.Password, ""))), http.StatusOK)
		secs, _ := strconv.Atoi(want)
		now = now.Add(time.Duration(secs) * time.Second)
		servicetest.ExpectProblem(t, servicetest.Do(t, h, from(attacker, login("ada@acme.test", "a guess at it!!", ""))), 401, "invalid_credentials")
	}
}

// TestConfirmResetThrottleOverHTTP: wrong reset tokens from one address end in 429; another address still gets
// the plain refusal.
func TestConfirmResetThrottleOverHTTP(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2
	f.Env.Config.Throttle.ResetTokenMax = 5
	h := New(f.Env)
	for i := range 5 {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, from("203.0.113.5", confirmReq(fmt.Sprintf("%043d", i), "a brand new password"))),
			http.StatusUnauthorized, "invalid_reset_token")
	}
	expectThrottled(t, servicetest.Do(t, h, from("203.0.113.5", confirmReq(fmt.Sprintf("%043d", 99), "a brand new password"))), time.Hour)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, from("198.51.100.7", confirmReq(fmt.Sprintf("%043d", 99), "a brand new password"))),
		http.StatusUnauthorized, "invalid_reset_token")
}

// TestRegisterExistingEmail: registering an organization with an existing email and another password answers
// exactly as a failed login does, and counts as one.
func TestRegisterExistingEmail(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	loginFailure := servicetest.Do(t, h, from("198.51.100.1", login("ada@acme.test", "not ada's password", "")))
	servicetest.ExpectProblem(t, loginFailure, http.StatusUnauthorized, "invalid_credentials")
	probe := func(i int) servicetest.Response {
		body := map[string]any{"organization": map[string]any{"name": "Probe", "slug": fmt.Sprintf("probe-%d", i)},
			"email": "ada@acme.test", "password": "not ada's password", "name": "Mallory"}
		r := registerReq(body)
		r.Header = map[string]string{"X-Forwarded-For": "203.0.113.5, 10.0.0.1"}
		return servicetest.Do(t, h, r)
	}
	for i := range 5 {
		res := probe(i)
		servicetest.ExpectProblem(t, res, http.StatusUnauthorized, "invalid_credentials")
		if res.Raw != loginFailure.Raw {
			t.Fatalf("register with an existing email answered %q, a failed login %q", res.Raw, loginFailure.Raw)
		}
	}
	expectThrottled(t, probe(5), time.Minute)
	var n int
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT count(*) FROM directory.tenants WHERE slug LIKE 'probe-%'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("probes created %d organizations (%v)", n, err)
	}
}
