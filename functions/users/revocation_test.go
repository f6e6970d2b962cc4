package users

import (
	"context"
	"testing"
)

// On the public acceptance route a bearer token proves the invitee only while its session is open.
func TestAcceptingWithTheTokenOfAnEndedSession(t *testing.T) {
	t.Parallel()
	h, f := setup(t)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	globex := f.SignUp(t, "globex", "hank@globex.test")
	ended, sess := f.TokenSession(t, ada)
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.refresh_token_families SET revoked_at = now() WHERE id = $1`, sess.ID); err != nil {
		t.Fatal(err)
	}
	// Ada proved her email, so an acceptance that proves nothing of her is refused rather than taken as a
	// claim of an unverified identity (which would ask the acceptor for a new password instead).
	if _, err := f.DB.Owner.Exec(context.Background(), `UPDATE directory.identities SET email_verified_at = now() WHERE id = $1`, ada.IdentityID); err != nil {
		t.Fatal(err)
	}
	do(t, h, f.Token(t, globex), req{Method: "POST", Path: "/v1/users/invite", Body: map[string]any{"email": "ada@acme.test", "role": "viewer"}}, 201)
	accept := req{Method: "POST", Path: "/v1/invitations/accept", Body: map[string]any{"token": inviteToken(t, f, globex.TenantID)}}
	expectProblem(t, h, ended, accept, 401, "invalid_credentials")
	acc := do(t, h, f.Token(t, ada), accept, 200)
	if tenant, _ := acc.Body["tenant"].(map[string]any); tenant["slug"] != "globex" {
		t.Fatalf("accept with an open session's token = %s", acc.Raw)
	}
}
