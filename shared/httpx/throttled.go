package httpx

import (
	"net/http"
	"strconv"
)

// Throttled is implemented by errors that refuse a request because too many were made (identity's
// ThrottledError); WriteError answers them with TooManyAttempts.
type Throttled interface {
	error
	// RetryAfterSeconds is how long the caller must wait, in whole seconds, at least one.
	RetryAfterSeconds() int64
}

// TooManyAttempts returns the 429 problem too_many_attempts with Retry-After in seconds. Its body is the same
// whoever and whatever the attempts were for, so it reveals nothing the caller did not send.
func TooManyAttempts(retryAfterSeconds int64) *Problem {
	return NewProblem(http.StatusTooManyRequests, "too_many_attempts", "too many attempts; retry after the number of seconds in Retry-After").
		WithHeader("Retry-After", strconv.FormatInt(max(retryAfterSeconds, 1), 10))
}
