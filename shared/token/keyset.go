package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// KeySet is the ordered set of ECDSA P-256 keys a service signs and verifies access tokens with.
//
// Every key is addressed by its kid, the RFC 7638 JWK thumbprint of its public part, so the kid follows from
// the key itself and cannot drift between the signer, the verifiers and the published JWKS. A KeySet is
// immutable once built and safe for concurrent use.
//
// A verify-only key may be retired (see ParseKeySet): once the set's rotation grace has passed since its
// retirement, tokens it signed are refused and the JWKS no longer lists it.
type KeySet struct {
	keys   []key
	byKID  map[string]int
	signer int // index into keys of the signing key, or -1 when the set can only verify
	grace  time.Duration
}

// key is one entry of a KeySet; priv is nil for a verify-only key, and retiredAt is zero for a key in service.
type key struct {
	kid       string
	pub       *ecdsa.PublicKey
	priv      *ecdsa.PrivateKey
	retiredAt time.Time
}

// RetiredAtHeader is the PEM header that marks a verify-only key as retired, with an RFC 3339 time as value.
const RetiredAtHeader = "Retired-At"

// DefaultRotationGrace is how long a retired key keeps verifying after its retirement when the set was built
// by ParseKeySet: the default access-token lifetime, so no token the key signed before it retired is cut short.
const DefaultRotationGrace = 15 * time.Minute

// active reports whether k still verifies tokens at now under grace.
func (k key) active(now time.Time, grace time.Duration) bool {
	return k.retiredAt.IsZero() || !now.After(k.retiredAt.Add(grace))
}

// JWKS is a JSON Web Key Set (RFC 7517) as served at /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK is the public half of one P-256 signing key in JSON Web Key form; it never carries the private scalar.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// ParseKeySet builds a KeySet from PEM text.
//
// privatePEM holds zero or more "EC PRIVATE KEY" (SEC 1) or "PRIVATE KEY" (PKCS #8) blocks; publicPEM holds
// zero or more "PUBLIC KEY" (PKIX) blocks for keys this service only verifies with, such as a retired signing
// key kept through a grace period or the keys of the issuing service. The last private key is the signing key,
// so a key is rotated by appending a new one to privatePEM, and the old one is removed (or moved to publicPEM)
// once the tokens it signed have expired. Every key must be on P-256, and at least one key must be given.
//
// A public block may carry the header "Retired-At: <RFC 3339 time>" (RetiredAtHeader): from that time plus the
// set's rotation grace (DefaultRotationGrace here; see WithRotationGrace) on, tokens signed by the key are
// refused and JWKSAt leaves it out. Private keys cannot be retired, since the set signs with them, and neither
// can a public block that repeats a private key; any other header is refused, so a misspelt one fails loudly.
//
// Text whose only line breaks are literal `\n` escapes, as PEM often arrives through a one-line environment
// variable, is accepted too.
func ParseKeySet(privatePEM, publicPEM string) (*KeySet, error) {
	ks := &KeySet{byKID: map[string]int{}, signer: -1, grace: DefaultRotationGrace}
	privs, err := decodePEM(privatePEM, parsePrivateBlock)
	if err != nil {
		return nil, fmt.Errorf("parse private keys: %w", err)
	}
	pubs, err := decodePEM(publicPEM, parsePublicBlock)
	if err != nil {
		return nil, fmt.Errorf("parse public keys: %w", err)
	}
	for _, k := range privs {
		if err := ks.add(k); err != nil {
			return nil, fmt.Errorf("parse private keys: %w", err)
		}
		ks.signer = ks.byKID[k.kid]
	}
	for _, k := range pubs {
		if err := ks.add(k); err != nil {
			return nil, fmt.Errorf("parse public keys: %w", err)
		}
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("no signing or verification keys configured")
	}
	return ks, nil
}

// GenerateKeySet returns a KeySet holding one freshly generated signing key. It is meant for local
// development: tokens it signs do not survive a restart and no other process can verify them.
func GenerateKeySet() (*KeySet, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate P-256 key: %w", err)
	}
	k, err := newKey(&priv.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	ks := &KeySet{byKID: map[string]int{}, signer: -1, grace: DefaultRotationGrace}
	if err := ks.add(k); err != nil {
		return nil, err
	}
	ks.signer = 0
	return ks, nil
}

// WithRotationGrace returns a copy of ks whose retired keys keep verifying for grace after their Retired-At.
// A negative grace counts as zero.
func (ks *KeySet) WithRotationGrace(grace time.Duration) *KeySet {
	c := *ks
	c.grace = max(grace, 0)
	return &c
}

// EncodePrivatePEM encodes a P-256 private key as a PKCS #8 "PRIVATE KEY" PEM block, the form ParseKeySet
// and Config.SigningKeys accept.
func EncodePrivatePEM(priv *ecdsa.PrivateKey) (string, error) {
	if priv == nil || priv.Curve != elliptic.P256() {
		return "", errors.New("encode private key: not a P-256 key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// EncodePublicPEM encodes a P-256 public key as a PKIX "PUBLIC KEY" PEM block, the form ParseKeySet and
// Config.PublicKeys accept.
func EncodePublicPEM(pub *ecdsa.PublicKey) (string, error) {
	return encodePublic(pub, nil)
}

// EncodeRetiredPEM encodes a P-256 public key as a "PUBLIC KEY" PEM block carrying the Retired-At header, the
// form a signing key takes in Config.PublicKeys when it is rotated out.
func EncodeRetiredPEM(pub *ecdsa.PublicKey, retiredAt time.Time) (string, error) {
	if retiredAt.IsZero() {
		return "", errors.New("encode retired key: no retirement time")
	}
	return encodePublic(pub, map[string]string{RetiredAtHeader: retiredAt.UTC().Format(time.RFC3339)})
}

func encodePublic(pub *ecdsa.PublicKey, headers map[string]string) (string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", errors.New("encode public key: not a P-256 key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Headers: headers, Bytes: der})), nil
}

// CanSign reports whether the set holds a private key, that is whether an Issuer built on it can mint tokens.
func (ks *KeySet) CanSign() bool {
	return ks != nil && ks.signer >= 0
}

// JWKS returns JWKSAt the current time.
func (ks *KeySet) JWKS() JWKS {
	return ks.JWKSAt(time.Now())
}

// JWKSAt returns, for publication, the public halves of every key in the set that still verifies at now (a
// retired key is listed until its grace period ends), in the set's order.
func (ks *KeySet) JWKSAt(now time.Time) JWKS {
	out := JWKS{Keys: []JWK{}}
	if ks == nil {
		return out
	}
	for _, k := range ks.keys {
		if !k.active(now, ks.grace) {
			continue
		}
		// newKey already proved the key encodes, so the error cannot happen here.
		x, y, _ := coordinates(k.pub)
		out.Keys = append(out.Keys, JWK{
			Kty: "EC",
			Crv: "P-256",
			X:   base64.RawURLEncoding.EncodeToString(x),
			Y:   base64.RawURLEncoding.EncodeToString(y),
			Kid: k.kid,
			Use: "sig",
			Alg: "ES256",
		})
	}
	return out
}

// signingKey returns the key new tokens are signed with.
func (ks *KeySet) signingKey() (key, bool) {
	if !ks.CanSign() {
		return key{}, false
	}
	return ks.keys[ks.signer], true
}

// errRetired is lookup's answer for a key whose grace period is over.
var errRetired = errors.New("key retired")

// lookup returns the public key with the given kid, if it still verifies at now.
func (ks *KeySet) lookup(kid string, now time.Time) (*ecdsa.PublicKey, error) {
	if ks == nil {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	i, ok := ks.byKID[kid]
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	k := ks.keys[i]
	if !k.active(now, ks.grace) {
		return nil, fmt.Errorf("%w: kid %q retired at %s, grace %s", errRetired, kid, k.retiredAt.Format(time.RFC3339), ks.grace)
	}
	return k.pub, nil
}

// add appends k unless the set already holds the same key, in which case a private half is kept, so listing
// a signing key's public half in publicPEM as well is harmless, and the earlier retirement wins. A key that is
// both private and retired is refused.
func (ks *KeySet) add(k key) error {
	i, ok := ks.byKID[k.kid]
	if !ok {
		if k.priv != nil && !k.retiredAt.IsZero() {
			return fmt.Errorf("key %s: a private (signing) key cannot be retired", k.kid)
		}
		ks.byKID[k.kid] = len(ks.keys)
		ks.keys = append(ks.keys, k)
		return nil
	}
	cur := &ks.keys[i]
	if cur.priv == nil {
		cur.priv = k.priv
	}
	if !k.retiredAt.IsZero() && (cur.retiredAt.IsZero() || k.retiredAt.Before(cur.retiredAt)) {
		cur.retiredAt = k.retiredAt
	}
	if cur.priv != nil && !cur.retiredAt.IsZero() {
		return fmt.Errorf("key %s is a private (signing) key and cannot be retired: remove it from the private keys first", k.kid)
	}
	return nil
}

func newKey(pub *ecdsa.PublicKey, priv *ecdsa.PrivateKey) (key, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return key{}, errors.New("key is not on curve P-256")
	}
	kid, err := Thumbprint(pub)
	if err != nil {
		return key{}, err
	}
	return key{kid: kid, pub: pub, priv: priv}, nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of a P-256 public key: the unpadded base64url SHA-256 of
// its canonical JWK members {"crv","kty","x","y"}. It is the kid of the key.
func Thumbprint(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", errors.New("thumbprint: key is not on curve P-256")
	}
	x, y, err := coordinates(pub)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	// The members are fixed and base64url needs no JSON escaping, so the canonical form is a plain template.
	canonical := `{"crv":"P-256","kty":"EC","x":"` + base64.RawURLEncoding.EncodeToString(x) +
		`","y":"` + base64.RawURLEncoding.EncodeToString(y) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// coordinates returns the fixed-width (32-byte) big-endian x and y of a P-256 point, the widths RFC 7518
// requires in a JWK.
func coordinates(pub *ecdsa.PublicKey) (x, y []byte, err error) {
	b, err := pub.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	if len(b) != 65 || b[0] != 4 {
		return nil, nil, errors.New("encode public key: unexpected point encoding")
	}
	return b[1:33], b[33:65], nil
}

// decodePEM parses every PEM block in text with parse, refusing text that is not PEM at all, so a truncated
// or mangled secret fails at start-up instead of silently dropping a key.
func decodePEM(text string, parse func(*pem.Block) (key, error)) ([]key, error) {
	text = strings.TrimSpace(text)
	if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
		text = strings.ReplaceAll(text, `\n`, "\n")
	}
	rest := []byte(text)
	var keys []key
	for len(strings.TrimSpace(string(rest))) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("text that is not a PEM block")
		}
		k, err := parse(block)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", len(keys)+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func parsePrivateBlock(block *pem.Block) (key, error) {
	if _, ok := block.Headers[RetiredAtHeader]; ok {
		return key{}, errors.New("a private (signing) key cannot be retired: move its public half to the public keys with Retired-At")
	}
	if len(block.Headers) > 0 {
		return key{}, errors.New("private key blocks take no PEM headers (encrypted keys are not supported)")
	}
	var priv *ecdsa.PrivateKey
	switch block.Type {
	case "EC PRIVATE KEY":
		p, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return key{}, fmt.Errorf("parse EC private key: %w", err)
		}
		priv = p
	case "PRIVATE KEY":
		p, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return key{}, fmt.Errorf("parse PKCS #8 private key: %w", err)
		}
		ec, ok := p.(*ecdsa.PrivateKey)
		if !ok {
			return key{}, fmt.Errorf("private key is %T, want ECDSA P-256", p)
		}
		priv = ec
	default:
		return key{}, fmt.Errorf("PEM block type %q, want EC PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	return newKey(&priv.PublicKey, priv)
}

func parsePublicBlock(block *pem.Block) (key, error) {
	if block.Type != "PUBLIC KEY" {
		return key{}, fmt.Errorf("PEM block type %q, want PUBLIC KEY", block.Type)
	}
	p, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return key{}, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := p.(*ecdsa.PublicKey)
	if !ok {
		return key{}, fmt.Errorf("public key is %T, want ECDSA P-256", p)
	}
	var retiredAt time.Time
	for name, value := range block.Headers {
		if name != RetiredAtHeader {
			return key{}, fmt.Errorf("unknown PEM header %q (only %s is understood)", name, RetiredAtHeader)
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(value))
		if err != nil {
			return key{}, fmt.Errorf("%s %q is not an RFC 3339 time", RetiredAtHeader, value)
		}
		retiredAt = t
	}
	k, err := newKey(pub, nil)
	k.retiredAt = retiredAt
	return k, err
}
