package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/google/uuid"
)

func TestSessionList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const pw = "ada's long password"
	acme, _ := f.signUp(t, "acme", "ada@example.com", pw)
	f.signUp(t, "beta", "ada@example.com", pw)
	_, bob := f.signUp(t, "bobco", "bob@example.com", "bob's long password")
	t0 := time.Now().UTC().Truncate(time.Second)
	from := func(ua, addr string) context.Context {
		return identity.WithClient(ctx, identity.Client{UserAgent: ua, Address: addr})
	}
	login := func(c context.Context, slug string, at time.Time) identity.Session {
		t.Helper()
		s, err := f.ids.Login(c, "ada@example.com", pw, slug, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	laptop := login(from("Firefox/140", "203.0.113.7"), "acme", t0)
	phone := login(from("Safari/18", "198.51.100.2"), "acme", t0.Add(time.Minute))
	other := login(from("curl/8", "192.0.2.1"), "beta", t0.Add(2*time.Minute))
	ada := laptop.Principal.IdentityID

	// The laptop refreshes later from another address: last used and the client follow it.
	if _, err := f.ids.Refresh(from("Firefox/141", "203.0.113.8"), laptop.RefreshToken, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := f.ids.Sessions(ctx, ada, phone.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// ada's sign-ups opened two more sessions of their own (with no client): five in all, newest use first.
	if len(list) != 5 {
		t.Fatalf("%d sessions, want 5: %+v", len(list), list)
	}
	top := list[0]
	if top.ID != laptop.ID || !top.LastUsedAt.Equal(t0.Add(time.Hour)) || !top.CreatedAt.Equal(t0) || top.Current ||
		top.Client != (identity.SessionClient{UserAgent: "Firefox/141", Address: "203.0.113.8"}) || top.Tenant.ID != acme.ID || top.Tenant.Slug != "acme" {
		t.Fatalf("first entry %+v: want the refreshed laptop session", top)
	}
	if list[1].ID != other.ID || list[1].Tenant.Slug != "beta" || list[2].ID != phone.ID || !list[2].Current ||
		list[2].Client != (identity.SessionClient{UserAgent: "Safari/18", Address: "198.51.100.2"}) {
		t.Fatalf("entries %+v, %+v: want beta's, then the current phone session", list[1], list[2])
	}
	for _, s := range list {
		if s.Current != (s.ID == phone.ID) {
			t.Fatalf("current flag on %+v", s)
		}
	}

	// Another identity's session cannot be revoked and is not shown.
	if err := f.ids.RevokeSession(ctx, bob.Principal.IdentityID, phone.ID, t0); !errors.Is(err, identity.ErrSessionNotFound) {
		t.Fatalf("bob revoking ada's session: %v, want ErrSessionNotFound", err)
	}
	if bobs, err := f.ids.Sessions(ctx, bob.Principal.IdentityID, uuid.Nil, t0); err != nil || len(bobs) != 1 || bobs[0].ID != bob.ID {
		t.Fatalf("bob's sessions %+v, %v: want his one", bobs, err)
	}
	if err := f.ids.RevokeSession(ctx, ada, phone.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := f.ids.RevokeSession(ctx, ada, phone.ID, t0); !errors.Is(err, identity.ErrSessionNotFound) {
		t.Fatalf("revoking twice: %v, want ErrSessionNotFound", err)
	}
	if err := f.ids.RevokeSession(ctx, ada, uuid.New(), t0); !errors.Is(err, identity.ErrSessionNotFound) {
		t.Fatalf("unknown session: %v, want ErrSessionNotFound", err)
	}
	if _, err := f.ids.Refresh(ctx, phone.RefreshToken, t0.Add(time.Hour)); !errors.Is(err, identity.ErrInvalidGrant) {
		t.Fatalf("refresh of the revoked session: %v", err)
	}
	// Logged out and expired sessions are not listed.
	if err := f.ids.Logout(ctx, other.RefreshToken, t0); err != nil {
		t.Fatal(err)
	}
	list, err = f.ids.Sessions(ctx, ada, uuid.Nil, t0.Add(time.Hour))
	if err != nil || len(list) != 3 || list[0].ID != laptop.ID {
		t.Fatalf("after revoking two: %+v, %v; want the laptop and the two sign-ups", list, err)
	}
	if list, err := f.ids.Sessions(ctx, ada, uuid.Nil, t0.Add(2*refreshTTL)); err != nil || len(list) != 0 {
		t.Fatalf("after every token expired: %+v, %v", list, err)
	}

	if err := f.ids.LogoutAll(ctx, ada, t0); err != nil {
		t.Fatal(err)
	}
	if list, err := f.ids.Sessions(ctx, ada, uuid.Nil, t0); err != nil || len(list) != 0 {
		t.Fatalf("after logout-all: %+v, %v", list, err)
	}
	if bobs, err := f.ids.Sessions(ctx, bob.Principal.IdentityID, uuid.Nil, t0); err != nil || len(bobs) != 1 {
		t.Fatalf("bob's sessions after ada's logout-all: %+v, %v", bobs, err)
	}
}

func TestClientIsStorable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	const pw = "ada's long password"
	f.signUp(t, "acme", "ada@example.com", pw)
	ua := "Mozilla\x00/5.0 \xff" + strings.Repeat("é", 600)
	s, err := f.ids.Login(identity.WithClient(ctx, identity.Client{UserAgent: ua, Address: strings.Repeat("1", 100)}), "ada@example.com", pw, "", time.Now())
	if err != nil {
		t.Fatalf("login from an odd client: %v", err)
	}
	list, err := f.ids.Sessions(ctx, s.Principal.IdentityID, s.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range list {
		if it.Current {
			if got := []rune(it.Client.UserAgent); len(got) != 512 || strings.Contains(it.Client.UserAgent, "\x00") || !strings.HasPrefix(it.Client.UserAgent, "Mozilla/5.0 \uFFFD") {
				t.Fatalf("stored user agent %q (%d characters)", it.Client.UserAgent, len(got))
			}
			if len(it.Client.Address) != 64 {
				t.Fatalf("stored address %q", it.Client.Address)
			}
			return
		}
	}
	t.Fatalf("current session not listed: %+v", list)
}
