package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/coditect/hyperscale/pubsub"
	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/valid/validtest"
	"github.com/google/uuid"
)

// resetEvents returns the auth.password_reset_requested events of the directory outbox, oldest first.
func (f *fixture) resetEvents(t *testing.T) []pubsub.PasswordResetRequested {
	t.Helper()
	rows, err := f.d.Owner.Query(context.Background(), `SELECT subject, data FROM directory.outbox WHERE type = $1 ORDER BY id`,
		pubsub.TypePasswordResetRequested)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []pubsub.PasswordResetRequested
	for rows.Next() {
		var (
			subject string
			data    []byte
			ev      pubsub.PasswordResetRequested
		)
		if err := rows.Scan(&subject, &data); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatal(err)
		}
		if subject != ev.IdentityID.String() {
			t.Fatalf("event subject %s, want the identity %s", subject, ev.IdentityID)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.Owner.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRequestReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	_, sess := f.signUp(t, "acme", "ada@example.com", "ada's long password")
	now := time.Now().UTC().Truncate(time.Second)

	if err := f.ids.RequestReset(ctx, "192.0.2.1", "nobody@example.com", now); err != nil {
		t.Fatalf("unknown email: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM directory.password_resets`); n != 0 || len(f.resetEvents(t)) != 0 {
		t.Fatalf("an unknown email left %d reset rows and %d events", n, len(f.resetEvents(t)))
	}
	if err := f.ids.RequestReset(ctx, "192.0.2.1", " ADA@example.com ", now); err != nil {
		t.Fatalf("known email: %v", err)
	}
	evs := f.resetEvents(t)
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.IdentityID != sess.Principal.IdentityID || ev.Email != "ada@example.com" || len(ev.Token) != 43 || !ev.ExpiresAt.Equal(now.Add(identity.ResetTTL)) {
		t.Fatalf("event %+v", ev)
	}
	sum := sha256.Sum256([]byte(ev.Token))
	if n := f.count(t, `SELECT count(*) FROM directory.password_resets WHERE token_hash = $1 AND identity_id = $2 AND expires_at = $3 AND used_at IS NULL`,
		sum[:], ev.IdentityID, now.Add(identity.ResetTTL)); n != 1 {
		t.Fatal("the reset is not stored under the token's SHA-256")
	}
	if n := f.count(t, `SELECT count(*) FROM directory.password_resets WHERE token_hash = convert_to($1, 'UTF8')`, ev.Token); n != 0 {
		t.Fatal("the raw token is stored")
	}
	for _, email := range []string{"", "not an email", "Ada <ada@example.com>", "ada\x00@example.com"} {
		if err := f.ids.RequestReset(ctx, "", email, now); !slices.Equal(validtest.Fields(err), []string{"email"}) {
			t.Fatalf("email %q: %v, want a validation error on email", email, err)
		}
	}
}

func TestResetThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.ids.Limits.ResetPerEmail = identity.Limit{Max: 2, Window: time.Hour}
	f.ids.Limits.ResetPerClient = identity.Limit{Max: 5, Window: time.Hour}
	f.signUp(t, "acme", "ada@example.com", "ada's long password")
	now := time.Now().UTC().Truncate(time.Second)
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		for i := range 2 {
			if err := f.ids.RequestReset(ctx, "192.0.2.1", email, now); err != nil {
				t.Fatalf("%s request %d: %v", email, i+1, err)
			}
		}
		err := f.ids.RequestReset(ctx, "192.0.2.2", email, now.Add(time.Minute))
		if got := retryAfter(t, err); got != 59*time.Minute {
			t.Fatalf("%s: RetryAfter %s, want 59m", email, got)
		}
	}
	// Four requests from 192.0.2.1 so far; the fifth passes, the sixth is throttled whatever the email.
	if err := f.ids.RequestReset(ctx, "192.0.2.1", "third@example.com", now); err != nil {
		t.Fatal(err)
	}
	if err := f.ids.RequestReset(ctx, "192.0.2.1", "fourth@example.com", now); !errors.Is(err, identity.ErrThrottled) {
		t.Fatalf("client over its limit: %v", err)
	}
	// Reset requests do not count against logins.
	if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", "ada's long password", "", now); err != nil {
		t.Fatalf("login after reset requests: %v", err)
	}
	if got := len(f.resetEvents(t)); got != 2 {
		t.Fatalf("%d reset events, want 2 (the throttled requests sent none)", got)
	}
}

func TestConfirmReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const (
		oldPW = "ada's long password"
		newPW = "ada's brand new password"
	)
	now := time.Now().UTC().Truncate(time.Second)
	// request starts a reset for ada and returns its raw token, as the notifier would read it.
	request := func(t *testing.T, f *fixture) string {
		t.Helper()
		before := len(f.resetEvents(t))
		if err := f.ids.RequestReset(ctx, "", "ada@example.com", now); err != nil {
			t.Fatal(err)
		}
		evs := f.resetEvents(t)
		if len(evs) != before+1 {
			t.Fatalf("no reset event")
		}
		return evs[len(evs)-1].Token
	}

	t.Run("works once and ends every session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, first := f.signUp(t, "acme", "ada@example.com", oldPW)
		_, second := f.signUp(t, "beta", "ada@example.com", oldPW)
		f.signUp(t, "bobco", "bob@example.com", "bob's long password")
		bob, err := f.ids.Login(ctx, "bob@example.com", "bob's long password", "", now)
		if err != nil {
			t.Fatal(err)
		}
		tok := request(t, f)
		spare := request(t, f)
		if err := f.ids.ConfirmReset(ctx, tok, newPW, now.Add(time.Minute)); err != nil {
			t.Fatalf("ConfirmReset: %v", err)
		}
		if err := f.ids.ConfirmReset(ctx, tok, "yet another new password", now.Add(2*time.Minute)); !errors.Is(err, identity.ErrInvalidResetToken) {
			t.Fatalf("second use: %v", err)
		}
		if err := f.ids.ConfirmReset(ctx, spare, "yet another new password", now.Add(2*time.Minute)); !errors.Is(err, identity.ErrInvalidResetToken) {
			t.Fatalf("an older open token after the reset: %v", err)
		}
		for _, s := range []identity.Session{first, second} {
			if _, err := f.ids.Refresh(ctx, s.RefreshToken, now.Add(time.Minute)); !errors.Is(err, identity.ErrInvalidGrant) {
				t.Fatalf("session survived the reset: %v", err)
			}
		}
		if _, err := f.ids.Refresh(ctx, bob.RefreshToken, now.Add(time.Minute)); err != nil {
			t.Fatalf("another identity's session ended: %v", err)
		}
		if _, err := f.ids.Login(ctx, "ada@example.com", oldPW, "acme", now); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("old password: %v", err)
		}
		if _, err := f.ids.Login(ctx, "ada@example.com", newPW, "acme", now); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})

	t.Run("expires after an hour", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.signUp(t, "acme", "ada@example.com", oldPW)
		tok := request(t, f)
		if err := f.ids.ConfirmReset(ctx, tok, newPW, now.Add(identity.ResetTTL)); !errors.Is(err, identity.ErrInvalidResetToken) {
			t.Fatalf("at expiry: %v", err)
		}
		if err := f.ids.ConfirmReset(ctx, tok, newPW, now.Add(identity.ResetTTL-time.Second)); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.signUp(t, "acme", "ada@example.com", oldPW)
		tok := request(t, f)
		tests := []struct {
			name, token, password string
			wantFields            []string
			wantErr               error
		}{
			{"common password", tok, "password1234", []string{"password"}, nil},
			{"short password", tok, "short", []string{"password"}, nil},
			{"no token, no password", "", "", []string{"token", "password"}, nil},
			{"unknown token", "unknown-token-of-the-right-length-0123456789", newPW, nil, identity.ErrInvalidResetToken},
			{"malformed token", "garbage", newPW, nil, identity.ErrInvalidResetToken},
		}
		for _, tt := range tests {
			err := f.ids.ConfirmReset(ctx, tt.token, tt.password, now)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("%s: %v, want %v", tt.name, err, tt.wantErr)
				}
				continue
			}
			if !slices.Equal(validtest.Fields(err), tt.wantFields) {
				t.Fatalf("%s: %v, want failing fields %v", tt.name, err, tt.wantFields)
			}
		}
		// The refused attempts did not spend the token.
		if err := f.ids.ConfirmReset(ctx, tok, newPW, now); err != nil {
			t.Fatalf("token after refusals: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const (
		oldPW = "ada's long password"
		newPW = "ada's brand new password"
	)
	now := time.Now().UTC().Truncate(time.Second)

	t.Run("changes and ends every session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, sess := f.signUp(t, "acme", "ada@example.com", oldPW)
		ada := sess.Principal.IdentityID
		if err := f.ids.RequestReset(ctx, "", "ada@example.com", now); err != nil {
			t.Fatal(err)
		}
		if err := f.ids.ChangePassword(ctx, "192.0.2.1", ada, oldPW, newPW, now); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		if _, err := f.ids.Refresh(ctx, sess.RefreshToken, now); !errors.Is(err, identity.ErrInvalidGrant) {
			t.Fatalf("session survived the change: %v", err)
		}
		if n := f.count(t, `SELECT count(*) FROM directory.password_resets WHERE identity_id = $1 AND used_at IS NULL`, ada); n != 0 {
			t.Fatalf("%d reset tokens still open after the change", n)
		}
		if _, err := f.ids.Login(ctx, "ada@example.com", newPW, "", now); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if err := f.ids.ChangePassword(ctx, "", ada, oldPW, "a third long password", now); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("the old password as current: %v", err)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		_, sess := f.signUp(t, "acme", "ada@example.com", oldPW)
		ada := sess.Principal.IdentityID
		tests := []struct {
			name, current, next string
			wantFields          []string
		}{
			{"common new password", oldPW, "qwertyuiop12", []string{"new_password"}},
			{"short new password", oldPW, "short", []string{"new_password"}},
			{"unchanged", oldPW, oldPW, []string{"new_password"}},
			{"nothing", "", "", []string{"current_password", "new_password"}},
		}
		for _, tt := range tests {
			if err := f.ids.ChangePassword(ctx, "", ada, tt.current, tt.next, now); !slices.Equal(validtest.Fields(err), tt.wantFields) {
				t.Fatalf("%s: %v, want failing fields %v", tt.name, err, tt.wantFields)
			}
		}
		sso := f.addIdentity(t, "sso@example.com", nil)
		if err := f.ids.ChangePassword(ctx, "", sso, "any long password", newPW, now); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("identity without a password: %v", err)
		}
		if err := f.ids.ChangePassword(ctx, "", uuid.Must(uuid.NewV7()), oldPW, newPW, now); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("unknown identity: %v", err)
		}
		if _, err := f.ids.Refresh(ctx, sess.RefreshToken, now); err != nil {
			t.Fatalf("a refused change ended the session: %v", err)
		}
	})

	t.Run("wrong current passwords count as failed logins", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.ids.Limits.LoginBackoff = identity.Backoff{Free: 3, Base: time.Minute, Max: time.Hour, Memory: 24 * time.Hour}
		_, sess := f.signUp(t, "acme", "ada@example.com", oldPW)
		ada := sess.Principal.IdentityID
		for i := range 3 {
			if err := f.ids.ChangePassword(ctx, "192.0.2.1", ada, "a wrong guess!!", newPW, now); !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatalf("guess %d: %v", i+1, err)
			}
		}
		if err := f.ids.ChangePassword(ctx, "192.0.2.1", ada, oldPW, newPW, now); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("change after three wrong guesses: %v", err)
		}
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.1", "ada@example.com", oldPW, "", now); !errors.Is(err, identity.ErrThrottled) {
			t.Fatalf("login from the guessing address after three wrong guesses: %v", err)
		}
		// The account is not locked: the same password from another address still works.
		if _, err := f.ids.LoginFrom(ctx, "192.0.2.9", "ada@example.com", oldPW, "", now); err != nil {
			t.Fatalf("login from another address: %v", err)
		}
	})
}
