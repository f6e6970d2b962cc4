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
)

// KeySet is the ordered set of ECDSA P-256 keys a service signs and verifies access tokens with.
//
// Every key is addressed by its kid, the RFC 7638 JWK thumbprint of its public part, so the kid follows from
// the key itself and cannot drift between the signer, the verifiers and the published JWKS. A KeySet is
// immutable once built and safe for concurrent use.
type KeySet struct {
	keys   []key
	byKID  map[string]int
	signer int // index into keys of the signing key, or -1 when the set can only verify
}

// key is one entry of a KeySet; priv is nil for a verify-only key.
type key struct {
	kid  string
	pub  *ecdsa.PublicKey
	priv *ecdsa.PrivateKey
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
// Text whose only line breaks are literal `\n` escapes, as PEM often arrives through a one-line environment
// variable, is accepted too.
func ParseKeySet(privatePEM, publicPEM string) (*KeySet, error) {
	ks := &KeySet{byKID: map[string]int{}, signer: -1}
	privs, err := decodePEM(privatePEM, parsePrivateBlock)
	if err != nil {
		return nil, fmt.Errorf("parse private keys: %w", err)
	}
	pubs, err := decodePEM(publicPEM, parsePublicBlock)
	if err != nil {
		return nil, fmt.Errorf("parse public keys: %w", err)
	}
	for _, k := range privs {
		ks.add(k)
		ks.signer = ks.byKID[k.kid]
	}
	for _, k := range pubs {
		ks.add(k)
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
	ks := &KeySet{byKID: map[string]int{}, signer: -1}
	ks.add(k)
	ks.signer = 0
	return ks, nil
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
	if pub == nil || pub.Curve != elliptic.P256() {
		return "", errors.New("encode public key: not a P-256 key")
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// CanSign reports whether the set holds a private key, that is whether an Issuer built on it can mint tokens.
func (ks *KeySet) CanSign() bool {
	return ks != nil && ks.signer >= 0
}

// JWKS returns the public halves of every key in the set, in the set's order, for publication.
func (ks *KeySet) JWKS() JWKS {
	out := JWKS{Keys: []JWK{}}
	if ks == nil {
		return out
	}
	for _, k := range ks.keys {
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

// lookup returns the public key with the given kid.
func (ks *KeySet) lookup(kid string) (*ecdsa.PublicKey, bool) {
	if ks == nil {
		return nil, false
	}
	i, ok := ks.byKID[kid]
	if !ok {
		return nil, false
	}
	return ks.keys[i].pub, true
}

// add appends k unless the set already holds the same key, in which case a private half is kept, so listing
// a signing key's public half in publicPEM as well is harmless.
func (ks *KeySet) add(k key) {
	if i, ok := ks.byKID[k.kid]; ok {
		if ks.keys[i].priv == nil {
			ks.keys[i].priv = k.priv
		}
		return
	}
	ks.byKID[k.kid] = len(ks.keys)
	ks.keys = append(ks.keys, k)
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
	return newKey(pub, nil)
}
