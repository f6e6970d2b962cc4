// Package secrets resolves Secret Manager references in configuration values.
//
// A value of the form secret://projects/P/secrets/S/versions/V is a reference and is replaced by the payload of
// that secret version; any other value is returned unchanged, which is how plain values work in local development.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
)

// Scheme is the prefix that marks a value as a Secret Manager reference.
const Scheme = "secret://"

// ErrMalformedReference is returned (wrapped) for a value that starts with Scheme but does not name a secret
// version as projects/P/secrets/S/versions/V.
var ErrMalformedReference = errors.New("malformed secret reference, want secret://projects/PROJECT/secrets/SECRET/versions/VERSION")

// ErrClosed is returned (wrapped) when a reference is resolved after Close.
var ErrClosed = errors.New("secret resolver is closed")

// errChecksum is returned (wrapped) when a payload does not match the checksum sent with it.
var errChecksum = errors.New("payload checksum mismatch")

// castagnoli is the CRC32C table Secret Manager uses for payload checksums.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Accessor is the part of the Secret Manager client that a Resolver uses; *secretmanager.Client implements it.
type Accessor interface {
	// AccessSecretVersion returns the payload of the named secret version.
	AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest, opts ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error)
}

// Resolver resolves secret references, caching each resolved value for the life of the Resolver. It is safe for
// concurrent use.
type Resolver struct {
	// newAccessor builds the accessor on the first reference; nil when the accessor was supplied by the caller.
	newAccessor func(ctx context.Context) (Accessor, func() error, error)

	mu       sync.Mutex
	accessor Accessor
	close    func() error // closes an accessor this Resolver created; nil otherwise
	closed   bool
	cache    map[string]string
}

// NewResolver returns a Resolver backed by a Secret Manager client built with opts.
//
// The client is created lazily, on the first Resolve of a reference, so that a process whose configuration holds
// only plain values never needs Google credentials or a connection. If creating the client fails, the error is
// returned from that Resolve and creation is retried on the next one rather than remembered, because the cause
// (for example credentials not yet available) may be transient. ctx is accepted for symmetry with
// secretmanager.NewClient; the client itself is created from the context of the Resolve that first needs it.
func NewResolver(ctx context.Context, opts ...option.ClientOption) (*Resolver, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("new secret resolver: %w", err)
	}
	return &Resolver{
		newAccessor: func(ctx context.Context) (Accessor, func() error, error) {
			c, err := secretmanager.NewClient(ctx, opts...)
			if err != nil {
				return nil, nil, err
			}
			return c, c.Close, nil
		},
		cache: make(map[string]string),
	}, nil
}

// NewResolverWithAccessor returns a Resolver that reads secrets through a, which must not be nil and which the
// caller keeps ownership of: Close does not close it. It is meant for callers that already hold a Secret Manager
// client or need a different implementation.
func NewResolverWithAccessor(a Accessor) *Resolver {
	return &Resolver{accessor: a, cache: make(map[string]string)}
}

// IsReference reports whether value is a secret reference, well-formed or not.
func IsReference(value string) bool {
	return strings.HasPrefix(value, Scheme)
}

// Resolve returns the payload of the secret version that value refers to, or value itself when it is not a
// reference. Each reference is fetched at most once per Resolver while it succeeds; errors are not cached.
func (r *Resolver) Resolve(ctx context.Context, value string) (string, error) {
	if !IsReference(value) {
		return value, nil
	}

	name, err := parse(value)
	if err != nil {
		return "", fmt.Errorf("resolve secret %s: %w", value, err)
	}

	accessor, cached, ok, err := r.lookup(ctx, value)
	if err != nil {
		return "", fmt.Errorf("resolve secret %s: %w", value, err)
	}
	if ok {
		return cached, nil
	}

	// The RPC runs outside the lock so that a slow secret does not hold up others; two concurrent first lookups of
	// the same reference may both fetch it, which is harmless.
	resp, err := accessor.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: name})
	if err != nil {
		return "", fmt.Errorf("resolve secret %s: %w", value, err)
	}
	payload := resp.GetPayload()
	data := payload.GetData()
	// The checksum guards against corruption in transit; the service always sends it, but older fakes may not.
	if payload.DataCrc32C != nil && int64(crc32.Checksum(data, castagnoli)) != payload.GetDataCrc32C() {
		return "", fmt.Errorf("resolve secret %s: %w", value, errChecksum)
	}

	r.mu.Lock()
	if !r.closed {
		r.cache[value] = string(data)
	}
	r.mu.Unlock()
	return string(data), nil
}

// Close releases the Secret Manager client if the Resolver created one. Resolving a reference after Close is an
// error; plain values still pass through. Close is idempotent.
func (r *Resolver) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()

	if r.closed {
		return nil
	}
	r.closed = true
	r.accessor = nil
	clear(r.cache)
	if r.close == nil {
		return nil
	}
	if err := r.close(); err != nil {
		return fmt.Errorf("close secret resolver: %w", err)
	}
	return nil
}

// lookup returns the cached value of ref if there is one, and otherwise the accessor to fetch it with, creating
// the client on first use. The lock is held while the client is created so that concurrent first lookups share one
// client instead of each dialing their own.
func (r *Resolver) lookup(ctx context.Context, ref string) (a Accessor, cached string, ok bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	if r.closed {
		return nil, "", false, ErrClosed
	}
	if v, ok := r.cache[ref]; ok {
		return nil, v, true, nil
	}
	if r.accessor != nil {
		return r.accessor, "", false, nil
	}

	// The client outlives the Resolve call that happens to create it, so it must not inherit that call's
	// cancellation or deadline; its values (for example trace context) are kept.
	a, closeFn, err := r.newAccessor(context.WithoutCancel(ctx))
	if err != nil {
		return nil, "", false, fmt.Errorf("create secret manager client: %w", err)
	}
	r.accessor, r.close = a, closeFn
	return a, "", false, nil
}

// parse returns the resource name of a reference after checking that it names a secret version.
func parse(ref string) (string, error) {
	name := strings.TrimPrefix(ref, Scheme)
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "secrets" || parts[4] != "versions" {
		return "", ErrMalformedReference
	}
	for _, p := range parts {
		if p == "" {
			return "", ErrMalformedReference
		}
	}
	return name, nil
}
