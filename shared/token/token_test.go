package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "api.test"
	testTTL      = 15 * time.Minute
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func genKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func privPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	s, err := EncodePrivatePEM(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pubPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	s, err := EncodePublicPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustKeySet(t *testing.T, private, public string) *KeySet {
	t.Helper()
	ks, err := ParseKeySet(private, public)
	if err != nil {
		t.Fatalf("ParseKeySet: %v", err)
	}
	return ks
}

func kidOf(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	kid, err := Thumbprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return kid
}

func testPrincipal() Principal {
	return Principal{IdentityID: uuid.New(), TenantID: uuid.New(), Role: "admin"}
}

// testSessionID is the session every testSession names, so that validClaims can name it too.
var testSessionID = uuid.New()

func testSession() Session { return Session{ID: testSessionID, MembershipVersion: 7} }

// validClaims are the claims the Issuer would write for p at testNow.
func validClaims(p Principal) jwt.MapClaims {
	return jwt.MapClaims{
		"sid":  testSessionID.String(),
		"mv":   7,
		"iss":  testIssuer,
		"aud":  testAudience,
		"sub":  p.IdentityID.String(),
		"tid":  p.TenantID.String(),
		"role": p.Role,
		"iat":  testNow.Unix(),
		"nbf":  testNow.Unix(),
		"exp":  testNow.Add(testTTL).Unix(),
		"jti":  uuid.NewString(),
	}
}

// sign builds a token by hand so tests can forge what the Issuer never would.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return raw
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	k := genKey(t)
	ks := mustKeySet(t, privPEM(t, k), "")
	p := testPrincipal()

	now := testNow.Add(123 * time.Millisecond)
	raw, exp, err := NewIssuer(ks, testIssuer, testAudience, testTTL).Issue(p, testSession(), now)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if want := testNow.Add(testTTL); !exp.Equal(want) {
		t.Errorf("expiresAt = %v, want %v (truncated to the second)", exp, want)
	}

	got, err := NewVerifier(ks, testIssuer, testAudience).Verify(raw, now)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got != p {
		t.Errorf("Verify = %+v, want %+v", got, p)
	}
	if gp, gs, err := NewVerifier(ks, testIssuer, testAudience).VerifySession(raw, now); err != nil || gp != p || gs != testSession() {
		t.Errorf("VerifySession = %+v, %+v, %v; want %+v, %+v", gp, gs, err, p, testSession())
	}

	// A verify-only set holding just the public half accepts the same token.
	pubOnly := mustKeySet(t, "", pubPEM(t, k))
	if got, err := NewVerifier(pubOnly, testIssuer, testAudience).Verify(raw, now); err != nil || got != p {
		t.Errorf("verify with public key only = %+v, %v", got, err)
	}

	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["alg"] != "ES256" || tok.Header["kid"] != kidOf(t, k) {
		t.Errorf("header = %v, want alg ES256 and kid %s", tok.Header, kidOf(t, k))
	}
	c := tok.Claims.(jwt.MapClaims)
	for _, name := range []string{"iss", "aud", "sub", "tid", "role", "sid", "mv", "iat", "nbf", "exp", "jti"} {
		if _, ok := c[name]; !ok {
			t.Errorf("claim %q missing from %v", name, c)
		}
	}
	if c["sub"] != p.IdentityID.String() || c["tid"] != p.TenantID.String() || c["role"] != p.Role {
		t.Errorf("claims = %v, want sub, tid, role of %+v", c, p)
	}
	if _, err := uuid.Parse(c["jti"].(string)); err != nil {
		t.Errorf("jti %v is not a UUID", c["jti"])
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	k := genKey(t)
	kid := kidOf(t, k)
	other := genKey(t)
	ks := mustKeySet(t, privPEM(t, k), "")
	p := testPrincipal()
	issue := func(at time.Time) string {
		raw, _, err := NewIssuer(ks, testIssuer, testAudience, testTTL).Issue(p, testSession(), at)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	good := issue(testNow)
	with := func(name string, value any) jwt.MapClaims {
		c := validClaims(p)
		if value == nil {
			delete(c, name)
		} else {
			c[name] = value
		}
		return c
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	// A token whose payload is swapped for one granting another role, keeping the original signature.
	parts := strings.Split(good, ".")
	forged := with("role", "owner")
	payload, _ := json.Marshal(forged)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	// The same signature bit-flipped.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)-1] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	// Positive controls: the hand-signing path, the claim editing and the re-encoding that the cases below
	// use are accepted when the claims are right, so each rejection is the fault its case names and not the
	// harness's own.
	sig[len(sig)-1] ^= 1 // back to the real signature for a moment
	for name, raw := range map[string]string{
		"issued":                  good,
		"hand-signed":             sign(t, jwt.SigningMethodES256, k, kid, validClaims(p)),
		"hand-signed, edited":     sign(t, jwt.SigningMethodES256, k, kid, with("jti", uuid.NewString())),
		"audience list with ours": sign(t, jwt.SigningMethodES256, k, kid, with("aud", []string{"a", testAudience})),
		"re-encoded signature":    parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig),
		"re-encoded header":       base64.RawURLEncoding.EncodeToString(mustDecode(t, parts[0])) + "." + parts[1] + "." + parts[2],
	} {
		got, err := NewVerifier(ks, testIssuer, testAudience).Verify(raw, testNow)
		if err != nil || got != p {
			t.Fatalf("control %s: Verify = %+v, %v; want %+v accepted", name, got, err, p)
		}
	}
	sig[len(sig)-1] ^= 1

	tests := []struct {
		name        string
		raw         string
		at          time.Time
		issuer      string
		audience    string
		wantExpired bool
	}{
		{name: "expired", raw: issue(testNow.Add(-time.Hour)), wantExpired: true},
		{name: "expired beyond leeway", raw: good, at: testNow.Add(testTTL + Leeway + time.Second), wantExpired: true},
		{name: "not yet valid", raw: issue(testNow.Add(10 * time.Minute))},
		{name: "issued in the future", raw: sign(t, jwt.SigningMethodES256, k, kid, with("iat", testNow.Add(5*time.Minute).Unix()))},
		{name: "wrong issuer", raw: good, issuer: "https://evil.test"},
		{name: "wrong audience", raw: good, audience: "other-api"},
		{name: "missing issuer", raw: sign(t, jwt.SigningMethodES256, k, kid, with("iss", nil))},
		{name: "missing audience", raw: sign(t, jwt.SigningMethodES256, k, kid, with("aud", nil))},
		{name: "audience list without ours", raw: sign(t, jwt.SigningMethodES256, k, kid, with("aud", []string{"a", "b"}))},
		{name: "missing exp", raw: sign(t, jwt.SigningMethodES256, k, kid, with("exp", nil))},
		{name: "other key with our kid", raw: sign(t, jwt.SigningMethodES256, other, kid, validClaims(p))},
		{name: "other key with its own kid", raw: sign(t, jwt.SigningMethodES256, other, kidOf(t, other), validClaims(p))},
		{name: "unknown kid", raw: sign(t, jwt.SigningMethodES256, k, "no-such-kid", validClaims(p))},
		{name: "missing kid", raw: sign(t, jwt.SigningMethodES256, k, "", validClaims(p))},
		{name: "alg none", raw: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, validClaims(p))},
		{name: "alg none without signature", raw: noneHeader(kid) + "." + parts[1] + "."},
		{name: "HS256 keyed with public PEM", raw: sign(t, jwt.SigningMethodHS256, []byte(pubPEM(t, k)), kid, validClaims(p))},
		{name: "HS256 keyed with public point", raw: sign(t, jwt.SigningMethodHS256, pointBytes(t, k), kid, validClaims(p))},
		{name: "RS256", raw: sign(t, jwt.SigningMethodRS256, rsaKey, kid, validClaims(p))},
		{name: "ES384", raw: sign(t, jwt.SigningMethodES384, p384, kid, validClaims(p))},
		{name: "tampered payload", raw: tampered},
		{name: "tampered signature", raw: badSig},
		{name: "sub not a UUID", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sub", "alice"))},
		{name: "sub nil UUID", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sub", uuid.Nil.String()))},
		{name: "sub non-canonical UUID", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sub", strings.ToUpper(p.IdentityID.String())))},
		{name: "missing sub", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sub", nil))},
		{name: "tid not a UUID", raw: sign(t, jwt.SigningMethodES256, k, kid, with("tid", "acme"))},
		{name: "missing tid", raw: sign(t, jwt.SigningMethodES256, k, kid, with("tid", nil))},
		{name: "tid of wrong type", raw: sign(t, jwt.SigningMethodES256, k, kid, with("tid", 42))},
		{name: "empty role", raw: sign(t, jwt.SigningMethodES256, k, kid, with("role", ""))},
		{name: "missing role", raw: sign(t, jwt.SigningMethodES256, k, kid, with("role", nil))},
		{name: "missing sid", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sid", nil))},
		{name: "sid not a UUID", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sid", "family"))},
		{name: "sid nil UUID", raw: sign(t, jwt.SigningMethodES256, k, kid, with("sid", uuid.Nil.String()))},
		{name: "missing mv", raw: sign(t, jwt.SigningMethodES256, k, kid, with("mv", nil))},
		{name: "mv zero", raw: sign(t, jwt.SigningMethodES256, k, kid, with("mv", 0))},
		{name: "mv negative", raw: sign(t, jwt.SigningMethodES256, k, kid, with("mv", -1))},
		{name: "mv not a number", raw: sign(t, jwt.SigningMethodES256, k, kid, with("mv", "7"))},
		{name: "empty string", raw: ""},
		{name: "not a JWT", raw: "not-a-token"},
		{name: "two segments", raw: parts[0] + "." + parts[1]},
		{name: "four segments", raw: good + ".x"},
		{name: "bad base64", raw: "!!!." + parts[1] + "." + parts[2]},
		{name: "header not JSON", raw: base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2]},
		{name: "padded base64", raw: parts[0] + "=." + parts[1] + "." + parts[2]},
		{name: "verifier without issuer", raw: good, issuer: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at := tt.at
			if at.IsZero() {
				at = testNow
			}
			iss, aud := testIssuer, testAudience
			if tt.issuer == "-" {
				iss = ""
			} else if tt.issuer != "" {
				iss = tt.issuer
			}
			if tt.audience != "" {
				aud = tt.audience
			}
			got, sess, err := NewVerifier(ks, iss, aud).VerifySession(tt.raw, at)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v in %+v", got, sess)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if errors.Is(err, ErrExpired) != tt.wantExpired {
				t.Errorf("errors.Is(%v, ErrExpired) = %v, want %v", err, !tt.wantExpired, tt.wantExpired)
			}
			if got != (Principal{}) || sess != (Session{}) {
				t.Errorf("Verify returned %+v, %+v alongside an error", got, sess)
			}
		})
	}
}

func mustDecode(t *testing.T, segment string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func noneHeader(kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	return base64.RawURLEncoding.EncodeToString(h)
}

func pointBytes(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	ks, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	raw, exp, err := NewIssuer(ks, testIssuer, testAudience, testTTL).Issue(testPrincipal(), testSession(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(ks, testIssuer, testAudience)
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"at issue", testNow, true},
		{"verifier clock behind within leeway", testNow.Add(-Leeway + time.Second), true},
		{"verifier clock behind beyond leeway", testNow.Add(-Leeway - time.Second), false},
		{"just before expiry", exp.Add(-time.Second), true},
		{"after expiry within leeway", exp.Add(Leeway - time.Second), true},
		{"after expiry beyond leeway", exp.Add(Leeway + time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(raw, tt.at)
			if (err == nil) != tt.ok {
				t.Errorf("Verify at %v: err = %v, want ok=%v", tt.at, err, tt.ok)
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	signing, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	verifyOnly := mustKeySet(t, "", pubPEM(t, genKey(t)))
	tests := []struct {
		name string
		keys *KeySet
		ttl  time.Duration
		p    Principal
		s    Session
	}{
		{"verify-only key set", verifyOnly, testTTL, testPrincipal(), testSession()},
		{"nil key set", nil, testTTL, testPrincipal(), testSession()},
		{"no identity", signing, testTTL, Principal{TenantID: uuid.New(), Role: "member"}, testSession()},
		{"no tenant", signing, testTTL, Principal{IdentityID: uuid.New(), Role: "member"}, testSession()},
		{"no role", signing, testTTL, Principal{IdentityID: uuid.New(), TenantID: uuid.New()}, testSession()},
		{"zero ttl", signing, 0, testPrincipal(), testSession()},
		{"no session", signing, testTTL, testPrincipal(), Session{MembershipVersion: 1}},
		{"no membership version", signing, testTTL, testPrincipal(), Session{ID: uuid.New()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, _, err := NewIssuer(tt.keys, testIssuer, testAudience, tt.ttl).Issue(tt.p, tt.s, testNow)
			if err == nil {
				t.Errorf("Issue = %q, want an error", raw)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := genKey(t), genKey(t)
	p := testPrincipal()

	old, _, err := NewIssuer(mustKeySet(t, privPEM(t, k1), ""), testIssuer, testAudience, testTTL).Issue(p, testSession(), testNow)
	if err != nil {
		t.Fatal(err)
	}

	rotated := mustKeySet(t, privPEM(t, k1)+privPEM(t, k2), "")
	fresh, _, err := NewIssuer(rotated, testIssuer, testAudience, testTTL).Issue(p, testSession(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(fresh, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["kid"] != kidOf(t, k2) {
		t.Errorf("rotated set signs with kid %v, want the last key's %s", tok.Header["kid"], kidOf(t, k2))
	}

	tests := []struct {
		name    string
		keys    *KeySet
		raw     string
		wantErr bool
	}{
		{"old token, both keys", rotated, old, false},
		{"new token, both keys", rotated, fresh, false},
		{"old token, old key retired to public", mustKeySet(t, privPEM(t, k2), pubPEM(t, k1)), old, false},
		{"old token, old key removed", mustKeySet(t, privPEM(t, k2), ""), old, true},
		{"new token, new key only", mustKeySet(t, privPEM(t, k2), ""), fresh, false},
		{"new token, before rotation", mustKeySet(t, privPEM(t, k1), ""), fresh, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewVerifier(tt.keys, testIssuer, testAudience).Verify(tt.raw, testNow)
			if (err != nil) != tt.wantErr {
				t.Errorf("Verify err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
		})
	}
}
