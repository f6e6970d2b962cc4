package auth

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/pquerna/otp/totp"
)

// withMFA returns the function's handler with a fresh key for TOTP secrets, and pins the clock to a moment
// that tests move in 30-second steps.
func withMFA(t *testing.T, f *servicetest.Fixture) http.Handler {
	t.Helper()
	key := make([]byte, identity.MFAKeyBytes)
	_, _ = rand.Read(key)
	box, err := identity.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(30 * time.Second).Add(10 * time.Second)
	f.Env.Now = func() time.Time { return start }
	return build(f.Env, box)
}

// tick moves the fixture's clock by n TOTP steps.
func tick(f *servicetest.Fixture, n int) {
	at := f.Env.Now().Add(time.Duration(n) * 30 * time.Second)
	f.Env.Now = func() time.Time { return at }
}

func code(t *testing.T, f *servicetest.Fixture, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, f.Env.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mfaReq(method, path, access string, body any) req {
	return req{Method: method, Path: path, Bearer: access, Body: body}
}

// enrol starts and confirms an authenticator for the holder of access and returns its secret and recovery
// codes. The confirming code's step is spent.
func enrol(t *testing.T, f *servicetest.Fixture, h http.Handler, access string) (string, []string) {
	t.Helper()
	res := servicetest.Expect(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp", access, nil)), http.StatusCreated)
	secret := res.Str("secret")
	if secret == "" || len(res.Str("otpauth_uri")) < 20 || res.Str("otpauth_uri")[:15] != "otpauth://totp/" {
		t.Fatalf("enrolment = %s", res.Raw)
	}
	res = servicetest.Expect(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp/confirm", access, map[string]any{"code": code(t, f, secret)})), http.StatusOK)
	raw, _ := res.Body["recovery_codes"].([]any)
	var codes []string
	for _, c := range raw {
		codes = append(codes, c.(string))
	}
	if len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("confirm = %s", res.Raw)
	}
	return secret, codes
}

// mfaToken logs in with the password and returns the mfa_token of the 401 mfa_required answer.
func mfaToken(t *testing.T, h http.Handler, email, tenant string) string {
	t.Helper()
	res := servicetest.Do(t, h, login(email, servicetest.Password, tenant))
	servicetest.ExpectProblem(t, res, http.StatusUnauthorized, "mfa_required")
	if res.Str("mfa_token") == "" || res.Str("access_token") != "" || res.Body["expires_in"] != float64(300) {
		t.Fatalf("mfa_required = %s", res.Raw)
	}
	return res.Str("mfa_token")
}

func loginMFA(mfaTok, c string) req {
	return req{Method: "POST", Path: "/v1/auth/login/mfa", Body: map[string]any{"mfa_token": mfaTok, "code": c}}
}

func TestTOTPLogin(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := withMFA(t, f)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	access := f.Token(t, ada)

	// A wrong code does not confirm; before confirming, login needs no code.
	servicetest.Expect(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp", access, nil)), http.StatusCreated)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp/confirm", access, map[string]any{"code": "000000"})), http.StatusForbidden, "invalid_mfa_code")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp/confirm", access, map[string]any{})), 422, "validation_failed")
	loginOK(t, h, "ada@acme.test", servicetest.Password, "")

	secret, recovery := enrol(t, f, h, access)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp", access, nil)), http.StatusConflict, "mfa_already_enrolled")

	// The password alone no longer logs in; a wrong password is still the plain 401.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, login("ada@acme.test", "wrong password!!", "")), http.StatusUnauthorized, "invalid_credentials")
	tok := mfaToken(t, h, "ada@acme.test", "")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(tok, "123456")), http.StatusUnauthorized, "invalid_mfa_code")
	// The code that confirmed the enrolment is spent for its window.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(tok, code(t, f, secret))), http.StatusUnauthorized, "invalid_mfa_code")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA("nope", code(t, f, secret))), http.StatusUnauthorized, "invalid_mfa_token")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA("", "")), 422, "validation_failed")

	tick(f, 1)
	c := code(t, f, secret)
	res := servicetest.Expect(t, servicetest.Do(t, h, loginMFA(tok, c)), http.StatusOK)
	// The session records that it passed the second factor.
	want := ada
	want.AMR = "pwd mfa"
	if p := principalOf(t, f, res); p != want {
		t.Fatalf("principal %+v, want %+v", p, want)
	}
	// The token works once, and the code cannot be replayed with a new one.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(tok, c)), http.StatusUnauthorized, "invalid_mfa_token")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(mfaToken(t, h, "ada@acme.test", ""), c)), http.StatusUnauthorized, "invalid_mfa_code")

	// A recovery code works once, typed in any case.
	tok = mfaToken(t, h, "ada@acme.test", "acme")
	servicetest.Expect(t, servicetest.Do(t, h, loginMFA(tok, " "+recovery[0][:5]+"-"+upper(recovery[0][6:]))), http.StatusOK)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(mfaToken(t, h, "ada@acme.test", ""), recovery[0])), http.StatusUnauthorized, "invalid_mfa_code")
	st := servicetest.Expect(t, servicetest.Do(t, h, mfaReq("GET", "/v1/auth/mfa/totp", access, nil)), http.StatusOK)
	if st.Body["enabled"] != true || st.Body["recovery_codes_remaining"] != float64(9) {
		t.Fatalf("status = %s", st.Raw)
	}

	// The challenge expires.
	tok = mfaToken(t, h, "ada@acme.test", "")
	tick(f, 11)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(tok, code(t, f, secret))), http.StatusUnauthorized, "invalid_mfa_token")
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Codes are throttled like passwords: past the login limit even a right code is refused with 429.
func TestTOTPThrottled(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := withMFA(t, f)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	secret, _ := enrol(t, f, h, f.Token(t, ada))
	tick(f, 1)
	tok := mfaToken(t, h, "ada@acme.test", "")
	for range identity.DefaultLimits.LoginBackoff.Free {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(tok, "000000")), http.StatusUnauthorized, "invalid_mfa_code")
	}
	res := servicetest.Do(t, h, loginMFA(tok, code(t, f, secret)))
	servicetest.ExpectProblem(t, res, http.StatusTooManyRequests, "too_many_attempts")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// A fresh challenge does not escape the limit: it is the identity's.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(mfaToken(t, h, "ada@acme.test", ""), code(t, f, secret))), http.StatusTooManyRequests, "too_many_attempts")
}

func TestTOTPRemove(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := withMFA(t, f)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	access := f.Token(t, ada)
	del := func(body any) servicetest.Response {
		return servicetest.Do(t, h, mfaReq("DELETE", "/v1/auth/mfa/totp", access, body))
	}
	servicetest.ExpectProblem(t, del(map[string]any{"password": servicetest.Password}), http.StatusNotFound, "mfa_not_enrolled")
	secret, _ := enrol(t, f, h, access)
	servicetest.ExpectProblem(t, del(map[string]any{}), 422, "validation_failed")
	servicetest.ExpectProblem(t, del(map[string]any{"code": "111111", "password": "x"}), 422, "validation_failed")
	servicetest.ExpectProblem(t, del(map[string]any{"password": "not the password"}), http.StatusForbidden, "wrong_password")
	servicetest.ExpectProblem(t, del(map[string]any{"code": "000000"}), http.StatusForbidden, "invalid_mfa_code")
	// The confirming code is spent.
	servicetest.ExpectProblem(t, del(map[string]any{"code": code(t, f, secret)}), http.StatusForbidden, "invalid_mfa_code")
	tick(f, 1)
	servicetest.Expect(t, del(map[string]any{"code": code(t, f, secret)}), http.StatusNoContent)
	loginOK(t, h, "ada@acme.test", servicetest.Password, "")

	enrol(t, f, h, access)
	servicetest.Expect(t, del(map[string]any{"password": servicetest.Password}), http.StatusNoContent)
	loginOK(t, h, "ada@acme.test", servicetest.Password, "")
}

// One identity neither sees nor touches another's enrolment.
func TestTOTPIsPerIdentity(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := withMFA(t, f)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	bob := f.SignUp(t, "bobco", "bob@bob.test")
	adaTok, bobTok := f.Token(t, ada), f.Token(t, bob)
	res := servicetest.Expect(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp", adaTok, nil)), http.StatusCreated)
	secret := res.Str("secret")
	// Bob cannot confirm Ada's pending enrolment with her code, nor see it.
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp/confirm", bobTok, map[string]any{"code": code(t, f, secret)})), http.StatusNotFound, "mfa_not_enrolled")
	st := servicetest.Expect(t, servicetest.Do(t, h, mfaReq("GET", "/v1/auth/mfa/totp", bobTok, nil)), http.StatusOK)
	if st.Body["enabled"] != false || st.Body["pending"] != false {
		t.Fatalf("bob's status = %s", st.Raw)
	}
	servicetest.Expect(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp/confirm", adaTok, map[string]any{"code": code(t, f, secret)})), http.StatusOK)
	tick(f, 1)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("DELETE", "/v1/auth/mfa/totp", bobTok, map[string]any{"code": code(t, f, secret)})), http.StatusNotFound, "mfa_not_enrolled")
	// Bob logs in with his password alone; Ada still owes a code.
	loginOK(t, h, "bob@bob.test", servicetest.Password, "")
	mfaToken(t, h, "ada@acme.test", "")
	// Bob's enrolment is his own: Ada's code does not confirm it.
	servicetest.Expect(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp", bobTok, nil)), http.StatusCreated)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp/confirm", bobTok, map[string]any{"code": code(t, f, secret)})), http.StatusForbidden, "invalid_mfa_code")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("GET", "/v1/auth/mfa/totp", "", nil)), http.StatusUnauthorized, "unauthenticated")
}

// An organization that requires a second factor admits a member without one only to the enrolment routes.
func TestOrganizationRequiresMFA(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := withMFA(t, f)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	store := tenancy.NewSettingsStore(f.Env.DB.Tenants, true)
	if _, err := store.Replace(context.Background(), ada.TenantID, ada.IdentityID, tenancy.SettingsInput{RequireMFA: []byte("true")}); err != nil {
		t.Fatal(err)
	}
	f.SignUp(t, "bobco", "bob@bob.test")

	access := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("access_token")
	change := func(access string) servicetest.Response {
		return servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/password", Bearer: access,
			Body: map[string]any{"current_password": "wrong password!!", "new_password": "a brand new passphrase"}})
	}
	servicetest.ExpectProblem(t, change(access), http.StatusForbidden, "mfa_enrollment_required")
	// Bob's organization does not require one.
	servicetest.ExpectProblem(t, change(loginOK(t, h, "bob@bob.test", servicetest.Password, "").Str("access_token")), http.StatusForbidden, "wrong_password")
	servicetest.Expect(t, servicetest.Do(t, h, mfaReq("GET", "/v1/auth/memberships", access, nil)), http.StatusOK)

	secret, _ := enrol(t, f, h, access)
	// Now enrolled, the same token passes; new logins owe a code.
	servicetest.ExpectProblem(t, change(access), http.StatusForbidden, "wrong_password")
	tick(f, 1)
	res := servicetest.Expect(t, servicetest.Do(t, h, loginMFA(mfaToken(t, h, "ada@acme.test", ""), code(t, f, secret))), http.StatusOK)
	servicetest.ExpectProblem(t, change(res.Str("access_token")), http.StatusForbidden, "wrong_password")
}

// Without an encryption key the second factor is unavailable, and an enrolled identity still owes its code.
func TestMFAWithoutKey(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	enrol(t, f, withMFA(t, f), f.Token(t, ada))
	h := New(f.Env) // ENV=test and no MFA_ENCRYPTION_KEY
	servicetest.ExpectProblem(t, servicetest.Do(t, h, mfaReq("POST", "/v1/auth/mfa/totp", f.Token(t, ada), nil)), http.StatusServiceUnavailable, "mfa_unavailable")
	tok := mfaToken(t, h, "ada@acme.test", "")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, loginMFA(tok, "123456")), http.StatusServiceUnavailable, "mfa_unavailable")
}
