// Package httpx is the HTTP edge every function shares: JSON decoding with limits, RFC 9457 problem+json
// errors with stable codes, request ids, panic recovery, access logs and bearer-token authentication.
//
// Domain code returns *fault.Error sentinels (db.ErrNotFound, members.ErrLastOwner, ...), each declaring its
// kind and stable code; only this package turns kinds into status codes (Status).
package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/coditect/hyperscale/shared/fault"
	"github.com/coditect/hyperscale/shared/valid"
)

// Problem is an RFC 9457 problem detail. Code is the stable, machine-readable reason clients switch on; Title
// and Detail are for people and may change.
type Problem struct {
	Type   string             `json:"type"`
	Title  string             `json:"title"`
	Status int                `json:"status"`
	Code   string             `json:"code"`
	Detail string             `json:"detail,omitempty"`
	Errors []valid.FieldError `json:"errors,omitempty"`

	header http.Header
}

// Error makes a Problem usable as an error, so domain code can return one through ordinary error paths.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Code + ": " + p.Detail
	}
	return p.Code
}

// NewProblem returns a problem with the standard title of status.
func NewProblem(status int, code, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

// WithHeader returns p with a response header to send alongside it (WWW-Authenticate, Allow, Retry-After).
func (p *Problem) WithHeader(key, value string) *Problem {
	if p.header == nil {
		p.header = http.Header{}
	}
	p.header.Add(key, value)
	return p
}

// Invalid returns the 422 problem for a request whose fields failed validation. Its code is
// validation_failed, or the failures' own Code when they all share one (invalid_cursor), so that a client can
// tell "start the list again" from "fix the request".
func Invalid(fields ...valid.FieldError) *Problem {
	p := NewProblem(http.StatusUnprocessableEntity, "validation_failed", "the request has invalid fields")
	p.Errors = fields
	if len(fields) > 0 && fields[0].Code != "" {
		shared := true
		for _, f := range fields[1:] {
			shared = shared && f.Code == fields[0].Code
		}
		if shared {
			p.Code = fields[0].Code
		}
	}
	return p
}

// Common problems.
var (
	errNotFound     = NewProblem(http.StatusNotFound, "not_found", "the resource does not exist")
	errInternal     = NewProblem(http.StatusInternalServerError, "internal", "an unexpected error occurred; it has been logged")
	errUnauthorized = NewProblem(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
)

// ErrUnauthenticated refuses a request that reached a handler without the principal authentication leaves.
var ErrUnauthenticated = fault.New(fault.Unauthenticated, "unauthenticated", "a valid bearer token is required")

// NotFound returns the 404 problem. Resources of another tenant answer with it too, so ids leak nothing.
func NotFound() *Problem { return copyOf(errNotFound) }

func copyOf(p *Problem) *Problem {
	c := *p
	return &c
}

// statuses is the one table from a domain error's kind to its HTTP status.
var statuses = map[fault.Kind]int{
	fault.Internal:           http.StatusInternalServerError,
	fault.Malformed:          http.StatusBadRequest,
	fault.Invalid:            http.StatusUnprocessableEntity,
	fault.Unauthenticated:    http.StatusUnauthorized,
	fault.Forbidden:          http.StatusForbidden,
	fault.NotFound:           http.StatusNotFound,
	fault.Conflict:           http.StatusConflict,
	fault.Gone:               http.StatusGone,
	fault.PreconditionFailed: http.StatusPreconditionFailed,
	fault.PaymentRequired:    http.StatusPaymentRequired,
	fault.TooLarge:           http.StatusRequestEntityTooLarge,
	fault.TooManyRequests:    http.StatusTooManyRequests,
	fault.Unavailable:        http.StatusServiceUnavailable,
	fault.BadGateway:         http.StatusBadGateway,
}

// Status returns the HTTP status of errors of kind k; a kind missing from the table answers 500.
func Status(k fault.Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ProblemOf returns the problem a domain error stands for: its kind's status, its code and its detail, and
// Retry-After when it asks the caller to wait.
func ProblemOf(e *fault.Error) *Problem {
	p := NewProblem(Status(e.Kind), e.Code, e.Detail)
	if e.Kind == fault.Unauthenticated {
		// A refused credential is about this request alone: no cache may answer the next one with it.
		p.WithHeader("Cache-Control", "no-store")
	}
	if e.RetryAfter > 0 {
		p.WithHeader("Retry-After", strconv.FormatInt(max(int64((e.RetryAfter+999_999_999)/1_000_000_000), 1), 10))
	}
	return p
}

// WriteError answers r with the problem err stands for. Problems are sent as they are; throttling refusals
// (Throttled) become 429 with Retry-After; validation errors 422; domain errors (*fault.Error, which the data
// library's sentinels are too) their kind's status with their code and detail. Anything else, and a domain
// error of kind Internal, is logged with its cause and answered with a generic 500, so internals never reach
// the client.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		p         *Problem
		fields    valid.Errors
		throttled Throttled
		domain    *fault.Error
	)
	switch {
	case errors.As(err, &p):
	case errors.As(err, &throttled):
		p = TooManyAttempts(throttled.RetryAfterSeconds())
	case errors.As(err, &fields):
		p = Invalid(fields...)
	case errors.As(err, &domain) && domain.Kind != fault.Internal:
		p = ProblemOf(domain)
	default:
		Logger(r.Context()).ErrorContext(r.Context(), "request failed", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
		p = errInternal
	}
	WriteProblem(w, p)
}

// WriteProblem writes p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	for k, vs := range p.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Default().Error("encode response", "error", err)
	}
}
