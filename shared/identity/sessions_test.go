package identity_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	t0 := time.Now().UTC().Truncate(time.Second)

	t.Run("rotates within the family", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tn, first := f.signUp(t, "acme", "ada@example.com", pw)
		later := t0.Add(time.Hour)
		next, err := f.ids.Refresh(ctx, first.RefreshToken, later)
		if err != nil {
			t.Fatal(err)
		}
		want := token.Principal{IdentityID: first.Principal.IdentityID, TenantID: tn.ID, Role: access.Owner, AMR: identity.AMRPassword}
		if next.Principal != want || next.TenantSlug != "acme" || next.RefreshToken == first.RefreshToken {
			t.Fatalf("refreshed session %+v, want %+v in acme with a new token", next, want)
		}
		if !next.RefreshExpiresAt.Equal(later.Add(refreshTTL)) {
			t.Fatalf("new token expires %v, want %v", next.RefreshExpiresAt, later.Add(refreshTTL))
		}
		old, fresh := f.lookupToken(t, first.RefreshToken), f.lookupToken(t, next.RefreshToken)
		if !old.used || fresh.used || old.family != fresh.family || fresh.familyTokens != 2 || fresh.revoked {
			t.Fatalf("old %+v, new %+v: want the old spent and the new unspent in one live family", old, fresh)
		}
		if !fresh.expiresAt.Equal(later.Add(refreshTTL)) {
			t.Fatalf("stored expiry %v", fresh.expiresAt)
		}
	})

	t.Run("reuse after the interval revokes the family", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, first := f.signUp(t, "acme", "ada@example.com", pw)
		other, err := f.ids.Login(ctx, "ada@example.com", pw, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.ids.Refresh(ctx, first.RefreshToken, t0)
		if err != nil {
			t.Fatal(err)
		}
		late := t0.Add(identity.DefaultReuseInterval + time.Second)
		if _, err := f.ids.Refresh(ctx, first.RefreshToken, late); !errors.Is(err, identity.ErrRefreshReused) || !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("reuse: %v, want ErrRefreshReused", err)
		}
		if !f.lookupToken(t, second.RefreshToken).revoked {
			t.Fatal("family not revoked")
		}
		for name, raw := range map[string]string{"newest": second.RefreshToken, "spent": first.RefreshToken} {
			if _, err := f.ids.Refresh(ctx, raw, t0); !errors.Is(err, identity.ErrInvalidGrant) {
				t.Fatalf("%s token of a revoked family, even back inside the interval: %v", name, err)
			}
		}
		// Another login's family is untouched.
		if _, err := f.ids.Refresh(ctx, other.RefreshToken, late); err != nil {
			t.Fatalf("other family: %v", err)
		}
	})

	t.Run("reuse within the interval gets the same successor", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, first := f.signUp(t, "acme", "ada@example.com", pw)
		second, err := f.ids.Refresh(ctx, first.RefreshToken, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []time.Time{t0, t0.Add(identity.DefaultReuseInterval), t0.Add(-time.Second)} {
			again, err := f.ids.Refresh(ctx, first.RefreshToken, at)
			if err != nil {
				t.Fatalf("repeat at %v: %v", at.Sub(t0), err)
			}
			if again.RefreshToken != second.RefreshToken || !again.RefreshExpiresAt.Equal(second.RefreshExpiresAt) ||
				again.Principal != second.Principal || again.ID != second.ID || again.MembershipVersion != second.MembershipVersion {
				t.Fatalf("repeat at %v = %+v, want the first answer %+v", at.Sub(t0), again, second)
			}
		}
		st := f.lookupToken(t, second.RefreshToken)
		if st.used || st.revoked || st.familyTokens != 2 {
			t.Fatalf("successor %+v: want one unspent successor in a live family", st)
		}
		// The successor is stored sealed, not in the clear, and the seal opens only with the spent token.
		var sealed []byte
		sum := sha256.Sum256([]byte(first.RefreshToken))
		if err := f.d.Owner.QueryRow(ctx, `SELECT successor FROM directory.refresh_tokens WHERE token_hash = $1`, sum[:]).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(second.RefreshToken)) {
			t.Fatalf("stored successor %x: want it sealed", sealed)
		}
		if _, err := f.ids.Refresh(ctx, second.RefreshToken, t0.Add(time.Minute)); err != nil {
			t.Fatalf("successor: %v", err)
		}
	})

	t.Run("no interval: every repeat revokes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ids.ReuseInterval = 0
		_, first := f.signUp(t, "acme", "ada@example.com", pw)
		second, err := f.ids.Refresh(ctx, first.RefreshToken, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.Refresh(ctx, first.RefreshToken, t0.Add(time.Millisecond)); !errors.Is(err, identity.ErrRefreshReused) {
			t.Fatalf("repeat: %v, want ErrRefreshReused", err)
		}
		if _, err := f.ids.Refresh(ctx, second.RefreshToken, t0); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("successor after the repeat: %v", err)
		}
	})

	t.Run("a tampered seal revokes", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, first := f.signUp(t, "acme", "ada@example.com", pw)
		_, err := f.ids.Refresh(ctx, first.RefreshToken, t0)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(first.RefreshToken))
		if _, err := f.d.Owner.Exec(ctx, `UPDATE directory.refresh_tokens SET successor = set_byte(successor, 20, get_byte(successor, 20) # 1)
			WHERE token_hash = $1`, sum[:]); err != nil {
			t.Fatal(err)
		}
		if got, err := f.ids.Refresh(ctx, first.RefreshToken, t0); err == nil {
			t.Fatalf("repeat with a tampered seal = %+v, want an error", got)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		tn, _ := f.signUp(t, "acme", "ada@example.com", pw)
		login := func(t *testing.T) identity.Session {
			s, err := f.ids.Login(ctx, "ada@example.com", pw, "acme", t0)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		expiring := login(t)
		if _, err := f.ids.Refresh(ctx, expiring.RefreshToken, t0.Add(refreshTTL)); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("at expiry: %v", err)
		}
		if _, err := f.ids.Refresh(ctx, expiring.RefreshToken, t0.Add(refreshTTL-time.Second)); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		for _, raw := range []string{"", "short", "unknown-token-of-the-right-length-0123456789", string(make([]byte, 43))} {
			if _, err := f.ids.Refresh(ctx, raw, t0); !errors.Is(err, identity.ErrInvalidGrant) {
				t.Fatalf("token %q: %v", raw, err)
			}
		}

		// A bob is added to acme, refreshes fine as a member, then is promoted, then removed.
		bob := f.addIdentity(t, "bob@example.com", ptr("bob's long password"))
		f.addMember(t, tn.ID, bob, access.Member)
		bobSess, err := f.ids.Login(ctx, "bob@example.com", "bob's long password", "", t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.d.Owner.Exec(ctx, `UPDATE directory.memberships SET role = 'admin' WHERE identity_id = $1`, bob); err != nil {
			t.Fatal(err)
		}
		promoted, err := f.ids.Refresh(ctx, bobSess.RefreshToken, t0)
		if err != nil || promoted.Principal.Role != access.Admin {
			t.Fatalf("refresh after promotion: %+v, %v; want the current role admin", promoted.Principal, err)
		}
		if _, err := f.d.Owner.Exec(ctx, `DELETE FROM directory.memberships WHERE identity_id = $1`, bob); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.Refresh(ctx, promoted.RefreshToken, t0); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("removed member: %v", err)
		}
		if !f.lookupToken(t, promoted.RefreshToken).revoked {
			t.Fatal("removed member's family not revoked")
		}
		// Re-adding bob does not bring the revoked family back.
		f.addMember(t, tn.ID, bob, access.Member)
		if _, err := f.ids.Refresh(ctx, promoted.RefreshToken, t0); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("revoked family after re-adding: %v", err)
		}

		// Suspending acme ends ada's sessions at their next refresh.
		live := login(t)
		f.setStatus(t, tn.ID, "suspended")
		if _, err := f.ids.Refresh(ctx, live.RefreshToken, t0); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("suspended organization: %v", err)
		}
		f.setStatus(t, tn.ID, "active")
		if _, err := f.ids.Refresh(ctx, live.RefreshToken, t0); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("revoked by the suspension, then reactivated: %v", err)
		}
	})

	t.Run("concurrent uses rotate once and share the successor", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, sess := f.signUp(t, "acme", "ada@example.com", pw)
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			got  = map[string]int{}
			errs []error
		)
		for range n {
			wg.Go(func() {
				next, err := f.ids.Refresh(ctx, sess.RefreshToken, t0)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				got[next.RefreshToken]++
			})
		}
		wg.Wait()
		// Exactly one rotates; every other finds the token spent within the interval and gets its successor.
		if len(errs) != 0 || len(got) != 1 {
			t.Fatalf("%d successors %v and errors %v; want one successor for all %d", len(got), got, errs, n)
		}
		var successor string
		for tok := range got {
			successor = tok
		}
		st := f.lookupToken(t, sess.RefreshToken)
		if st.familyTokens != 2 || st.revoked {
			t.Fatalf("family has %d tokens, revoked %v; want 2 and live", st.familyTokens, st.revoked)
		}
		if _, err := f.ids.Refresh(ctx, successor, t0.Add(time.Minute)); err != nil {
			t.Fatalf("the shared successor: %v", err)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const pw = "ada's long password"
	_, sess := f.signUp(t, "acme", "ada@example.com", pw)
	now := time.Now()
	other, err := f.ids.Login(ctx, "ada@example.com", pw, "", now)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := f.ids.Refresh(ctx, sess.RefreshToken, now)
	if err != nil {
		t.Fatal(err)
	}
	// Logging out with a spent token of the family ends the family too.
	if err := f.ids.Logout(ctx, sess.RefreshToken, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ids.Refresh(ctx, rotated.RefreshToken, now); !errors.Is(err, identity.ErrInvalidGrant) {
		t.Fatalf("after logout: %v", err)
	}
	if err := f.ids.Logout(ctx, rotated.RefreshToken, now); err != nil {
		t.Fatalf("second logout: %v", err)
	}
	for _, raw := range []string{"", "nope", "unknown-token-of-the-right-length-0123456789"} {
		if err := f.ids.Logout(ctx, raw, now); err != nil {
			t.Fatalf("logout of %q: %v", raw, err)
		}
	}
	if _, err := f.ids.Refresh(ctx, other.RefreshToken, now); err != nil {
		t.Fatalf("another session ended with the logout: %v", err)
	}
}

func TestSwitchAndMemberships(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const pw = "ada's long password"
	acme, sess := f.signUp(t, "acme", "ada@example.com", pw)
	beta, _ := f.signUp(t, "beta", "ada@example.com", pw)
	gamma, _ := f.signUp(t, "gamma", "ada@example.com", pw)
	f.setStatus(t, gamma.ID, "suspended")
	delta, _ := f.signUp(t, "delta", "ada@example.com", pw)
	f.setStatus(t, delta.ID, "deleted")
	other, _ := f.signUp(t, "other", "bob@example.com", "bob's long password")
	ada := sess.Principal.IdentityID
	f.addMember(t, other.ID, ada, access.Viewer)
	now := time.Now().UTC().Truncate(time.Second)

	tests := []struct {
		name, slug string
		wantErr    error
		wantTenant uuid.UUID
		wantRole   string
	}{
		{"owned organization", "beta", nil, beta.ID, access.Owner},
		{"slug in upper case", " BETA ", nil, beta.ID, access.Owner},
		{"the current one", "acme", nil, acme.ID, access.Owner},
		{"as a viewer", "other", nil, other.ID, access.Viewer},
		{"suspended", "gamma", identity.ErrNotMember, uuid.Nil, ""},
		{"deleted", "delta", identity.ErrNotMember, uuid.Nil, ""},
		{"unknown", "nowhere", identity.ErrNotMember, uuid.Nil, ""},
		{"empty", "", identity.ErrNotMember, uuid.Nil, ""},
		{"NUL", "ac\x00me", identity.ErrNotMember, uuid.Nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := f.ids.Switch(ctx, ada, tt.slug, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Switch = %+v, %v; want %v", s, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := token.Principal{IdentityID: ada, TenantID: tt.wantTenant, Role: tt.wantRole}
			if s.Principal != want || s.RefreshToken == "" {
				t.Fatalf("Switch = %+v, want %+v", s, want)
			}
			st := f.lookupToken(t, s.RefreshToken)
			if st.tenant != tt.wantTenant || st.identity != ada || st.familyTokens != 1 {
				t.Fatalf("stored %+v, want a new family in %s", st, tt.wantTenant)
			}
		})
	}
	t.Run("a stranger cannot switch in", func(t *testing.T) {
		t.Parallel()
		if _, err := f.ids.Switch(ctx, uuid.Must(uuid.NewV7()), "acme", now); !errors.Is(err, identity.ErrNotMember) {
			t.Fatalf("Switch of an unknown identity: %v", err)
		}
	})
	t.Run("memberships", func(t *testing.T) {
		t.Parallel()
		got, err := f.ids.Memberships(ctx, ada)
		if err != nil {
			t.Fatal(err)
		}
		want := []identity.Membership{
			{TenantID: acme.ID, Slug: "acme", Name: "Org acme", Role: access.Owner, Status: "active"},
			{TenantID: beta.ID, Slug: "beta", Name: "Org beta", Role: access.Owner, Status: "active"},
			{TenantID: gamma.ID, Slug: "gamma", Name: "Org gamma", Role: access.Owner, Status: "suspended"},
			{TenantID: other.ID, Slug: "other", Name: "Org other", Role: access.Viewer, Status: "active"},
		}
		if len(got) != len(want) {
			t.Fatalf("Memberships = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("membership %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		none, err := f.ids.Memberships(ctx, uuid.Must(uuid.NewV7()))
		if err != nil || none == nil || len(none) != 0 {
			t.Fatalf("Memberships of nobody = %#v, %v; want an empty list", none, err)
		}
	})
}
