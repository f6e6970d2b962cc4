package sso

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/coditect/hyperscale/shared/fault"
	"github.com/google/uuid"
)

// StateTTL is how long a sign-in may take between its start and the provider's redirect back.
const StateTTL = 10 * time.Minute

// maxStateLength bounds the state accepted back: the largest return URL plus the fixed fields, encoded.
const maxStateLength = 4096

// statePrefix versions the token format and separates its MAC from any other use of the key.
const statePrefix = "s1."

// ErrState means a state is malformed, not signed with this key, or expired.
var ErrState = fault.New(fault.Unauthenticated, "invalid_state", "the sign-in is unknown, expired or was started in another browser; start again")

// State is what a sign-in carries from its start to its callback, inside the OAuth state parameter. It is
// signed, not encrypted: everything in it is either public (the PKCE challenge is in the authorization URL
// anyway) or useless without the browser's verifier cookie.
type State struct {
	// ID names the browser cookie that holds the PKCE verifier of this sign-in.
	ID string `json:"i"`
	// TenantID is the organization the sign-in started for; the callback must be for the same one.
	TenantID uuid.UUID `json:"t"`
	// Nonce is sent to the provider and must come back in the ID token.
	Nonce string `json:"n"`
	// Challenge is the PKCE S256 challenge: the verifier the callback presents must hash to it.
	Challenge string `json:"c"`
	// ReturnTo is where the browser goes with its tokens; empty means answer the callback with JSON.
	ReturnTo string `json:"r,omitempty"`
	// Expires is the Unix time after which the state is refused.
	Expires int64 `json:"e"`
}

// StateSigner signs states with an HMAC-SHA256 key and opens them again. It is safe for concurrent use.
type StateSigner struct {
	key []byte
}

// NewStateSigner returns a signer over key, which must have at least MinStateKeyBytes bytes.
func NewStateSigner(key []byte) (*StateSigner, error) {
	if len(key) < MinStateKeyBytes {
		return nil, fmt.Errorf("state key has %d bytes, want at least %d", len(key), MinStateKeyBytes)
	}
	return &StateSigner{key: append([]byte(nil), key...)}, nil
}

// RandomStateSigner returns a signer over a fresh random key, for a single process (local runs and tests):
// another instance cannot open its states.
func RandomStateSigner() *StateSigner {
	key := make([]byte, MinStateKeyBytes)
	_, _ = rand.Read(key) // never fails
	return &StateSigner{key: key}
}

// Sign returns s as a compact token: "s1." + base64url(JSON) + "." + base64url(HMAC-SHA256("s1." + payload)).
func (g *StateSigner) Sign(s State) (string, error) {
	// HTML escaping would turn each & of a return URL into six bytes; the state is never put in HTML.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", fmt.Errorf("sign state: %w", err)
	}
	payload := statePrefix + base64.RawURLEncoding.EncodeToString(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return payload + "." + base64.RawURLEncoding.EncodeToString(g.mac(payload)), nil
}

// Open checks raw's signature and expiry at now and returns its state, or ErrState.
func (g *StateSigner) Open(raw string, now time.Time) (State, error) {
	if len(raw) > maxStateLength || !strings.HasPrefix(raw, statePrefix) {
		return State{}, ErrState
	}
	dot := strings.LastIndexByte(raw, '.')
	if dot <= len(statePrefix) {
		return State{}, ErrState
	}
	payload := raw[:dot]
	sig, err := base64.RawURLEncoding.DecodeString(raw[dot+1:])
	if err != nil || !hmac.Equal(sig, g.mac(payload)) {
		return State{}, ErrState
	}
	data, err := base64.RawURLEncoding.DecodeString(payload[len(statePrefix):])
	if err != nil {
		return State{}, ErrState
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil || s.ID == "" || s.TenantID == uuid.Nil || s.Nonce == "" || s.Challenge == "" {
		return State{}, ErrState
	}
	if now.Unix() >= s.Expires {
		return State{}, fmt.Errorf("%w: expired", ErrState)
	}
	return s, nil
}

func (g *StateSigner) mac(payload string) []byte {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// RandomToken returns n random bytes, base64url-encoded: state ids and nonces.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
