// Package httpx is the HTTP edge every function shares: JSON decoding with limits, RFC 9457 problem+json
// errors with stable codes, request ids, panic recovery, access logs and bearer-token authentication.
//
// Domain code returns sentinel errors (db.ErrNotFound, db.ErrConflict, ...) and *Problem values; only this
// package turns them into status codes.
package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/coditect/hyperscale/shared/db"
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
	errConflict     = NewProblem(http.StatusConflict, "conflict", "the resource conflicts with an existing one")
	errInternal     = NewProblem(http.StatusInternalServerError, "internal", "an unexpected error occurred; it has been logged")
	errUnauthorized = NewProblem(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required")
)

// NotFound returns the 404 problem. Resources of another tenant answer with it too, so ids leak nothing.
func NotFound() *Problem { return copyOf(errNotFound) }

// Conflict returns a 409 problem with its own code and detail.
func Conflict(code, detail string) *Problem { return NewProblem(http.StatusConflict, code, detail) }

func copyOf(p *Problem) *Problem {
	c := *p
	return &c
}

// WriteError answers r with the problem err stands for. Problems are sent as they are; throttling refusals
// (Throttled) become 429 with Retry-After; the data library's sentinels become 404 and 409; anything else is logged with its cause and answered with a generic 500, so
// internals never reach the client.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		p         *Problem
		fields    valid.Errors
		throttled Throttled
	)
	switch {
	case errors.As(err, &p):
	case errors.As(err, &throttled):
		p = TooManyAttempts(throttled.RetryAfterSeconds())
	case errors.As(err, &fields):
		p = Invalid(fields...)
	case errors.Is(err, db.ErrNotFound):
		p = errNotFound
	case errors.Is(err, db.ErrConflict):
		p = errConflict
	case errors.Is(err, db.ErrCheck), errors.Is(err, db.ErrForeignKey):
		// Validation should have caught it; the constraint still means the input was wrong, not the server.
		p = NewProblem(http.StatusUnprocessableEntity, "constraint_violation", "the request breaks a rule of the data model")
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
