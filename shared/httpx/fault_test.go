package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/fault"
)

// TestKindStatuses walks every kind: each has exactly the status the API documents, so a kind added to
// fault without its row here fails.
func TestKindStatuses(t *testing.T) {
	t.Parallel()
	want := map[fault.Kind]int{
		fault.Internal:           500,
		fault.Malformed:          400,
		fault.Invalid:            422,
		fault.Unauthenticated:    401,
		fault.Forbidden:          403,
		fault.NotFound:           404,
		fault.Conflict:           409,
		fault.Gone:               410,
		fault.PreconditionFailed: 412,
		fault.PaymentRequired:    402,
		fault.TooLarge:           413,
		fault.TooManyRequests:    429,
		fault.Unavailable:        503,
		fault.BadGateway:         502,
	}
	for _, k := range fault.Kinds() {
		w, ok := want[k]
		if !ok {
			t.Errorf("kind %v has no expected status in this test", k)
			continue
		}
		if _, ok := statuses[k]; !ok {
			t.Errorf("kind %v is missing from the status table", k)
		}
		if got := Status(k); got != w {
			t.Errorf("Status(%v) = %d, want %d", k, got, w)
		}
	}
	if len(want) != len(fault.Kinds()) {
		t.Errorf("the test lists %d kinds, fault has %d", len(want), len(fault.Kinds()))
	}
	if got := Status(fault.Kind(99)); got != 500 {
		t.Errorf("unknown kind answers %d, want 500", got)
	}
}

var errSample = fault.New(fault.Gone, "sample_gone", "the sample went away")

// TestWriteErrorAnswersDomainErrors checks the body of a domain error: its kind's status, its own code and
// detail, Retry-After and no-store where they apply, and a generic 500 for the kind Internal.
func TestWriteErrorAnswersDomainErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		err                error
		status             int
		code, detail       string
		retryAfter, nostor string
	}{
		{"declared", errSample, 410, "sample_gone", "the sample went away", "", ""},
		{"wrapped", fmt.Errorf("restore %d: %w", 7, errSample), 410, "sample_gone", "the sample went away", "", ""},
		{"data library", fmt.Errorf("load: %w", db.Classify(fmt.Errorf("x: %w", db.ErrNotFound))), 404, "not_found", "the resource does not exist", "", ""},
		{"retry after rounds up", fault.New(fault.TooManyRequests, "slow_down", "wait").WithRetryAfter(1500 * time.Millisecond), 429, "slow_down", "wait", "2", ""},
		{"unauthenticated is not cached", fault.New(fault.Unauthenticated, "bad_key", "no"), 401, "bad_key", "no", "", "no-store"},
		{"internal stays internal", fault.New(fault.Internal, "secret_state", "the key is hunter2"), 500, "internal", "an unexpected error occurred; it has been logged", "", ""},
		{"problem wins over its cause", fmt.Errorf("%w: %w", NewProblem(http.StatusConflict, "slug_taken", "x"), errSample), 409, "slug_taken", "x", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest(http.MethodGet, "/x", nil), tc.err)
			var body Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.status || body.Status != tc.status || body.Code != tc.code || body.Detail != tc.detail {
				t.Errorf("got %d %+v, want %d %s %q", rec.Code, body, tc.status, tc.code, tc.detail)
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.nostor {
				t.Errorf("Cache-Control = %q, want %q", got, tc.nostor)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Errorf("internal detail leaked: %s", rec.Body.String())
			}
		})
	}
	if !errors.Is(fmt.Errorf("x: %w", errSample), errSample) {
		t.Error("a wrapped domain error no longer matches its sentinel")
	}
}
