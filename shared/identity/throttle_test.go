package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/sethvargo/go-envconfig"
)

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var th *identity.ThrottledError
	if !errors.As(err, &th) || !errors.Is(err, identity.ErrThrottled) {
		t.Fatalf("err = %v, want a ThrottledError", err)
	}
	return th.RetryAfter
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := identity.Backoff{Free: 3, Base: time.Second, Max: 10 * time.Second, Memory: time.Hour}
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {2, 0}, {3, time.Second}, {4, 2 * time.Second}, {5, 4 * time.Second}, {6, 8 * time.Second},
		{7, 10 * time.Second}, {60, 10 * time.Second}, {1 << 20, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.failures); got != tt.want {
			t.Errorf("Delay(%d) = %s, want %s", tt.failures, got, tt.want)
		}
	}
	if got := (identity.Backoff{Free: 0, Max: time.Hour}).Delay(100); got != 0 {
		t.Errorf("a zero Base delays by %s", got)
	}
	if got := (identity.Backoff{Free: 0, Base: time.Hour, Max: time.Hour}).Delay(1 << 20); got != time.Hour {
		t.Errorf("a huge count gives %s, want the cap", got)
	}
}

func TestLoginBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	backoff := identity.Backoff{Free: 2, Base: time.Second, Max: 8 * time.Second, Memory: time.Hour}
	setup := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.ids.Limits.LoginBackoff = backoff
		f.ids.Limits.LoginPerClient = identity.Limit{} // only the backoff is under test here
		f.signUp(t, "acme", "ada@example.com", pw)
		return f
	}
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	const attacker, owner = "203.0.113.7", "198.51.100.20"

	t.Run("delays grow and are capped, known and unknown email alike", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for _, email := range []string{"ada@example.com", "nobody@example.com", "Bad\x00Email"} {
			now := t0
			for i := range 2 {
				if _, err := f.ids.LoginFrom(ctx, attacker, email, "wrong password!!", "", now); !errors.Is(err, identity.ErrInvalidCredentials) {
					t.Fatalf("%q: free failure %d: %v", email, i+1, err)
				}
			}
			for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
				// Even the right password is refused from this address until the delay has passed.
				if got := retryAfter(t, mustFail(f.ids.LoginFrom(ctx, attacker, email, pw, "", now))); got != want {
					t.Fatalf("%q: RetryAfter = %s, want %s", email, got, want)
				}
				if got := retryAfter(t, mustFail(f.ids.LoginFrom(ctx, attacker, email, pw, "", now.Add(want-time.Millisecond)))); got != time.Millisecond {
					t.Fatalf("%q: just before the delay ends, RetryAfter = %s", email, got)
				}
				now = now.Add(want)
				if _, err := f.ids.LoginFrom(ctx, attacker, email, "wrong password!!", "", now); !errors.Is(err, identity.ErrInvalidCredentials) {
					t.Fatalf("%q: failure once the delay passed: %v", email, err)
				}
			}
		}
	})

	t.Run("the owner logs in from another address while the attacker waits", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for range 4 {
			_, _ = f.ids.LoginFrom(ctx, attacker, "ada@example.com", "wrong password!!", "", t0)
		}
		if _, err := f.ids.LoginFrom(ctx, attacker, "ada@example.com", pw, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("attacker's address: %v, want throttled", err)
		}
		if _, err := f.ids.LoginFrom(ctx, owner, "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("owner from another address: %v", err)
		}
		// The owner's success does not release the attacker.
		if _, err := f.ids.LoginFrom(ctx, attacker, "ada@example.com", pw, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("attacker after the owner's login: %v, want still throttled", err)
		}
		// Nor does a wrong password of the owner's add to the attacker's count, or the other way round.
		if _, err := f.ids.LoginFrom(ctx, owner, "ada@example.com", "a typo password", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("owner's typo: %v", err)
		}
		if _, err := f.ids.LoginFrom(ctx, owner, "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("owner after one typo: %v", err)
		}
	})

	t.Run("a success clears the backoff of its own address", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for range 3 {
			_, _ = f.ids.LoginFrom(ctx, owner, "ada@example.com", "a typo password", "", t0)
		}
		// Three failures: the delay is 2 s.
		if _, err := f.ids.LoginFrom(ctx, owner, "ada@example.com", pw, "", t0.Add(2*time.Second)); err != nil {
			t.Fatalf("login after the delay: %v", err)
		}
		for i := range 2 {
			if _, err := f.ids.LoginFrom(ctx, owner, "ada@example.com", "a typo password", "", t0.Add(2*time.Second)); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("failure %d after the success: %v, want a fresh count", i+1, err)
			}
		}
	})

	t.Run("a quiet period starts the count over", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for range 3 {
			_, _ = f.ids.LoginFrom(ctx, attacker, "ada@example.com", "wrong password!!", "", t0)
		}
		later := t0.Add(backoff.Memory + time.Second)
		for i := range 2 {
			if _, err := f.ids.LoginFrom(ctx, attacker, "ada@example.com", "wrong password!!", "", later); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("failure %d after the quiet period: %v", i+1, err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, attacker, "ada@example.com", pw, "", later); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("third failure in the new count: %v, want throttled", err)
		}
	})

	t.Run("IPv6 addresses of one /64 share a backoff", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for i := range 2 {
			if _, err := f.ids.LoginFrom(ctx, "2001:db8:1:2::"+string(rune('a'+i)), "ada@example.com", "wrong password!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, "2001:db8:1:2:ffff::1", "ada@example.com", pw, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("same /64: %v, want throttled", err)
		}
		if _, err := f.ids.LoginFrom(ctx, "2001:db8:1:3::1", "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("another /64: %v", err)
		}
	})

	t.Run("requests without an address share one backoff", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		_, _ = f.ids.LoginFrom(ctx, "", "ada@example.com", "wrong password!!", "", t0)
		_, _ = f.ids.LoginFrom(ctx, "not an address", "ada@example.com", "wrong password!!", "", t0)
		if _, err := f.ids.LoginFrom(ctx, "", "ada@example.com", pw, "", t0); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("unknown address: %v, want throttled", err)
		}
		if _, err := f.ids.LoginFrom(ctx, owner, "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("a known address: %v", err)
		}
	})

	t.Run("a password reset clears every address's backoff", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		for range 3 {
			_, _ = f.ids.LoginFrom(ctx, attacker, "ada@example.com", "wrong password!!", "", t0)
		}
		if err := f.ids.RequestReset(ctx, owner, "ada@example.com", t0); err != nil {
			t.Fatal(err)
		}
		evs := f.resetEvents(t)
		if err := f.ids.ConfirmReset(ctx, evs[len(evs)-1].Token, "ada's brand new password", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ids.LoginFrom(ctx, attacker, "ada@example.com", "ada's brand new password", "", t0); err != nil {
			t.Fatalf("after the reset: %v", err)
		}
	})
}

// mustFail returns the error of a login, for retryAfter.
func mustFail(_ identity.Session, err error) error { return err }

// TestPasswordSpray: failures for many accounts from one address are limited, whoever the accounts are.
func TestPasswordSpray(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	window := 15 * time.Minute
	f := newFixture(t)
	f.ids.Limits.LoginPerClient = identity.Limit{Max: 6, Window: window}
	f.signUp(t, "acme", "ada@example.com", pw)
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 6 {
		email := string(rune('a'+i)) + "@example.com"
		if _, err := f.ids.LoginFrom(ctx, "203.0.113.7", email, "Spring2031!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// A seventh account, even with its right password, waits until the oldest failure leaves the window.
	if got := retryAfter(t, mustFail(f.ids.LoginFrom(ctx, "203.0.113.7", "ada@example.com", pw, "", t0.Add(time.Minute)))); got != window-time.Minute {
		t.Fatalf("RetryAfter = %s, want %s", got, window-time.Minute)
	}
	// Ada from elsewhere is not affected, and her success does not launder the sprayer's count.
	if _, err := f.ids.LoginFrom(ctx, "203.0.113.8", "ada@example.com", pw, "", t0.Add(time.Minute)); err != nil {
		t.Fatalf("login from another address: %v", err)
	}
	if _, err := f.ids.LoginFrom(ctx, "203.0.113.7", "zed@example.com", "Spring2031!!", "", t0.Add(2*time.Minute)); !errors.Is(err, identity.ErrThrottled) {
		t.Fatalf("sprayer still over its limit: %v", err)
	}
	if _, err := f.ids.LoginFrom(ctx, "203.0.113.7", "ada@example.com", pw, "", t0.Add(window+time.Second)); err != nil {
		t.Fatalf("once the window passed: %v", err)
	}
	// Requests without an address are one address: a spray that hides its address is limited too.
	for i := range 6 {
		client := []string{"", "not an address"}[i%2]
		if _, err := f.ids.LoginFrom(ctx, client, string(rune('a'+i))+"@example.com", "Spring2031!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("unknown address, failure %d: %v", i+1, err)
		}
	}
	if _, err := f.ids.LoginFrom(ctx, "", "zed@example.com", "Spring2031!!", "", t0); !errors.Is(err, identity.ErrThrottled) {
		t.Fatalf("unknown address over the limit: %v", err)
	}
}

func TestLoginThrottleOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "ada's long password"
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("Login itself is not throttled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.signUp(t, "acme", "ada@example.com", pw)
		for range 10 {
			if _, err := f.ids.Login(ctx, "ada@example.com", "wrong password!!", "", t0); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatal(err)
			}
		}
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", pw, "", t0); err != nil {
			t.Fatalf("Login counted failures: %v", err)
		}
	})

	t.Run("zero limits never refuse, yet count", func(t *testing.T) {
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

// Both tables stay small: a window key keeps about Max rows, and a backoff is one row per account and address.
func TestThrottlePrunes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.ids.Limits.LoginPerClient = identity.Limit{Max: 2, Window: time.Minute}
	f.ids.Limits.LoginBackoff = identity.Backoff{Free: 100, Base: time.Second, Max: time.Minute, Memory: time.Hour}
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 10 {
		// Each failure comes after the previous ones left the window, so none is throttled.
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "nobody@example.com", "wrong password!!", "", t0.Add(time.Duration(i)*2*time.Minute)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	var n, failures int
	if err := f.d.Owner.QueryRow(ctx, `SELECT count(*) FROM directory.login_failures WHERE key = 'ip:192.0.2.1'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d rows kept for the key, want only the latest failure", n)
	}
	if err := f.d.Owner.QueryRow(ctx, `SELECT count(*), max(failures) FROM directory.login_backoff
		WHERE account = 'email:nobody@example.com' AND client = 'ip:192.0.2.1'`).Scan(&n, &failures); err != nil {
		t.Fatal(err)
	}
	if n != 1 || failures != 10 {
		t.Fatalf("backoff rows %d with %d failures, want one row counting 10", n, failures)
	}
}

func TestConfirmResetThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const newPW = "ada's brand new password"
	f := newFixture(t)
	f.ids.Limits.ResetTokenPerClient = identity.Limit{Max: 3, Window: time.Hour}
	f.signUp(t, "acme", "ada@example.com", "ada's long password")
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := f.ids.RequestReset(ctx, "198.51.100.20", "ada@example.com", t0); err != nil {
		t.Fatal(err)
	}
	evs := f.resetEvents(t)
	tok := evs[len(evs)-1].Token
	wrong := []string{strings.Repeat("A", len(tok)), "short", strings.Repeat("B", len(tok))}
	for i, w := range wrong {
		if err := f.ids.ConfirmResetFrom(ctx, "203.0.113.7", w, newPW, t0); !errors.Is(err, identity.ErrInvalidResetToken) {
			t.Fatalf("wrong token %d: %v", i+1, err)
		}
	}
	// Refused before the token is looked at: the right one too, from this address.
	if got := retryAfter(t, f.ids.ConfirmResetFrom(ctx, "203.0.113.7", tok, newPW, t0.Add(time.Minute))); got != time.Hour-time.Minute {
		t.Fatalf("RetryAfter = %s, want 59m", got)
	}
	// A refused password is still a validation error, not a counted failure.
	if err := f.ids.ConfirmResetFrom(ctx, "198.51.100.20", tok, "short", t0); err == nil || errors.Is(err, identity.ErrInvalidResetToken) {
		t.Fatalf("weak password: %v, want a validation error", err)
	}
	if err := f.ids.ConfirmResetFrom(ctx, "198.51.100.20", tok, newPW, t0.Add(time.Minute)); err != nil {
		t.Fatalf("the owner's address: %v", err)
	}
	// Unthrottled ConfirmReset counts nothing.
	for range 5 {
		if err := f.ids.ConfirmReset(ctx, wrong[0], newPW, t0); !errors.Is(err, identity.ErrInvalidResetToken) {
			t.Fatal(err)
		}
	}
	if err := f.ids.ConfirmResetFrom(ctx, "192.0.2.50", wrong[0], newPW, t0); !errors.Is(err, identity.ErrInvalidResetToken) {
		t.Fatalf("a fresh address: %v, want a plain refusal", err)
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

func TestThrottleConfig(t *testing.T) {
	t.Parallel()
	load := func(t *testing.T, env map[string]string) identity.ThrottleConfig {
		t.Helper()
		var c identity.ThrottleConfig
		if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: envconfig.MapLookuper(env)}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("the environment's defaults are DefaultLimits", func(t *testing.T) {
		t.Parallel()
		c := load(t, nil)
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.Limits() != identity.DefaultLimits {
			t.Fatalf("Limits() = %+v, want %+v", c.Limits(), identity.DefaultLimits)
		}
		if identity.ThrottleConfigOf(identity.DefaultLimits) != c {
			t.Fatalf("ThrottleConfigOf(DefaultLimits) = %+v, want %+v", identity.ThrottleConfigOf(identity.DefaultLimits), c)
		}
	})
	t.Run("settings reach the limits", func(t *testing.T) {
		t.Parallel()
		c := load(t, map[string]string{"THROTTLE_LOGIN_FREE": "3", "THROTTLE_LOGIN_DELAY": "2s", "THROTTLE_CLIENT_MAX": "7", "THROTTLE_RESET_TOKEN_MAX": "4"})
		l := c.Limits()
		if l.LoginBackoff.Free != 3 || l.LoginBackoff.Base != 2*time.Second || l.LoginPerClient.Max != 7 || l.ResetTokenPerClient.Max != 4 {
			t.Fatalf("Limits() = %+v", l)
		}
	})
	tests := []struct {
		name string
		env  map[string]string
		want []string // names the error must mention; none: valid
	}{
		{"all off", map[string]string{"THROTTLE_LOGIN_DELAY": "0s", "THROTTLE_CLIENT_MAX": "0", "THROTTLE_RESET_EMAIL_MAX": "0", "THROTTLE_RESET_CLIENT_MAX": "0",
			"THROTTLE_RESET_TOKEN_MAX": "0", "THROTTLE_SIGNUP_MAX": "0", "THROTTLE_CLIENT_WINDOW": "0s"}, nil},
		{"negative counts", map[string]string{"THROTTLE_LOGIN_FREE": "-1", "THROTTLE_SIGNUP_MAX": "-2"}, []string{"THROTTLE_LOGIN_FREE", "THROTTLE_SIGNUP_MAX"}},
		{"window zero under a limit", map[string]string{"THROTTLE_CLIENT_WINDOW": "0s", "THROTTLE_RESET_TOKEN_WINDOW": "-1s"}, []string{"THROTTLE_CLIENT_WINDOW", "THROTTLE_RESET_TOKEN_WINDOW"}},
		{"cap below the first delay", map[string]string{"THROTTLE_LOGIN_DELAY": "1m", "THROTTLE_LOGIN_MAX_DELAY": "30s"}, []string{"THROTTLE_LOGIN_MAX_DELAY"}},
		{"memory shorter than the cap", map[string]string{"THROTTLE_LOGIN_MEMORY": "10m"}, []string{"THROTTLE_LOGIN_MEMORY"}},
		{"negative delay", map[string]string{"THROTTLE_LOGIN_DELAY": "-1s"}, []string{"THROTTLE_LOGIN_DELAY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := load(t, tt.env).Validate()
			if (err == nil) != (len(tt.want) == 0) {
				t.Fatalf("Validate() = %v, want problems with %v", err, tt.want)
			}
			for _, name := range tt.want {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("Validate() = %v, does not name %s", err, name)
				}
			}
		})
	}
}
