package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/identity"
)

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var th *identity.ThrottledError
	if !errors.As(err, &th) || !errors.Is(err, identity.ErrThrottled) {
		t.Fatalf("err = %v, want a ThrottledError", err)
	}
	return th.RetryAfter
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	window := 15 * time.Minute
	limits := identity.Limits{
		LoginPerEmail:  identity.Limit{Max: 3, Window: window},
		LoginPerClient: identity.Limit{Max: 6, Window: window},
		ResetPerEmail:  identity.DefaultLimits.ResetPerEmail,
		ResetPerClient: identity.DefaultLimits.ResetPerClient,
	}
	// Every case gets its own database, so counts never mix.
	setup := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.ids.Limits = limits
		f.signUp(t, "acme", "ada@example.com", pw)
		return f
	}
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("per email, known and unknown alike", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, email := range []string{"ada@example.com", "nobody@example.com", "Bad\x00Email"} {
			for i := range 3 {
				// Three clients, so that only the email's count can trip.
				_, err := f.ids.LoginFrom(ctx, "192.0.2."+string(rune('1'+i)), email, "wrong password!!", "", t0.Add(time.Duration(i)*time.Minute))
				if !errors.Is(err, identity.ErrInvalidCredentials) {
					t.Fatalf("failure %d for %q: %v", i+1, email, err)
				}
			}
			// Even the right password is refused now, before it is checked.
			_, err := f.ids.LoginFrom(ctx, "198.51.100.9", email, pw, "", t0.Add(3*time.Minute))
			// The oldest of the three failures (at t0) leaves the window at t0+15m: 12 minutes from now.
			if got := retryAfter(t, err); got != 12*time.Minute {
				t.Fatalf("%q: RetryAfter = %s, want 12m", email, got)
			}
		}
		// Another email from the same clients is not affected.
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "other@example.com", pw, "", t0.Add(3*time.Minute)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("other email: %v", err)
		}
		// Once the oldest failure leaves the window, the right password works again and clears the count.
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", pw, "", t0.Add(window+time.Second)); err != nil {
			t.Fatalf("login after the window: %v", err)
		}
		for i := range 2 {
			if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", "wrong password!!", "", t0.Add(window+2*time.Second)); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("failure %d after success: %v", i+1, err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", pw, "", t0.Add(window+3*time.Second)); err != nil {
			t.Fatalf("success cleared the count, yet two failures throttle: %v", err)
		}
	})

	t.Run("per client", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for i := range 6 {
			email := string(rune('a'+i)) + "@example.com"
			if _, err := f.ids.LoginFrom(ctx, "203.0.113.7", email, "wrong password!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		_, err := f.ids.LoginFrom(ctx, "203.0.113.7", "ada@example.com", pw, "", t0.Add(time.Minute))
		if got := retryAfter(t, err); got != window-time.Minute {
			t.Fatalf("RetryAfter = %s, want %s", got, window-time.Minute)
		}
		// A success elsewhere does not clear the client's count: a good account must not launder guesses.
		if _, err := f.ids.LoginFrom(ctx, "203.0.113.8", "ada@example.com", pw, "", t0.Add(time.Minute)); err != nil {
			t.Fatalf("login from another client: %v", err)
		}
		if _, err := f.ids.LoginFrom(ctx, "203.0.113.7", "ada@example.com", pw, "", t0.Add(2*time.Minute)); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("client still over its limit: %v", err)
		}
	})

	t.Run("IPv6 clients by their /64", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for i := range 6 {
			client := "2001:db8:1:2::" + string(rune('a'+i))
			email := string(rune('a'+i)) + "@example.com"
			if _, err := f.ids.LoginFrom(ctx, client, email, "wrong password!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, "2001:db8:1:2:ffff::1", "ada@example.com", pw, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("same /64: %v, want throttled", err)
		}
		if _, err := f.ids.LoginFrom(ctx, "2001:db8:1:3::1", "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("another /64: %v", err)
		}
	})

	t.Run("no client address, only the email limit", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for i := range 3 {
			if _, err := f.ids.LoginFrom(ctx, "not an address", "ada@example.com", "wrong password!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, "", "ada@example.com", pw, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("email over its limit: %v", err)
		}
	})

	t.Run("a limit of zero is off", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ids.Limits = identity.Limits{}
		f.signUp(t, "acme", "ada@example.com", pw)
		for range 10 {
			if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", "wrong password!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("throttled with limits off: %v", err)
		}
	})
}

// Old failures are pruned as new ones are counted, so a key under attack keeps about Max rows.
func TestThrottlePrunes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.ids.Limits.LoginPerEmail = identity.Limit{Max: 2, Window: time.Minute}
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 10 {
		// Each failure comes after the previous ones left the window, so none is throttled.
		if _, err := f.ids.LoginFrom(ctx, "", "nobody@example.com", "wrong password!!", "", t0.Add(time.Duration(i)*2*time.Minute)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	var n int
	if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.login_failures WHERE key = 'email:nobody@example.com'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d rows kept for the key, want only the latest failure", n)
	}
}

func TestThrottledErrorSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want int64
	}{
		{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {15 * time.Minute, 900},
	}
	for _, tt := range tests {
		if got := (&identity.ThrottledError{RetryAfter: tt.d}).RetryAfterSeconds(); got != tt.want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
