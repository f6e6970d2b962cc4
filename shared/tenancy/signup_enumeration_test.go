package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/tenancy"
	"github.com/google/uuid"
)

// countingHasher counts the password-hash work a Service does, and the cost parameters it does it at.
type countingHasher struct {
	inner identity.Hasher
	mu    sync.Mutex
	calls []string // "hash" or "check", with the parameters of the hash checked against
}

func (h *countingHasher) Hash(password string) string {
	out := h.inner.Hash(password)
	h.note("hash " + params(out))
	return out
}

func (h *countingHasher) Check(password, hash string) (bool, error) {
	h.note("check " + params(hash))
	return h.inner.Check(password, hash)
}

func (h *countingHasher) note(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, s)
}

// take returns the calls so far and forgets them.
func (h *countingHasher) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.calls
	h.calls = nil
	return out
}

// params is the cost-parameter part of a PHC argon2id hash ("m=64,t=1,p=1").
func params(hash string) string {
	if parts := strings.Split(hash, "$"); len(parts) == 6 {
		return parts[3]
	}
	return "?"
}

// TestSignUpSameWorkWhateverTheEmail: a new email, an existing email with a wrong password, with the right one,
// and an identity without a password all cost exactly one argon2id computation at the same parameters; a
// taken slug costs none. The work is counted, not timed, so the test cannot flake.
func TestSignUpSameWorkWhateverTheEmail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	h := &countingHasher{inner: identity.Argon2{Params: cheap}}
	f.ids.Hasher = h
	const adaPW = "ada's long password"
	f.mustSignUp(t, input("acme", "ada@example.com", adaPW))
	if _, err := f.d.Owner.Exec(ctx, `INSERT INTO directory.identities (id, email) VALUES ($1, 'carol@example.com')`, uuid.Must(uuid.NewV7())); err != nil {
		t.Fatal(err)
	}
	h.take()
	one := "m=64,t=1,p=1"
	tests := []struct {
		name    string
		in      tenancy.SignUpInput
		wantErr error
		want    []string
	}{
		{"new email", input("beta", "bob@example.com", "bob's long password"), nil, []string{"hash " + one}},
		{"existing email, wrong password", input("gamma", "ada@example.com", "not ada's password"), identity.ErrInvalidCredentials, []string{"check " + one}},
		{"existing email, right password", input("delta", "ada@example.com", adaPW), nil, []string{"check " + one}},
		{"identity without a password", input("epsilon", "carol@example.com", "carol's long password"), identity.ErrInvalidCredentials, []string{"check " + one}},
		{"taken slug, new email", input("acme", "dave@example.com", "dave's long password"), tenancy.ErrSlugTaken, nil},
		{"taken slug, existing email", input("acme", "ada@example.com", "not ada's password"), tenancy.ErrSlugTaken, nil},
	}
	for _, tt := range tests { // one after the other: the hasher is shared
		_, _, err := f.svc.SignUpFrom(ctx, "192.0.2.1", tt.in, time.Now())
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: SignUpFrom = %v, want %v", tt.name, err, tt.wantErr)
		}
		if got := h.take(); strings.Join(got, ";") != strings.Join(tt.want, ";") {
			t.Fatalf("%s: hash work %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSignUpThrottle: a sign-up with an existing email and a wrong password counts as a failed login of that
// email from that address, and organizations per address are limited; both answer before any password work.
func TestSignUpThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const adaPW = "ada's long password"
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	const attacker, owner = "203.0.113.7", "198.51.100.20"

	t.Run("existing email counts as a failed login", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ids.Limits.LoginBackoff = identity.Backoff{Free: 3, Base: time.Minute, Max: time.Hour, Memory: 24 * time.Hour}
		f.mustSignUp(t, input("acme", "ada@example.com", adaPW))
		for i := range 3 {
			if _, _, err := f.svc.SignUpFrom(ctx, attacker, input("probe", "ada@example.com", "a guessed password"), t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("probe %d: %v", i+1, err)
			}
		}
		h := &countingHasher{inner: identity.Argon2{Params: cheap}}
		f.ids.Hasher = h
		_, _, err := f.svc.SignUpFrom(ctx, attacker, input("probe", "ada@example.com", "a guessed password"), t0)
		var th *identity.ThrottledError
		if !errors.As(err, &th) || th.RetryAfter != time.Minute {
			t.Fatalf("fourth probe: %v, want throttled for 1m", err)
		}
		if _, err := f.ids.LoginFrom(ctx, attacker, "ada@example.com", adaPW, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("login from the probing address: %v, want throttled", err)
		}
		if calls := h.take(); len(calls) != 0 {
			t.Fatalf("throttled attempts did password work: %q", calls)
		}
		// Ada, from her own address, still signs a second organization up with her password.
		if _, _, err := f.svc.SignUpFrom(ctx, owner, input("second", "ada@example.com", adaPW), t0); err != nil {
			t.Fatalf("ada from her address: %v", err)
		}
	})

	t.Run("a new email's probe is throttled like an existing one's", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ids.Limits.LoginBackoff = identity.Backoff{Free: 1, Base: time.Minute, Max: time.Hour, Memory: 24 * time.Hour}
		f.mustSignUp(t, input("acme", "ada@example.com", adaPW))
		if _, _, err := f.svc.SignUpFrom(ctx, attacker, input("probe", "ada@example.com", "a guessed password"), t0); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		if _, err := f.ids.LoginFrom(ctx, attacker, "nobody@example.com", "a guessed password", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		for _, email := range []string{"ada@example.com", "nobody@example.com"} {
			if _, _, err := f.svc.SignUpFrom(ctx, attacker, input("probe", email, "a guessed password"), t0); !errors.Is(err, identity.ErrThrottled) {
				t.Fatalf("%s: %v, want throttled alike", email, err)
			}
		}
	})

	t.Run("organizations per address", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ids.Limits.SignUpPerClient = identity.Limit{Max: 2, Window: time.Hour}
		for i, slug := range []string{"one", "two"} {
			if _, _, err := f.svc.SignUpFrom(ctx, attacker, input(slug, slug+"@example.com", "a long password"), t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatalf("sign-up %d: %v", i+1, err)
			}
		}
		_, _, err := f.svc.SignUpFrom(ctx, attacker, input("three", "three@example.com", "a long password"), t0.Add(2*time.Minute))
		var th *identity.ThrottledError
		if !errors.As(err, &th) || th.RetryAfter != time.Hour-2*time.Minute {
			t.Fatalf("third sign-up: %v, want throttled for 58m", err)
		}
		if n := count(t, f.d.Owner, `SELECT count(*) FROM directory.identities WHERE email = 'three@example.com'`); n != 0 {
			t.Fatal("a throttled sign-up created its identity")
		}
		if _, _, err := f.svc.SignUpFrom(ctx, owner, input("three", "three@example.com", "a long password"), t0.Add(2*time.Minute)); err != nil {
			t.Fatalf("another address: %v", err)
		}
		// Unthrottled SignUp counts nothing and is refused nothing.
		for _, slug := range []string{"four", "five", "six"} {
			if _, _, err := f.svc.SignUp(ctx, input(slug, slug+"@example.com", "a long password"), t0); err != nil {
				t.Fatalf("SignUp %s: %v", slug, err)
			}
		}
	})

	t.Run("a password changed between check and sign-up refuses it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, sess := f.mustSignUp(t, input("acme", "ada@example.com", adaPW))
		// The identity's hash changes after CheckSignUp read it: the Hasher's check is the last moment before.
		h := &hookHasher{inner: identity.Argon2{Params: cheap}, after: func() {
			if _, err := f.d.Owner.Exec(ctx, `UPDATE directory.identities SET password_hash = 'changed' WHERE id = $1`, sess.Principal.IdentityID); err != nil {
				t.Error(err)
			}
		}}
		f.ids.Hasher = h
		if _, _, err := f.svc.SignUpFrom(ctx, owner, input("second", "ada@example.com", adaPW), t0); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("sign-up over a changed password: %v", err)
		}
		if n := count(t, f.d.Owner, `SELECT count(*) FROM directory.tenants WHERE slug = 'second'`); n != 0 {
			t.Fatal("the refused sign-up created its organization")
		}
	})
}

// hookHasher runs after once a Check has been made.
type hookHasher struct {
	inner identity.Hasher
	after func()
}

func (h *hookHasher) Hash(password string) string { return h.inner.Hash(password) }

func (h *hookHasher) Check(password, hash string) (bool, error) {
	ok, err := h.inner.Check(password, hash)
	h.after()
	return ok, err
}
