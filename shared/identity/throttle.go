package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Limit bounds the attempts counted under one key: at most Max within any Window. A Max of zero or less
// switches the limit off: attempts are still counted (so that a known and an unknown email cost the same
// writes), and never refused.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits are a Service's throttling rules. Attempts are counted in directory.login_failures, so every instance
// sees the same counts.
type Limits struct {
	// LoginPerEmail bounds failed logins, and failed password changes, for one email address (key
	// "email:<address>"), whether or not an identity has it.
	LoginPerEmail Limit
	// LoginPerClient bounds failed logins and password changes from one client address (key "ip:<address>").
	LoginPerClient Limit
	// ResetPerEmail bounds password-reset requests for one email address, answered or not (key
	// "reset:email:<address>").
	ResetPerEmail Limit
	// ResetPerClient bounds password-reset requests from one client address (key "reset:ip:<address>").
	ResetPerClient Limit
}

// DefaultLimits: five wrong passwords per account in 15 minutes stop online guessing at 480 a day per
// account, while a person who mistypes gets a few tries; fifty per address leaves room for an office behind
// one NAT. Reset requests are rarer and each sends an email, so the window is an hour.
var DefaultLimits = Limits{
	LoginPerEmail:  Limit{Max: 5, Window: 15 * time.Minute},
	LoginPerClient: Limit{Max: 50, Window: 15 * time.Minute},
	ResetPerEmail:  Limit{Max: 5, Window: time.Hour},
	ResetPerClient: Limit{Max: 50, Window: time.Hour},
}

// ErrThrottled is matched by every ThrottledError.
var ErrThrottled = errors.New("too many attempts")

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

// clientKey is the throttle key of a client address, or "" when client is not an IP address. IPv6 clients
// are keyed by their /64, the block one subscriber gets, so that rotating through it does not escape the limit.
func clientKey(prefix, client string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(client))
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64) // cannot fail for an IPv6 address and 64 bits
		return prefix + "ip:" + p.String()
	}
	return prefix + "ip:" + addr.String()
}

// rules returns the rules for email and, when it is an IP address, client.
func rules(prefix, email, client string, perEmail, perClient Limit) []rule {
	out := []rule{{emailKey(prefix, email), perEmail}}
	if k := clientKey(prefix, client); k != "" {
		out = append(out, rule{k, perClient})
	}
	return out
}

func (l Limits) loginRules(email, client string) []rule {
	return rules("", email, client, l.LoginPerEmail, l.LoginPerClient)
}

func (l Limits) resetRules(email, client string) []rule {
	return rules("reset:", email, client, l.ResetPerEmail, l.ResetPerClient)
}

// longestWindow is the age past which no limit counts a row any more.
func (l Limits) longestWindow() time.Duration {
	return max(l.LoginPerEmail.Window, l.LoginPerClient.Window, l.ResetPerEmail.Window, l.ResetPerClient.Window, time.Hour)
}

// wait returns how long from now until every rule admits another attempt, zero when all do already. It
// reads, for each key, its Max-th most recent attempt inside the window: the moment that one leaves the
// window, the key is under its limit again. One query answers every rule.
func wait(ctx context.Context, tx pgx.Tx, all []rule, now time.Time) (time.Duration, error) {
	var rules []rule
	for _, r := range all {
		if r.limit.Max > 0 {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return 0, nil
	}
	keys := make([]string, len(rules))
	since := make([]time.Time, len(rules))
	skip := make([]int32, len(rules))
	for i, r := range rules {
		keys[i], since[i], skip[i] = r.key, now.Add(-r.limit.Window), int32(r.limit.Max-1)
	}
	rows, err := tx.Query(ctx, `SELECT r.i::int, (SELECT f.failed_at FROM directory.login_failures f
			WHERE f.key = r.key AND f.failed_at > r.since ORDER BY f.failed_at DESC OFFSET r.skip LIMIT 1)
		FROM unnest($1::text[], $2::timestamptz[], $3::int[]) WITH ORDINALITY AS r(key, since, skip, i)`, keys, since, skip)
	if err != nil {
		return 0, fmt.Errorf("read attempts: %w", err)
	}
	defer rows.Close()
	var longest time.Duration
	for rows.Next() {
		var (
			i  int
			at *time.Time
		)
		if err := rows.Scan(&i, &at); err != nil {
			return 0, fmt.Errorf("read attempts: %w", err)
		}
		if at != nil {
			longest = max(longest, at.Add(rules[i-1].limit.Window).Sub(now))
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read attempts: %w", err)
	}
	return longest, nil
}

// throttled returns a ThrottledError when rules admit no attempt at now, and nil when they do.
func throttled(ctx context.Context, tx pgx.Tx, rules []rule, now time.Time) error {
	w, err := wait(ctx, tx, rules, now)
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

// record counts one attempt under every rule at now. It prunes the same keys' rows that have left their
// windows, which bounds a key under attack to about Max rows, and now and then sweeps old rows of every key.
func (s *Service) record(ctx context.Context, tx pgx.Tx, rules []rule, now time.Time) error {
	if len(rules) == 0 {
		return nil
	}
	keys := make([]string, len(rules))
	cutoffs := make([]time.Time, len(rules))
	for i, r := range rules {
		keys[i], cutoffs[i] = r.key, now.Add(-r.limit.Window)
	}
	if _, err := tx.Exec(ctx, `WITH pruned AS (
			DELETE FROM directory.login_failures f USING unnest($1::text[], $2::timestamptz[]) AS r(key, cutoff)
			WHERE f.key = r.key AND f.failed_at <= r.cutoff
		)
		INSERT INTO directory.login_failures (key, failed_at) SELECT unnest($1::text[]), $3`, keys, cutoffs, now); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	if rand.IntN(sweepOneIn) == 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM directory.login_failures WHERE ctid = ANY(ARRAY(
				SELECT ctid FROM directory.login_failures WHERE failed_at < $1 LIMIT 1000))`,
			now.Add(-s.Limits.longestWindow())); err != nil {
			return fmt.Errorf("sweep attempts: %w", err)
		}
	}
	return nil
}

// forget clears the failures counted under key, after the person behind it proved who they are.
func forget(ctx context.Context, tx pgx.Tx, key string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM directory.login_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear attempts: %w", err)
	}
	return nil
}
