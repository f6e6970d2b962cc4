package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestClaimEmail: proving an unproven email drops what was set up without the proof (password, sessions,
// open reset links) of that identity only; an email already proven is left alone.
func TestClaimEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const pw = "a long enough password"
	_, squatter := f.signUp(t, "evil", "victim@example.com", pw)
	_, bystander := f.signUp(t, "acme", "ada@example.com", pw)
	now := time.Now().UTC().Truncate(time.Second)
	if err := f.ids.RequestReset(ctx, "", "victim@example.com", now); err != nil {
		t.Fatal(err)
	}
	claim := func(id uuid.UUID) bool {
		t.Helper()
		var claimed bool
		if err := f.d.DB.Directory.Platform(ctx, db.EntrySSO, func(tx pgx.Tx) (err error) {
			claimed, err = identity.ClaimEmail(ctx, tx, id, now)
			return err
		}); err != nil {
			t.Fatalf("ClaimEmail: %v", err)
		}
		return claimed
	}
	victim := squatter.Principal.IdentityID
	if !claim(victim) {
		t.Fatal("an unproven email was not reported claimed")
	}
	if n := f.count(t, `SELECT count(*) FROM directory.identities WHERE id = $1 AND password_hash IS NULL AND email_verified_at = $2`, victim, now); n != 1 {
		t.Fatal("the password stayed or the email is not marked proven")
	}
	if n := f.count(t, `SELECT count(*) FROM directory.refresh_token_families WHERE identity_id = $1 AND revoked_at IS NULL`, victim); n != 0 {
		t.Fatalf("%d sessions of the claimed identity still live", n)
	}
	if n := f.count(t, `SELECT count(*) FROM directory.password_resets WHERE identity_id = $1 AND used_at IS NULL`, victim); n != 0 {
		t.Fatalf("%d reset links of the claimed identity still open", n)
	}
	if _, err := f.ids.Refresh(ctx, squatter.RefreshToken, now); err == nil {
		t.Fatal("the squatter's refresh token still works")
	}
	if _, err := f.ids.Login(ctx, "victim@example.com", pw, "", now); err == nil {
		t.Fatal("the squatter's password still logs in")
	}
	// Another identity is untouched.
	if _, err := f.ids.Refresh(ctx, bystander.RefreshToken, now); err != nil {
		t.Fatalf("another identity's session ended: %v", err)
	}
	// Once proven, a claim changes nothing: a session opened since survives.
	opened := identity.Session{Principal: token.Principal{IdentityID: victim, TenantID: squatter.Principal.TenantID,
		AMR: identity.AMRSSO(squatter.Principal.TenantID)}}
	if err := f.d.DB.Directory.Platform(ctx, db.EntrySSO, func(tx pgx.Tx) error {
		return f.ids.StartSession(ctx, tx, &opened, now)
	}); err != nil {
		t.Fatal(err)
	}
	if claim(victim) {
		t.Fatal("a proven email was claimed again")
	}
	s, err := f.ids.Refresh(ctx, opened.RefreshToken, now)
	if err != nil || s.Principal.AMR != identity.AMRSSO(squatter.Principal.TenantID) {
		t.Fatalf("the session opened after the claim: %+v, %v", s.Principal, err)
	}
}
