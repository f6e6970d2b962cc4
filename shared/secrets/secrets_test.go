package secrets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/coditect/hyperscale/shared/secrets/secretstest"
)

const (
	dbPasswordName = "projects/p1/secrets/db-password/versions/3"
	dbPasswordRef  = Scheme + dbPasswordName
)

// newTestResolver returns a Resolver reaching a fresh fake server through the real client, and counters for the
// server's calls and the Resolver's client constructions.
func newTestResolver(t *testing.T) (r *Resolver, calls func() int, dials func() int) {
	t.Helper()
	addr, calls := secretstest.NewServer(t, map[string]string{dbPasswordName: "s3cr3t"})

	r, err := NewResolver(t.Context(), secretstest.ClientOptions(addr)...)
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	// Count constructions by wrapping this Resolver's own constructor, so that no package state is shared between
	// parallel tests.
	var n atomic.Int64
	build := r.newAccessor
	r.newAccessor = func(ctx context.Context) (Accessor, func() error, error) {
		n.Add(1)
		return build(ctx)
	}
	return r, calls, func() int { return int(n.Load()) }
}

func TestResolve(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name      string
		value     string
		times     int // resolutions of value in a row on one Resolver
		want      string
		wantErr   error      // matched with errors.Is when set
		wantCode  codes.Code // gRPC code of the error when not codes.OK
		wantCalls int
		wantDials int
	}{
		{name: "plain value passes through", value: "postgres://localhost/app", times: 1, want: "postgres://localhost/app"},
		{name: "empty value passes through", value: "", times: 1, want: ""},
		{name: "scheme lookalike passes through", value: "secrets://projects/p/secrets/s/versions/1", times: 1,
			want: "secrets://projects/p/secrets/s/versions/1"},
		{name: "reference resolved", value: dbPasswordRef, times: 1, want: "s3cr3t", wantCalls: 1, wantDials: 1},
		{name: "reference cached", value: dbPasswordRef, times: 3, want: "s3cr3t", wantCalls: 1, wantDials: 1},
		{name: "unknown secret", value: Scheme + "projects/p1/secrets/nope/versions/1", times: 1,
			wantCode: codes.NotFound, wantCalls: 1, wantDials: 1},
		{name: "errors not cached", value: Scheme + "projects/p1/secrets/nope/versions/1", times: 2,
			wantCode: codes.NotFound, wantCalls: 2, wantDials: 1},
		{name: "malformed bare name", value: "secret://foo", times: 1, wantErr: ErrMalformedReference},
		{name: "malformed missing version", value: Scheme + "projects/p1/secrets/db-password", times: 1,
			wantErr: ErrMalformedReference},
		{name: "malformed empty segment", value: Scheme + "projects//secrets/s/versions/1", times: 1,
			wantErr: ErrMalformedReference},
		{name: "malformed wrong collection", value: Scheme + "projects/p/keys/s/versions/1", times: 1,
			wantErr: ErrMalformedReference},
		{name: "malformed trailing slash", value: dbPasswordRef + "/", times: 1, wantErr: ErrMalformedReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, calls, dials := newTestResolver(t)

			for range tt.times {
				got, err := r.Resolve(t.Context(), tt.value)
				wantFail := tt.wantErr != nil || tt.wantCode != codes.OK
				switch {
				case !wantFail && err != nil:
					t.Fatalf("Resolve(%q) error: %v", tt.value, err)
				case wantFail && err == nil:
					t.Fatalf("Resolve(%q) = %q, want error", tt.value, got)
				case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
					t.Fatalf("Resolve(%q) error = %v, want %v", tt.value, err, tt.wantErr)
				case tt.wantCode != codes.OK && status.Code(err) != tt.wantCode:
					t.Fatalf("Resolve(%q) error code = %v, want %v (error: %v)", tt.value, status.Code(err), tt.wantCode, err)
				case wantFail && !strings.HasPrefix(err.Error(), "resolve secret "+tt.value+": "):
					t.Fatalf("Resolve(%q) error = %q, want it to name the reference", tt.value, err)
				case got != tt.want:
					t.Fatalf("Resolve(%q) = %q, want %q", tt.value, got, tt.want)
				}
			}

			if got := calls(); got != tt.wantCalls {
				t.Errorf("server calls = %d, want %d", got, tt.wantCalls)
			}
			if got := dials(); got != tt.wantDials {
				t.Errorf("clients created = %d, want %d", got, tt.wantDials)
			}
		})
	}
}

func TestMalformedErrorNamesShape(t *testing.T) {
	t.Parallel()
	r, _, _ := newTestResolver(t)

	_, err := r.Resolve(t.Context(), "secret://foo")
	if err == nil || !strings.Contains(err.Error(), "secret://projects/PROJECT/secrets/SECRET/versions/VERSION") {
		t.Fatalf("Resolve error = %v, want it to name the expected shape", err)
	}
}

func TestResolveAfterClose(t *testing.T) {
	t.Parallel()
	r, calls, _ := newTestResolver(t)

	if _, err := r.Resolve(t.Context(), dbPasswordRef); err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if _, err := r.Resolve(t.Context(), dbPasswordRef); !errors.Is(err, ErrClosed) {
		t.Errorf("Resolve after Close error = %v, want %v", err, ErrClosed)
	}
	if got, err := r.Resolve(t.Context(), "plain"); err != nil || got != "plain" {
		t.Errorf("Resolve(plain) after Close = %q, %v; want plain value", got, err)
	}
	if got := calls(); got != 1 {
		t.Errorf("server calls = %d, want 1", got)
	}
}

func TestResolveConcurrent(t *testing.T) {
	t.Parallel()
	r, _, dials := newTestResolver(t)

	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if got, err := r.Resolve(t.Context(), dbPasswordRef); err != nil || got != "s3cr3t" {
				t.Errorf("Resolve = %q, %v; want s3cr3t", got, err)
			}
		})
	}
	wg.Wait()

	if got := dials(); got != 1 {
		t.Errorf("clients created = %d, want 1", got)
	}
}

// corruptAccessor returns a payload whose checksum does not match its data.
type corruptAccessor struct{}

func (corruptAccessor) AccessSecretVersion(context.Context, *secretmanagerpb.AccessSecretVersionRequest, ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	sum := int64(1)
	return &secretmanagerpb.AccessSecretVersionResponse{
		Payload: &secretmanagerpb.SecretPayload{Data: []byte("s3cr3t"), DataCrc32C: &sum},
	}, nil
}

func TestResolveChecksumMismatch(t *testing.T) {
	t.Parallel()
	r := NewResolverWithAccessor(corruptAccessor{})

	if got, err := r.Resolve(t.Context(), dbPasswordRef); err == nil {
		t.Fatalf("Resolve = %q, want checksum error", got)
	}
}
