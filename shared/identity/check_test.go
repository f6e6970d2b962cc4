package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

// tokenOf is what an access token minted for sess carries.
func tokenOf(sess identity.Session) (token.Principal, token.Session) {
	return sess.Principal, token.Session{ID: sess.ID, MembershipVersion: sess.MembershipVersion}
}

func TestSessionCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	now := time.Now()
	check := func(f *fixture, sess identity.Session) error {
		p, s := tokenOf(sess)
		return identity.NewSessionCache(f.d.DB.Directory, 0, 0, time.Now).Check(ctx, p, s)
	}
	login := func(t *testing.T, f *fixture, email, password, slug string) identity.Session {
		t.Helper()
		s, err := f.ids.Login(ctx, email, password, slug, now)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exec := func(t *testing.T, f *fixture, sql string, args ...any) {
		t.Helper()
		if _, err := f.d.Owner.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("an open session passes, a forged pairing does not", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, ada := f.signUp(t, "acme", "ada@example.com", pw)
		globex, hank := f.signUp(t, "globex", "hank@example.com", "hank's long password")
		if ada.ID == uuid.Nil || ada.MembershipVersion <= 0 {
			t.Fatalf("sign-up session %+v names no session or version", ada)
		}
		if err := check(f, ada); err != nil {
			t.Fatalf("open session: %v", err)
		}
		for name, sess := range map[string]identity.Session{
			"another identity's session": {Principal: hank.Principal, ID: ada.ID, MembershipVersion: ada.MembershipVersion},
			"another tenant":             {Principal: token.Principal{IdentityID: ada.Principal.IdentityID, TenantID: globex.ID, Role: access.Owner}, ID: ada.ID, MembershipVersion: ada.MembershipVersion},
			"an unknown session":         {Principal: ada.Principal, ID: uuid.New(), MembershipVersion: ada.MembershipVersion},
		} {
			if err := check(f, sess); !errors.Is(err, identity.ErrSessionEnded) {
				t.Errorf("%s: %v, want ErrSessionEnded", name, err)
			}
		}
		if err := check(f, identity.Session{Principal: ada.Principal, ID: ada.ID, MembershipVersion: ada.MembershipVersion + 1}); !errors.Is(err, identity.ErrMembershipChanged) {
			t.Errorf("another version: %v, want ErrMembershipChanged", err)
		}
	})

	t.Run("logout, logout-all, revocation and password change end it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, first := f.signUp(t, "acme", "ada@example.com", pw)
		second := login(t, f, "ada@example.com", pw, "")
		third := login(t, f, "ada@example.com", pw, "")
		if err := f.ids.Logout(ctx, first.RefreshToken, now); err != nil {
			t.Fatal(err)
		}
		if err := check(f, first); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("after logout: %v", err)
		}
		if err := check(f, second); err != nil {
			t.Fatalf("another session after logout: %v", err)
		}
		if err := f.ids.RevokeSession(ctx, first.Principal.IdentityID, second.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := check(f, second); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("after revoking it: %v", err)
		}
		if err := f.ids.ChangePassword(ctx, "", first.Principal.IdentityID, pw, "a new long password for ada", now); err != nil {
			t.Fatal(err)
		}
		if err := check(f, third); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("after a password change: %v", err)
		}
		fourth := login(t, f, "ada@example.com", "a new long password for ada", "")
		if err := f.ids.LogoutAll(ctx, first.Principal.IdentityID, now); err != nil {
			t.Fatal(err)
		}
		if err := check(f, fourth); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("after logout-all: %v", err)
		}
	})

	t.Run("a role change makes the token stale, a refresh fresh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		acme, _ := f.signUp(t, "acme", "ada@example.com", pw)
		bob := f.addIdentity(t, "bob@example.com", ptr("bob's long password"))
		f.addMember(t, acme.ID, bob, access.Admin)
		sess := login(t, f, "bob@example.com", "bob's long password", "")
		// Writing the same role again is no change.
		exec(t, f, `UPDATE directory.memberships SET role = 'admin' WHERE identity_id = $1`, bob)
		if err := check(f, sess); err != nil {
			t.Fatalf("after an unchanged role: %v", err)
		}
		exec(t, f, `UPDATE directory.memberships SET role = 'member' WHERE identity_id = $1`, bob)
		if err := check(f, sess); !errors.Is(err, identity.ErrMembershipChanged) {
			t.Fatalf("after demotion: %v, want ErrMembershipChanged", err)
		}
		next, err := f.ids.Refresh(ctx, sess.RefreshToken, now)
		if err != nil {
			t.Fatal(err)
		}
		if next.Principal.Role != access.Member || next.ID != sess.ID || next.MembershipVersion == sess.MembershipVersion {
			t.Fatalf("refreshed %+v: want role member, the same session and a new version", next)
		}
		if err := check(f, next); err != nil {
			t.Fatalf("refreshed token: %v", err)
		}
		// Removed and added again with the old role, behind the members store's back: the old token's
		// version is not the new membership's.
		exec(t, f, `DELETE FROM directory.memberships WHERE identity_id = $1`, bob)
		if err := check(f, next); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("after removal: %v, want ErrSessionEnded", err)
		}
		f.addMember(t, acme.ID, bob, access.Member)
		if err := check(f, next); !errors.Is(err, identity.ErrMembershipChanged) {
			t.Fatalf("after removal and re-adding: %v, want ErrMembershipChanged", err)
		}
	})
}

func TestSessionCacheBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	f := newFixture(t)
	_, first := f.signUp(t, "acme", "ada@example.com", pw)
	var sessions []identity.Session
	for range 3 {
		s, err := f.ids.Login(ctx, "ada@example.com", pw, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	t0 := time.Now()
	clock := t0
	now := func() time.Time { return clock }
	const ttl = 5 * time.Second
	check := func(c *identity.SessionCache, s identity.Session) error {
		p, ts := tokenOf(s)
		return c.Check(ctx, p, ts)
	}

	t.Run("what it read holds for the TTL, and not longer", func(t *testing.T) {
		c := identity.NewSessionCache(f.d.DB.Directory, ttl, 10, now)
		if err := check(c, first); err != nil {
			t.Fatal(err)
		}
		if err := f.ids.Logout(ctx, first.RefreshToken, t0); err != nil {
			t.Fatal(err)
		}
		clock = t0.Add(ttl - time.Millisecond)
		if err := check(c, first); err != nil {
			t.Fatalf("within the TTL the cached answer stands: %v", err)
		}
		clock = t0.Add(ttl)
		if err := check(c, first); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("at the TTL: %v, want ErrSessionEnded", err)
		}
		// A refusal is remembered like an admission, and read again after the TTL too.
		if c.Len() != 1 {
			t.Fatalf("cache holds %d sessions, want 1", c.Len())
		}
	})

	t.Run("it holds at most its size, forgetting the least recently used", func(t *testing.T) {
		clock = t0
		c := identity.NewSessionCache(f.d.DB.Directory, ttl, 2, now)
		a, b, d := sessions[0], sessions[1], sessions[2]
		for _, s := range []identity.Session{a, b, a, d} {
			if err := check(c, s); err != nil {
				t.Fatal(err)
			}
		}
		if c.Len() != 2 {
			t.Fatalf("cache holds %d sessions, want its size 2", c.Len())
		}
		for _, s := range []identity.Session{a, b, d} {
			if err := f.ids.RevokeSession(ctx, s.Principal.IdentityID, s.ID, t0); err != nil {
				t.Fatal(err)
			}
		}
		// a and d are remembered (still admitted within the TTL); b, the least recently used, was forgotten
		// and is read again.
		if err := check(c, a); err != nil {
			t.Fatalf("a: %v, want the remembered admission", err)
		}
		if err := check(c, d); err != nil {
			t.Fatalf("d: %v, want the remembered admission", err)
		}
		if err := check(c, b); !errors.Is(err, identity.ErrSessionEnded) {
			t.Fatalf("b: %v, want it read again and refused", err)
		}
	})
}
