package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// claim runs identity.ClaimUnverified in a directory transaction of the application role, as SSO sign-in does.
func (f *fixture) claim(t *testing.T, id uuid.UUID, now time.Time) bool {
	t.Helper()
	var claimed bool
	err := f.d.DB.Directory.Platform(context.Background(), db.EntrySSO, func(tx pgx.Tx) (err error) {
		claimed, err = identity.ClaimUnverified(context.Background(), tx, id, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return claimed
}

// ClaimUnverified hands an unverified identity to whoever proved the email: what its creator set up (password,
// sessions, reset tokens, second factor) stops working, and only that identity is touched. A verified
// identity is left alone.
func TestClaimUnverified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	now := time.Now()
	pw := "squatter password 1"
	_, squat := f.signUp(t, "squat", "victim@example.test", pw)
	_, bystander := f.signUp(t, "other", "other@example.test", pw)
	if err := f.ids.RequestReset(ctx, "", "victim@example.test", now); err != nil {
		t.Fatal(err)
	}
	victim := squat.Principal.IdentityID
	if _, err := f.d.Owner.Exec(ctx, `INSERT INTO directory.mfa_totp (identity_id, secret, confirmed_at) VALUES ($1, '\x00', now())`, victim); err != nil {
		t.Fatal(err)
	}

	if !f.claim(t, victim, now) {
		t.Fatal("an unverified identity was not claimed")
	}
	if got := f.count(t, `SELECT count(*) FROM directory.identities WHERE id = $1 AND password_hash IS NULL AND email_verified_at IS NOT NULL`, victim); got != 1 {
		t.Fatal("the claimed identity kept its password or is not verified")
	}
	for what, q := range map[string]string{
		"open session":      `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND revoked_at IS NULL`,
		"open reset":        `SELECT count(*) FROM directory.password_resets WHERE identity_id = $1 AND used_at IS NULL`,
		"open verification": `SELECT count(*) FROM directory.email_verifications WHERE identity_id = $1 AND used_at IS NULL`,
		"second factor":     `SELECT count(*) FROM directory.mfa_totp WHERE identity_id = $1`,
	} {
		if n := f.count(t, q, victim); n != 0 {
			t.Errorf("after the claim: %d %s", n, what)
		}
	}
	if _, err := f.ids.Refresh(ctx, squat.RefreshToken, now); !errors.Is(err, identity.ErrInvalidGrant) {
		t.Fatalf("the squatter's session: %v, want invalid grant", err)
	}
	if _, err := f.ids.Login(ctx, "victim@example.test", pw, "", now); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("the squatter's password: %v, want invalid credentials", err)
	}
	// Another identity is untouched.
	if _, err := f.ids.Refresh(ctx, bystander.RefreshToken, now); err != nil {
		t.Fatalf("a bystander's session: %v", err)
	}
	if _, err := f.ids.Login(ctx, "other@example.test", pw, "", now); err != nil {
		t.Fatalf("a bystander's password: %v", err)
	}

	// Claimed once; a verified identity (or none) is not claimed and keeps its password.
	if f.claim(t, victim, now) || f.claim(t, uuid.New(), now) {
		t.Fatal("claimed twice, or claimed nobody")
	}
	verifiedPw := "verified password 1"
	_, v := f.signUp(t, "verified", "verified@example.test", verifiedPw)
	if _, err := f.d.Owner.Exec(ctx, `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, v.Principal.IdentityID); err != nil {
		t.Fatal(err)
	}
	if f.claim(t, v.Principal.IdentityID, now) {
		t.Fatal("a verified identity was claimed")
	}
	if _, err := f.ids.Login(ctx, "verified@example.test", verifiedPw, "", now); err != nil {
		t.Fatalf("a verified identity after a refused claim: %v", err)
	}
}

func TestVerifyEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	now := time.Now()
	_, ada := f.signUp(t, "acme", "ada@example.test", "ada password 123")
	_, bob := f.signUp(t, "bobco", "bob@example.test", "bob password 123")
	tokenOf := func(id uuid.UUID) string {
		t.Helper()
		var tok string
		if err := f.d.Owner.QueryRow(ctx, `SELECT data->>'token' FROM directory.outbox WHERE subject = $1 AND type = 'identity.email_verification_requested'
			ORDER BY id DESC LIMIT 1`, id.String()).Scan(&tok); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	verifiedIDs := func() int {
		return f.count(t, `SELECT count(*) FROM directory.identities WHERE email_verified_at IS NOT NULL`)
	}
	adaTok := tokenOf(ada.Principal.IdentityID)
	// Ada's first link and a second one: redeeming one spends both.
	if err := f.ids.ResendVerification(ctx, ada.Principal.IdentityID, now); err != nil {
		t.Fatal(err)
	}
	if err := f.ids.VerifyEmail(ctx, adaTok, now); err != nil {
		t.Fatal(err)
	}
	if verifiedIDs() != 1 || f.count(t, `SELECT count(*) FROM directory.identities WHERE id = $1 AND email_verified_at IS NOT NULL`, ada.Principal.IdentityID) != 1 {
		t.Fatal("ada's link did not verify ada alone")
	}
	if err := f.ids.VerifyEmail(ctx, tokenOf(ada.Principal.IdentityID), now); !errors.Is(err, identity.ErrInvalidVerificationToken) {
		t.Fatalf("the second link after the first: %v", err)
	}
	if err := f.ids.ResendVerification(ctx, ada.Principal.IdentityID, now); !errors.Is(err, identity.ErrAlreadyVerified) {
		t.Fatalf("resend when verified: %v", err)
	}
	// A link to an address the identity no longer has does not verify the new one.
	bobTok := tokenOf(bob.Principal.IdentityID)
	if _, err := f.d.Owner.Exec(ctx, `UPDATE directory.identities SET email = 'bob2@example.test' WHERE id = $1`, bob.Principal.IdentityID); err != nil {
		t.Fatal(err)
	}
	if err := f.ids.VerifyEmail(ctx, bobTok, now); !errors.Is(err, identity.ErrInvalidVerificationToken) || verifiedIDs() != 1 {
		t.Fatalf("a link to a former address: %v", err)
	}
}
