package page

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/coditect/hyperscale/shared/valid"
)

// CodeInvalidCursor is the stable problem code of a cursor that does not open.
const CodeInvalidCursor = "invalid_cursor"

// InvalidCursor is the failure of a cursor parameter that this list did not issue: forged, changed, or issued
// by another list or for other filters or ordering. Its Code makes the problem's code invalid_cursor.
func InvalidCursor() valid.FieldError {
	return valid.FieldError{Field: "cursor", Code: CodeInvalidCursor,
		Message: "is not a cursor this list issued for these filters and this ordering; start again without a cursor"}
}

// MinKeyBytes is the shortest cursor key accepted: an HMAC-SHA256 key shorter than its output weakens it.
const MinKeyBytes = 32

// Config is the cursor part of a function's configuration, read with go-envconfig.
type Config struct {
	// Key signs cursors: base64 of at least MinKeyBytes random bytes (`openssl rand -base64 32`), the same on
	// every instance of every function (a cursor issued by one instance is followed on another), a secret://
	// reference outside local development. It is written like SSO_STATE_KEY.
	Key string `env:"CURSOR_KEY"`
}

// Validate reports a key that is set but not base64 of at least MinKeyBytes bytes. An unset key is checked by
// Cursors, which knows whether the process runs locally.
func (c Config) Validate() error {
	if c.Key == "" {
		return nil
	}
	if _, err := ParseKey(c.Key); err != nil {
		return fmt.Errorf("CURSOR_KEY: %w", err)
	}
	return nil
}

// ParseKey decodes a cursor key from standard or URL-safe base64, padded or not, and refuses one shorter than
// MinKeyBytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) < MinKeyBytes {
				return nil, fmt.Errorf("the key is %d bytes, want at least %d", len(b), MinKeyBytes)
			}
			return b, nil
		}
	}
	return nil, errors.New("the key is not base64")
}

// Cursors returns the configured signer. With no key, a local run (local true) gets a random one and a warning
// on log, since its cursors will not survive a restart; anywhere else that is an error, because each instance
// would refuse the others' cursors.
func (c Config) Cursors(local bool, log *slog.Logger) (*Cursors, error) {
	if c.Key != "" {
		key, err := ParseKey(c.Key)
		if err != nil {
			return nil, fmt.Errorf("CURSOR_KEY: %w", err)
		}
		return NewCursors(key), nil
	}
	if !local {
		return nil, errors.New("cursor key: CURSOR_KEY is not set")
	}
	if log == nil {
		log = slog.Default()
	}
	log.Warn("no cursor key configured: generated an ephemeral one; list cursors will not survive a restart")
	return RandomCursors(), nil
}

// Cursors signs the cursors a list issues and opens those a client sends back. A cursor is
// base64url(payload) "." base64url(HMAC-SHA256(key, scope, payload)): the payload stays readable JSON for
// debugging, but any change to it, or use under another scope, fails the MAC. The scope is not in the cursor;
// the list that opens it recomputes its own.
//
// A nil *Cursors signs with a key drawn once per process: lists built without one (tests that make a Request
// by hand) still page, and their cursors open nowhere else.
type Cursors struct {
	key []byte
}

// NewCursors returns a signer over key, which should be at least MinKeyBytes long (Config.Validate checks it).
func NewCursors(key []byte) *Cursors {
	if len(key) == 0 {
		panic("page: empty cursor key")
	}
	return &Cursors{key: append([]byte(nil), key...)}
}

// RandomCursors returns a signer over a fresh random key, for a local run without CURSOR_KEY.
func RandomCursors() *Cursors {
	key := make([]byte, MinKeyBytes)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	return &Cursors{key: key}
}

var processCursors = RandomCursors()

func (c *Cursors) signer() *Cursors {
	if c == nil {
		return processCursors
	}
	return c
}

// mac is the signature of payload under scope. The lengths keep the two apart: no scope and payload pair can
// be shifted into another.
func (c *Cursors) mac(scope string, payload []byte) []byte {
	m := hmac.New(sha256.New, c.signer().key)
	fmt.Fprintf(m, "hyperscale cursor v1\n%d:%s\n%d:", len(scope), scope, len(payload))
	m.Write(payload)
	return m.Sum(nil)
}

// Seal returns the cursor holding v (encoded as JSON) for the list scope.
func (c *Cursors) Seal(scope string, v any) string {
	payload := mustJSON(v)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(c.mac(scope, payload))
}

// Open decodes the cursor s into v when c signed it for scope, and reports whether it did. v is left alone
// otherwise. The payload is decoded strictly (no unknown members), so a cursor of another list's shape, even
// correctly signed, does not half-decode.
func (c *Cursors) Open(scope, s string, v any) bool {
	p, sig, ok := strings.Cut(s, ".")
	if !ok {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, c.mac(scope, payload)) {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}

// Scope names one list for its cursors: the endpoint (method and route pattern, with the ids of its path, such
// as "GET /v1/projects/0190…/tasks") and the filters and ordering that shape its rows, in their normalised
// form. Parameters are encoded sorted, so their order in the request does not matter; limit and cursor never
// belong in a scope.
func Scope(endpoint string, params url.Values) string {
	if len(params) == 0 {
		return endpoint
	}
	return endpoint + "?" + params.Encode()
}
