// Package fault is the error vocabulary of the domain packages: an error declares, where it is declared, what
// kind of refusal it is and the stable code clients switch on. It knows nothing of HTTP; shared/httpx maps
// each Kind to a status once, in WriteError.
package fault

import (
	"errors"
	"time"
)

// Kind is what sort of refusal an error is, independent of the transport that reports it.
type Kind int

// The kinds. The zero Kind is Internal, so an Error built without one is never mistaken for the caller's fault.
const (
	// Internal is a failure of the server, not of the request.
	Internal Kind = iota
	// Malformed means the request itself cannot be read (a bad header, a bad key).
	Malformed
	// Invalid means the request was read but breaks a rule (a field, a constraint).
	Invalid
	// Unauthenticated means the caller must prove who they are, or the proof was wrong.
	Unauthenticated
	// Forbidden means the caller is known but may not do this.
	Forbidden
	// NotFound means the thing does not exist, or is not the caller's to see.
	NotFound
	// Conflict means the request contradicts the current state.
	Conflict
	// Gone means the thing existed but can no longer be reached.
	Gone
	// PreconditionFailed means a condition the caller stated (If-Match) no longer holds.
	PreconditionFailed
	// PaymentRequired means the plan does not allow this.
	PaymentRequired
	// TooLarge means the request or its content exceeds a limit.
	TooLarge
	// TooManyRequests means the caller must wait before trying again.
	TooManyRequests
	// Unavailable means the service cannot do this now (not configured, a provider is down).
	Unavailable
	// BadGateway means a service this one depends on answered wrongly.
	BadGateway
)

var kindNames = [...]string{"internal", "malformed", "invalid", "unauthenticated", "forbidden", "not_found",
	"conflict", "gone", "precondition_failed", "payment_required", "too_large", "too_many_requests",
	"unavailable", "bad_gateway"}

// Kinds lists every kind, for tables that must cover them all.
func Kinds() []Kind {
	ks := make([]Kind, len(kindNames))
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Error is a domain error with a kind, a stable code and a sentence for people. Declared values are
// sentinels: errors.Is compares them by identity, through any fmt.Errorf("...: %w") wrapping.
type Error struct {
	// Kind is what sort of refusal this is.
	Kind Kind
	// Code is the stable, machine-readable reason, such as "last_owner".
	Code string
	// Detail is the human explanation sent to the client; it may change.
	Detail string
	// RetryAfter, when positive, tells the caller how long to wait.
	RetryAfter time.Duration
}

// New declares an error of kind with its stable code and the detail shown to the client.
func New(kind Kind, code, detail string) *Error {
	return &Error{Kind: kind, Code: code, Detail: detail}
}

// Error returns the detail, prefixed by the code, so logs name the code clients saw.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Code
	}
	return e.Code + ": " + e.Detail
}

// WithRetryAfter returns a copy of e that tells the caller to wait d. The copy still matches e under
// errors.Is.
func (e *Error) WithRetryAfter(d time.Duration) error {
	c := *e
	c.RetryAfter = d
	return &retry{copy: &c, base: e}
}

// retry is a copy of a sentinel with its own RetryAfter; Is keeps it equal to the sentinel it copies.
type retry struct {
	copy, base *Error
}

func (r *retry) Error() string        { return r.copy.Error() }
func (r *retry) Is(target error) bool { return target == r.base }
func (r *retry) Unwrap() error        { return r.copy }

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
