package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/fault"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Limit bounds the attempts counted under one key: at most Max within any Window. A Max of zero or less
// switches the limit off: attempts are still counted (so that a known and an unknown email cost the same
// writes), and never refused.
type Limit struct {
	Max    int
	Window time.Duration
}

// Backoff delays the attempts of one account from one client address after failures, instead of locking
// the account for everyone: once Free failures are counted, the next attempt waits Base, and each further
// failure doubles the wait, up to Max. The count starts over once Memory passes without a failure, after a
// success of that account from that address, and after a password reset or change of the account. A Base of
// zero switches the delays off; failures are still counted.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Memory time.Duration
}

// Delay is how long after the last of failures the next attempt must wait: zero below Free, else
// Base * 2^(failures-Free), at most Max.
func (b Backoff) Delay(failures int) time.Duration {
	if b.Base <= 0 || failures < b.Free {
		return 0
	}
	d := b.Base
	for range failures - b.Free {
		if d >= b.Max {
			break
		}
		d *= 2
	}
	return min(d, b.Max)
}

// Limits are a Service's throttling rules. Attempts are counted in directory.login_failures (sliding windows)
// and directory.login_backoff (per account and address), so every instance sees the same counts.
type Limits struct {
	// LoginBackoff delays failed logins and failed password changes of one email address from one client
	// address, whether or not an identity has the email. A failed sign-up with an existing email counts too.
	LoginBackoff Backoff
	// LoginPerClient bounds the same failures from one client address across all accounts (key
	// "ip:<address>"): one source spraying passwords over many accounts.
	LoginPerClient Limit
	// ResetPerEmail bounds password-reset requests for one email address, answered or not (key
	// "reset:email:<address>").
	ResetPerEmail Limit
	// ResetPerClient bounds password-reset requests from one client address (key "reset:ip:<address>").
	ResetPerClient Limit
	// ResetTokenPerClient bounds wrong password-reset tokens presented from one client address (key
	// "reset-token:ip:<address>").
	ResetTokenPerClient Limit
	// SignUpPerClient bounds organizations signed up from one client address (key "sign-up:ip:<address>"),
	// so that probing emails through sign-up costs an organization each, at a bounded rate.
	SignUpPerClient Limit
}

// DefaultLimits: five free failures per account and address, then 1 s, 2 s, 4 s ... up to 15 minutes, which
// still lets a person who mistypes a few times in, and slows one source to about 100 guesses a day at one
// account; fifty failures per address in 15 minutes leave room for an office behind one NAT. Reset requests
// are rarer and each sends an email, so their window is an hour. A reset token is 256 random bits, so its
// limit is defence in depth. Twenty sign-ups an hour from one address cover a workshop.
var DefaultLimits = Limits{
	LoginBackoff:        Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute, Memory: 24 * time.Hour},
	LoginPerClient:      Limit{Max: 50, Window: 15 * time.Minute},
	ResetPerEmail:       Limit{Max: 5, Window: time.Hour},
	ResetPerClient:      Limit{Max: 50, Window: time.Hour},
	ResetTokenPerClient: Limit{Max: 20, Window: time.Hour},
	SignUpPerClient:     Limit{Max: 20, Window: time.Hour},
}

// ErrThrottled is matched by every ThrottledError.
var ErrThrottled = fault.New(fault.TooManyRequests, "too_many_attempts", "too many attempts; retry after the number of seconds in Retry-After")

// ThrottledError refuses an attempt because too many were made; RetryAfter is when the next one may be made.
type ThrottledError struct {
	RetryAfter time.Duration
}

// Error says how long to wait.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many attempts: retry after %s", e.RetryAfter)
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up and at least one, as a Retry-After header
// wants it.
func (e *ThrottledError) RetryAfterSeconds() int64 {
	s := int64((e.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

// rule is one key counted under its limit.
type rule struct {
	key   string
	limit Limit
}

// attempt is what one request is throttled under: sliding-window rules, and the backoff of one account from
// one client address (none when account is "").
type attempt struct {
	rules   []rule
	account string
	client  string
	backoff Backoff
}

// emailKey is the throttle key of an email address. An address that cannot be any identity's (malformed, or
// carrying characters PostgreSQL's text refuses) is keyed by its SHA-256, so any input still gets a stable,
// storable key of bounded length.
func emailKey(prefix, email string) string {
	if e, ok := NormalizeEmail(email); ok {
		return prefix + "email:" + e
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return prefix + "email:#" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// clientKey is the throttle key of a client address. IPv6 clients are keyed by their /64, the block one
// subscriber gets, so that rotating through it does not escape the limit. A client that is not an IP address
// ("" when the front end gave none) is keyed "ip:unknown": every such request counts as one client, which errs
// on the side of throttling; behind a correctly configured front end every request has an address.
func clientKey(prefix, client string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(client))
	if err != nil {
		return prefix + "ip:unknown"
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64) // cannot fail for an IPv6 address and 64 bits
		return prefix + "ip:" + p.String()
	}
	return prefix + "ip:" + addr.String()
}

// clientRule is the rule of limit for client under prefix.
func clientRule(prefix, client string, limit Limit) []rule {
	return []rule{{clientKey(prefix, client), limit}}
}

// login is what a login, a password change or a sign-up's credentials are throttled under.
func (l Limits) login(email, client string) attempt {
	return attempt{rules: clientRule("", client, l.LoginPerClient), account: emailKey("", email), client: clientKey("", client), backoff: l.LoginBackoff}
}

func (l Limits) reset(email, client string) attempt {
	return attempt{rules: append([]rule{{emailKey("reset:", email), l.ResetPerEmail}}, clientRule("reset:", client, l.ResetPerClient)...)}
}

func (l Limits) resetToken(client string) attempt {
	return attempt{rules: clientRule("reset-token:", client, l.ResetTokenPerClient)}
}

func (l Limits) signUp(client string) attempt {
	return attempt{rules: clientRule("sign-up:", client, l.SignUpPerClient)}
}

// mfa is what second-factor codes are throttled under: the backoff of logins, kept per identity across every
// client address (whoever guesses codes already has the password, so spreading the guesses over addresses
// must not multiply them), and the client's window across accounts.
func (l Limits) mfa(identityID uuid.UUID, client string) attempt {
	return attempt{rules: clientRule("mfa:", client, l.LoginPerClient), account: "mfa:id:" + identityID.String(), client: "any", backoff: l.LoginBackoff}
}

// longestWindow is the age past which no limit counts a row of directory.login_failures any more.
func (l Limits) longestWindow() time.Duration {
	return max(l.LoginPerClient.Window, l.ResetPerEmail.Window, l.ResetPerClient.Window, l.ResetTokenPerClient.Window,
		l.SignUpPerClient.Window, time.Hour)
}

// memory is the age past which a backoff row counts no more.
func (b Backoff) memory() time.Duration { return max(b.Memory, b.Max, time.Minute) }

// wait returns how long from now until a admits another attempt, zero when it does already. For each window
// rule it reads the key's Max-th most recent attempt inside the window: the moment that one leaves the
// window, the key is under its limit again; for the backoff, the account's failures from the client and the
// last one's time. One statement answers everything.
func wait(ctx context.Context, tx pgx.Tx, a attempt, now time.Time) (time.Duration, error) {
	var rules []rule
	for _, r := range a.rules {
		if r.limit.Max > 0 {
			rules = append(rules, r)
		}
	}
	account := a.account
	if a.backoff.Base <= 0 {
		account = ""
	}
	if len(rules) == 0 && account == "" {
		return 0, nil
	}
	keys := make([]string, len(rules))
	since := make([]time.Time, len(rules))
	skip := make([]int32, len(rules))
	for i, r := range rules {
		keys[i], since[i], skip[i] = r.key, now.Add(-r.limit.Window), int32(r.limit.Max-1)
	}
	rows, err := tx.Query(ctx, `SELECT r.i::int, (SELECT f.failed_at FROM directory.login_failures f
			WHERE f.key = r.key AND f.failed_at > r.since ORDER BY f.failed_at DESC OFFSET r.skip LIMIT 1), 0
		FROM unnest($1::text[], $2::timestamptz[], $3::int[]) WITH ORDINALITY AS r(key, since, skip, i)
		UNION ALL
		SELECT 0, b.last_failed_at, b.failures FROM directory.login_backoff b
		WHERE $4::text <> '' AND b.account = $4 AND b.client = $5 AND b.last_failed_at > $6`,
		keys, since, skip, account, a.client, now.Add(-a.backoff.memory()))
	if err != nil {
		return 0, fmt.Errorf("read attempts: %w", err)
	}
	defer rows.Close()
	var longest time.Duration
	for rows.Next() {
		var (
			i, failures int
			at          *time.Time
		)
		if err := rows.Scan(&i, &at, &failures); err != nil {
			return 0, fmt.Errorf("read attempts: %w", err)
		}
		switch {
		case at == nil:
		case i == 0:
			longest = max(longest, at.Add(a.backoff.Delay(failures)).Sub(now))
		default:
			longest = max(longest, at.Add(rules[i-1].limit.Window).Sub(now))
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read attempts: %w", err)
	}
	return longest, nil
}

// throttled returns a ThrottledError when a admits no attempt at now, and nil when it does.
func throttled(ctx context.Context, tx pgx.Tx, a attempt, now time.Time) error {
	w, err := wait(ctx, tx, a, now)
	if err != nil {
		return err
	}
	if w > 0 {
		return &ThrottledError{RetryAfter: w}
	}
	return nil
}

// sweepOneIn is the chance (one in so many) that recording an attempt also sweeps rows of keys nobody uses any
// more; per-key pruning cannot reach those.
const sweepOneIn = 64

// maxFailures caps a backoff count, far above where the delay reaches its cap, so it never overflows.
const maxFailures = 1 << 20

// record counts one attempt under a at now: a row per window rule, and one more failure of the account from
// the client. It prunes the same keys' rows that have left their windows, which bounds a key under attack to
// about Max rows, and now and then sweeps old rows of every key from both tables.
func (s *Service) record(ctx context.Context, tx pgx.Tx, a attempt, now time.Time) error {
	if len(a.rules) == 0 && a.account == "" {
		return nil
	}
	keys := make([]string, len(a.rules))
	cutoffs := make([]time.Time, len(a.rules))
	for i, r := range a.rules {
		keys[i], cutoffs[i] = r.key, now.Add(-r.limit.Window)
	}
	if _, err := tx.Exec(ctx, `WITH pruned AS (
			DELETE FROM directory.login_failures f USING unnest($1::text[], $2::timestamptz[]) AS r(key, cutoff)
			WHERE f.key = r.key AND f.failed_at <= r.cutoff
		), counted AS (
			INSERT INTO directory.login_failures (key, failed_at) SELECT unnest($1::text[]), $3
		)
		INSERT INTO directory.login_backoff AS b (account, client, failures, last_failed_at)
		SELECT $4, $5, 1, $3 WHERE $4::text <> ''
		ON CONFLICT (account, client) DO UPDATE SET
			failures = CASE WHEN b.last_failed_at <= $6 THEN 1 ELSE least(b.failures + 1, $7) END,
			last_failed_at = greatest(b.last_failed_at, EXCLUDED.last_failed_at)`,
		keys, cutoffs, now, a.account, a.client, now.Add(-a.backoff.memory()), maxFailures); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	if rand.IntN(sweepOneIn) == 0 {
		if _, err := tx.Exec(ctx, `WITH old_failures AS (
				DELETE FROM directory.login_failures WHERE ctid = ANY(ARRAY(
					SELECT ctid FROM directory.login_failures WHERE failed_at < $1 LIMIT 1000))
			)
			DELETE FROM directory.login_backoff WHERE ctid = ANY(ARRAY(
				SELECT ctid FROM directory.login_backoff WHERE last_failed_at < $2 LIMIT 1000))`,
			now.Add(-s.Limits.longestWindow()), now.Add(-s.Limits.LoginBackoff.memory())); err != nil {
			return fmt.Errorf("sweep attempts: %w", err)
		}
	}
	return nil
}

// forgetBackoff clears the failures of account from client, or from every client when client is "", after
// the person behind the account proved who they are there (or everywhere).
func forgetBackoff(ctx context.Context, tx pgx.Tx, account, client string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM directory.login_backoff WHERE account = $1 AND ($2 = '' OR client = $2)`,
		account, client); err != nil {
		return fmt.Errorf("clear attempts: %w", err)
	}
	return nil
}
