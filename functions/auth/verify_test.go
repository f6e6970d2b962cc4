package auth

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/service/servicetest"
)

// verificationToken returns the raw token of the newest verification event for email, as the notifier reads
// it, and how many such events there are.
func verificationToken(t *testing.T, f *servicetest.Fixture, email string) (string, int) {
	t.Helper()
	var (
		tok string
		n   int
	)
	err := f.DB.Owner.QueryRow(context.Background(), `SELECT coalesce((array_agg(data->>'token' ORDER BY id DESC))[1], ''), count(*)
		FROM directory.outbox WHERE type = $1 AND data->>'email' = $2`, pubsub.TypeEmailVerificationRequested, email).Scan(&tok, &n)
	if err != nil {
		t.Fatal(err)
	}
	return tok, n
}

func verifyReq(tok string) req {
	return req{Method: "POST", Path: "/v1/auth/verify-email", Body: map[string]any{"token": tok}}
}

func resendReq(access string) req {
	return req{Method: "POST", Path: "/v1/auth/verify-email/resend", Bearer: access}
}

func verified(t *testing.T, f *servicetest.Fixture, email string) bool {
	t.Helper()
	var ok bool
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT email_verified_at IS NOT NULL FROM directory.identities WHERE email = $1`, email).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// Sign-up keeps its answer (201 with tokens) and sends a verification link; the link works once.
func TestSignUpSendsAVerificationLink(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	res := servicetest.Expect(t, servicetest.Do(t, h, registerReq(map[string]any{
		"organization": map[string]any{"name": "Acme", "slug": "acme"}, "email": "ada@acme.test", "password": registerPassword, "name": "Ada",
	})), http.StatusCreated)
	if res.Str("access_token") == "" || res.Str("refresh_token") == "" {
		t.Fatalf("sign-up = %s", res.Raw)
	}
	tok, n := verificationToken(t, f, "ada@acme.test")
	if n != 1 || verified(t, f, "ada@acme.test") {
		t.Fatalf("%d verification events, verified %v; want one event and an unverified identity", n, verified(t, f, "ada@acme.test"))
	}
	var stored int
	if err := f.DB.Owner.QueryRow(context.Background(), `SELECT count(*) FROM directory.email_verifications WHERE token_hash = sha256($1::bytea)`,
		[]byte(tok)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("stored hashed: %d (%v)", stored, err)
	}

	servicetest.ExpectProblem(t, servicetest.Do(t, h, verifyReq("")), 422, "validation_failed")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, verifyReq("nope")), 401, "invalid_verification_token")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, verifyReq("unknown-token-of-the-right-length-0123456789")), 401, "invalid_verification_token")
	servicetest.Expect(t, servicetest.Do(t, h, verifyReq(tok)), http.StatusNoContent)
	if !verified(t, f, "ada@acme.test") {
		t.Fatal("the link did not verify the email")
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, verifyReq(tok)), 401, "invalid_verification_token")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, resendReq(res.Str("access_token"))), http.StatusConflict, "already_verified")
}

func TestVerificationLinkExpires(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	tok, _ := verificationToken(t, f, "ada@acme.test")
	start := time.Now()
	f.Env.Now = func() time.Time { return start.Add(49 * time.Hour) }
	servicetest.ExpectProblem(t, servicetest.Do(t, h, verifyReq(tok)), 401, "invalid_verification_token")
	if verified(t, f, "ada@acme.test") {
		t.Fatal("an expired link verified the email")
	}
}

// Resending needs a session of the identity and is throttled, since each request sends an email.
func TestResendVerification(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	access := f.Token(t, ada)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, resendReq("")), http.StatusUnauthorized, "unauthenticated")
	for i := range 5 {
		servicetest.Expect(t, servicetest.Do(t, h, resendReq(access)), http.StatusAccepted)
		if _, n := verificationToken(t, f, "ada@acme.test"); n != i+2 {
			t.Fatalf("after %d resends: %d events", i+1, n)
		}
	}
	res := servicetest.Do(t, h, resendReq(access))
	servicetest.ExpectProblem(t, res, http.StatusTooManyRequests, "too_many_attempts")
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// Every link sent is still good until one is used.
	tok, _ := verificationToken(t, f, "ada@acme.test")
	servicetest.Expect(t, servicetest.Do(t, h, verifyReq(tok)), http.StatusNoContent)
}

// An organization that verified the domain of an email admits password logins (and switches) of that email
// only once its holder proved they own it; other organizations are not concerned.
func TestLoginToAVerifiedDomainNeedsAVerifiedEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := servicetest.New(t)
	h := New(f.Env)
	acme := f.SignUp(t, "acme", "owner@acme.test")
	bob := f.SignUp(t, "bobco", "bob@eu.acme.test")
	if _, err := f.DB.Owner.Exec(ctx, `INSERT INTO directory.memberships (tenant_id, identity_id, role) VALUES ($1, $2, 'member')`,
		acme.TenantID, bob.IdentityID); err != nil {
		t.Fatal(err)
	}
	// Before the domain is verified, both log in.
	loginOK(t, h, "bob@eu.acme.test", servicetest.Password, "acme")
	if _, err := f.DB.Owner.Exec(ctx, `INSERT INTO directory.domains (id, tenant_id, domain, verification_token, verified_at)
		VALUES (gen_random_uuid(), $1, 'acme.test', 'x', now())`, acme.TenantID); err != nil {
		t.Fatal(err)
	}
	_, before := verificationToken(t, f, "bob@eu.acme.test")
	res := servicetest.Do(t, h, login("bob@eu.acme.test", servicetest.Password, "acme"))
	servicetest.ExpectProblem(t, res, http.StatusForbidden, "email_unverified")
	if res.Str("access_token") != "" {
		t.Fatalf("refusal carries tokens: %s", res.Raw)
	}
	// The refusal sent a fresh link; a wrong password still learns nothing.
	if _, after := verificationToken(t, f, "bob@eu.acme.test"); after != before+1 {
		t.Fatalf("verification events %d, then %d", before, after)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, login("bob@eu.acme.test", "not bob's password", "acme")), http.StatusUnauthorized, "invalid_credentials")
	// Bob's own organization did not verify the domain, so he logs in there, but cannot switch into acme.
	own := loginOK(t, h, "bob@eu.acme.test", servicetest.Password, "bobco")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/switch", Bearer: own.Str("access_token"),
		Body: map[string]any{"tenant": "acme"}}), http.StatusForbidden, "email_unverified")

	tok, _ := verificationToken(t, f, "bob@eu.acme.test")
	servicetest.Expect(t, servicetest.Do(t, h, verifyReq(tok)), http.StatusNoContent)
	if p := principalOf(t, f, loginOK(t, h, "bob@eu.acme.test", servicetest.Password, "acme")); p.TenantID != acme.TenantID {
		t.Fatalf("after verifying: %+v", p)
	}
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/switch", Bearer: own.Str("access_token"),
		Body: map[string]any{"tenant": "acme"}}), http.StatusOK)
	// A look-alike domain is not the verified one.
	f.SignUp(t, "other", "eve@notacme.test")
	if _, err := f.DB.Owner.Exec(ctx, `INSERT INTO directory.memberships (tenant_id, identity_id, role)
		SELECT $1, id, 'member' FROM directory.identities WHERE email = 'eve@notacme.test'`, acme.TenantID); err != nil {
		t.Fatal(err)
	}
	loginOK(t, h, "eve@notacme.test", servicetest.Password, "acme")
}

// Pre-hijacking: Mallory signs up with the victim's email. The victim, invited by mail, registers through the
// invitation with a password of their own; Mallory's password and session stop working.
func TestInvitationClaimsAnUnverifiedIdentity(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	owner := f.SignUp(t, "acme", "owner@acme.test")
	f.SignUp(t, "mallory-co", "victim@example.test")
	squat := loginOK(t, h, "victim@example.test", servicetest.Password, "mallory-co")

	raw := registerInvite(t, f, owner, "victim@example.test", "member")
	res := servicetest.Expect(t, servicetest.Do(t, h, registerReq(map[string]any{"invitation": raw, "password": registerPassword})), http.StatusCreated)
	p := principalOf(t, f, res)
	if p.TenantID != owner.TenantID || !verified(t, f, "victim@example.test") {
		t.Fatalf("joined %+v, verified %v", p, verified(t, f, "victim@example.test"))
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, login("victim@example.test", servicetest.Password, "acme")), http.StatusUnauthorized, "invalid_credentials")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(squat.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")
	loginOK(t, h, "victim@example.test", registerPassword, "acme")
}

// A password reset is mailed too: redeeming it proves the email, and an unverified identity's second factor
// (which whoever created it may have set up) goes with the old password. A verified identity keeps its own.
func TestPasswordResetProvesTheEmail(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := withMFA(t, f)
	for _, tc := range []struct {
		email      string
		verified   bool
		owesFactor bool
	}{{"squatted@acme.test", false, false}, {"owner@acme.test", true, true}} {
		p := f.SignUp(t, "org-"+tc.email[:5], tc.email)
		if tc.verified {
			tok, _ := verificationToken(t, f, tc.email)
			servicetest.Expect(t, servicetest.Do(t, h, verifyReq(tok)), http.StatusNoContent)
		}
		enrol(t, f, h, f.Token(t, p))
		servicetest.Expect(t, servicetest.Do(t, h, resetReq(tc.email)), http.StatusAccepted)
		servicetest.Expect(t, servicetest.Do(t, h, confirmReq(resetToken(t, f, tc.email), "a brand new long password")), http.StatusNoContent)
		if !verified(t, f, tc.email) {
			t.Fatalf("%s: not verified after a reset", tc.email)
		}
		res := servicetest.Do(t, h, login(tc.email, "a brand new long password", ""))
		if owes := res.Status == http.StatusUnauthorized && res.Str("code") == "mfa_required"; owes != tc.owesFactor || (!owes && res.Status != http.StatusOK) {
			t.Fatalf("%s: login after reset = %d %s, want a second factor owed: %v", tc.email, res.Status, res.Raw, tc.owesFactor)
		}
	}
}
