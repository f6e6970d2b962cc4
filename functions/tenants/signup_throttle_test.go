package tenants

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// signUpFrom is a sign-up request from ip behind the gateway's two proxies.
func signUpFrom(ip string, body any) req {
	return req{Method: "POST", Path: "/v1/tenants", Body: body, Header: map[string]string{"X-Forwarded-For": ip + ", 10.0.0.1"}}
}

// TestSignUpExistingEmailSaysNothing: an existing email with another password gets the words of a failed login,
// not "this email already has an account", and counts against the login throttle of that email and address,
// so emails cannot be probed here faster than passwords can be guessed at POST /v1/auth/login.
func TestSignUpExistingEmailSaysNothing(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2
	h := New(f.Env)
	f.SignUp(t, "taken", "first@example.test")
	for i := range 5 {
		res := servicetest.Do(t, h, signUpFrom("203.0.113.5", signUpBody(fmt.Sprintf("probe-%d", i), "first@example.test", "a guessed password")))
		servicetest.ExpectProblem(t, res, http.StatusUnauthorized, "invalid_credentials")
		if d := res.Str("detail"); d != "the email, password or organization is wrong" {
			t.Fatalf("detail %q, want the failed login's", d)
		}
	}
	res := servicetest.Do(t, h, signUpFrom("203.0.113.5", signUpBody("probe-5", "first@example.test", "a guessed password")))
	servicetest.ExpectProblem(t, res, http.StatusTooManyRequests, "too_many_attempts")
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	// The owner, from her own address and with her password, signs another organization up.
	servicetest.Expect(t, servicetest.Do(t, h, signUpFrom("198.51.100.7", signUpBody("second", "first@example.test", servicetest.Password))), http.StatusCreated)
	// A new email still gets its organization and tokens.
	created := servicetest.Expect(t, servicetest.Do(t, h, signUpFrom("198.51.100.8", signUpBody("third", "new@example.test", servicetest.Password))), http.StatusCreated)
	if created.Str("access_token") == "" || created.Str("refresh_token") == "" {
		t.Fatalf("sign-up = %s", created.Raw)
	}
}

// TestSignUpPerAddress: organizations from one address are limited.
func TestSignUpPerAddress(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	f.Env.Config.Client.TrustedProxies = 2
	f.Env.Config.Throttle.SignUpMax = 3
	h := New(f.Env)
	for i := range 3 {
		servicetest.Expect(t, servicetest.Do(t, h, signUpFrom("203.0.113.5", signUpBody(fmt.Sprintf("org-%d", i), fmt.Sprintf("o%d@example.test", i), servicetest.Password))), http.StatusCreated)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, signUpFrom("203.0.113.5", signUpBody("org-3", "o3@example.test", servicetest.Password))),
		http.StatusTooManyRequests, "too_many_attempts")
	servicetest.Expect(t, servicetest.Do(t, h, signUpFrom("198.51.100.7", signUpBody("org-3", "o3@example.test", servicetest.Password))), http.StatusCreated)
}
