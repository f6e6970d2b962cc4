package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestParseKeySet(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := genKey(t), genKey(t), genKey(t)

	sec1DER, err := x509.MarshalECPrivateKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	sec1 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER}))

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	rsaPriv := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER}))
	rsaPubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	rsaPub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER}))

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	p384Priv := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER}))

	oneLine := strings.ReplaceAll(strings.TrimSpace(privPEM(t, k2)), "\n", `\n`)

	tests := []struct {
		name       string
		private    string
		public     string
		wantErr    bool
		wantKIDs   []*ecdsa.PrivateKey
		wantSigner *ecdsa.PrivateKey // nil when the set must not be able to sign
	}{
		{name: "SEC 1 private key", private: sec1, wantKIDs: []*ecdsa.PrivateKey{k1}, wantSigner: k1},
		{name: "PKCS 8 private key", private: privPEM(t, k1), wantKIDs: []*ecdsa.PrivateKey{k1}, wantSigner: k1},
		{name: "last private key signs", private: sec1 + "\n" + privPEM(t, k2), wantKIDs: []*ecdsa.PrivateKey{k1, k2}, wantSigner: k2},
		{name: "private and verify-only", private: privPEM(t, k2), public: pubPEM(t, k1) + pubPEM(t, k3), wantKIDs: []*ecdsa.PrivateKey{k2, k1, k3}, wantSigner: k2},
		{name: "verify-only", public: pubPEM(t, k1), wantKIDs: []*ecdsa.PrivateKey{k1}},
		{name: "signing key also listed as public", private: privPEM(t, k1), public: pubPEM(t, k1), wantKIDs: []*ecdsa.PrivateKey{k1}, wantSigner: k1},
		{name: "one-line PEM with escaped newlines", private: oneLine, wantKIDs: []*ecdsa.PrivateKey{k2}, wantSigner: k2},
		{name: "surrounding whitespace", private: "\n  " + privPEM(t, k1) + "\n\n", wantKIDs: []*ecdsa.PrivateKey{k1}, wantSigner: k1},
		{name: "nothing", wantErr: true},
		{name: "only whitespace", private: " \n ", public: "\n", wantErr: true},
		{name: "garbage private", private: "not a pem", wantErr: true},
		{name: "garbage after a key", private: privPEM(t, k1) + "trailing junk", wantErr: true},
		{name: "garbage public", public: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", wantErr: true},
		{name: "public key in private slot", private: pubPEM(t, k1), wantErr: true},
		{name: "private key in public slot", public: privPEM(t, k1), wantErr: true},
		{name: "RSA private key", private: rsaPriv, wantErr: true},
		{name: "RSA public key", public: rsaPub, wantErr: true},
		{name: "P-384 key", private: p384Priv, wantErr: true},
		{name: "certificate block", public: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks, err := ParseKeySet(tt.private, tt.public)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseKeySet succeeded with %d keys, want an error", len(ks.keys))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeySet: %v", err)
			}
			var got, want []string
			for _, k := range ks.JWKS().Keys {
				got = append(got, k.Kid)
			}
			for _, k := range tt.wantKIDs {
				want = append(want, kidOf(t, k))
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("kids = %v, want %v", got, want)
			}
			if ks.CanSign() != (tt.wantSigner != nil) {
				t.Fatalf("CanSign = %v, want %v", ks.CanSign(), tt.wantSigner != nil)
			}
			if tt.wantSigner != nil {
				k, _ := ks.signingKey()
				if k.kid != kidOf(t, tt.wantSigner) || !k.priv.Equal(tt.wantSigner) {
					t.Errorf("signing key kid = %s, want %s", k.kid, kidOf(t, tt.wantSigner))
				}
			}
		})
	}
}

func TestGenerateKeySet(t *testing.T) {
	t.Parallel()
	a, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	if !a.CanSign() || len(a.JWKS().Keys) != 1 {
		t.Fatalf("generated set: CanSign %v, %d keys", a.CanSign(), len(a.JWKS().Keys))
	}
	if a.JWKS().Keys[0].Kid == b.JWKS().Keys[0].Kid {
		t.Error("two generated sets share a key")
	}
}

// TestThumbprintRFC7517 checks the kid against the EC key of RFC 7517 appendix A.1, whose RFC 7638 thumbprint
// was computed independently (Python hashlib over the canonical members) and is the value other JOSE
// libraries publish for it.
func TestThumbprintRFC7517(t *testing.T) {
	t.Parallel()
	const (
		x    = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
		y    = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
		d    = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE" // RFC 7517 appendix A.2
		want = "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
	)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, b64(t, x)...), b64(t, y)...))
	if err != nil {
		t.Fatal(err)
	}
	// The private scalar deriving exactly this point proves the constants above were copied correctly.
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b64(t, d))
	if err != nil {
		t.Fatal(err)
	}
	if !priv.PublicKey.Equal(pub) {
		t.Fatal("RFC 7517 A.2 private key does not match the A.1 public key")
	}
	got, err := Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
	pemText, err := EncodePrivatePEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	if jwk := mustKeySet(t, pemText, "").JWKS().Keys[0]; jwk.Kid != want || jwk.X != x || jwk.Y != y {
		t.Errorf("JWK = %+v, want kid %s x %s y %s", jwk, want, x, y)
	}
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	k1, k2 := genKey(t), genKey(t)
	ks := mustKeySet(t, privPEM(t, k1), pubPEM(t, k2))

	raw, err := json.Marshal(ks.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2: %s", len(doc.Keys), raw)
	}
	privD, err := k1.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(base64.RawURLEncoding.EncodeToString(privD))) {
		t.Fatalf("JWKS leaks the private scalar: %s", raw)
	}

	for i, k := range []*ecdsa.PrivateKey{k1, k2} {
		jwk := doc.Keys[i]
		wantMembers := map[string]bool{"kty": true, "crv": true, "x": true, "y": true, "kid": true, "use": true, "alg": true}
		for name := range jwk {
			if !wantMembers[name] {
				t.Errorf("key %d has unexpected member %q", i, name)
			}
		}
		if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["use"] != "sig" || jwk["alg"] != "ES256" {
			t.Errorf("key %d = %v", i, jwk)
		}

		// Recompute the thumbprint independently of Thumbprint: encoding/json sorts map keys, which yields
		// RFC 7638's canonical member order.
		point := pointBytes(t, k)
		wantX := base64.RawURLEncoding.EncodeToString(point[1:33])
		wantY := base64.RawURLEncoding.EncodeToString(point[33:])
		canonical, err := json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": wantX, "y": wantY})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(canonical)
		if want := base64.RawURLEncoding.EncodeToString(sum[:]); jwk["kid"] != want {
			t.Errorf("key %d kid = %v, want %s", i, jwk["kid"], want)
		}
		if jwk["x"] != wantX || jwk["y"] != wantY {
			t.Errorf("key %d x, y = %v, %v, want %s, %s", i, jwk["x"], jwk["y"], wantX, wantY)
		}
		if len(b64(t, wantX)) != 32 || len(b64(t, wantY)) != 32 {
			t.Errorf("key %d coordinates are not 32 bytes", i)
		}
	}

	// The kid depends on the key alone, so parsing the same PEM again, in either slot, yields the same kid.
	again := mustKeySet(t, "", pubPEM(t, k1)).JWKS().Keys[0].Kid
	if again != doc.Keys[0]["kid"] {
		t.Errorf("kid not deterministic: %s then %v", again, doc.Keys[0]["kid"])
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := Config{
		SigningKeys: privPEM(t, genKey(t)),
		PublicKeys:  pubPEM(t, genKey(t)),
		Issuer:      testIssuer,
		Audience:    testAudience,
		AccessTTL:   15 * time.Minute,
		RefreshTTL:  7 * 24 * time.Hour,
	}
	tests := []struct {
		name  string
		mod   func(*Config)
		wants []string // substrings that must all appear in the error
	}{
		{name: "valid", mod: func(*Config) {}},
		{name: "valid without keys", mod: func(c *Config) { c.SigningKeys, c.PublicKeys = "", "" }},
		{name: "shortest ttl", mod: func(c *Config) { c.AccessTTL = MinAccessTTL }},
		{name: "longest ttl", mod: func(c *Config) { c.AccessTTL = MaxAccessTTL }},
		{name: "ttl too short", mod: func(c *Config) { c.AccessTTL = 59 * time.Second }, wants: []string{"TOKEN_ACCESS_TTL"}},
		{name: "ttl too long", mod: func(c *Config) { c.AccessTTL = 25 * time.Hour }, wants: []string{"TOKEN_ACCESS_TTL"}},
		{name: "refresh ttl too short", mod: func(c *Config) { c.RefreshTTL = time.Minute }, wants: []string{"TOKEN_REFRESH_TTL"}},
		{name: "no reuse interval", mod: func(c *Config) { c.RefreshReuseInterval = 0 }},
		{name: "longest reuse interval", mod: func(c *Config) { c.RefreshReuseInterval = MaxRefreshReuseInterval }},
		{name: "reuse interval too long", mod: func(c *Config) { c.RefreshReuseInterval = MaxRefreshReuseInterval + time.Second }, wants: []string{"TOKEN_REFRESH_REUSE_INTERVAL"}},
		{name: "negative reuse interval", mod: func(c *Config) { c.RefreshReuseInterval = -time.Second }, wants: []string{"TOKEN_REFRESH_REUSE_INTERVAL"}},
		{
			name: "everything wrong at once",
			mod: func(c *Config) {
				*c = Config{SigningKeys: "junk", PublicKeys: "junk", AccessTTL: 0}
			},
			wants: []string{"TOKEN_ISSUER", "TOKEN_AUDIENCE", "TOKEN_ACCESS_TTL", "TOKEN_REFRESH_TTL", "TOKEN_SIGNING_KEYS", "TOKEN_PUBLIC_KEYS"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			tt.mod(&c)
			err := c.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			if joined, ok := err.(interface{ Unwrap() []error }); !ok || len(joined.Unwrap()) != len(tt.wants) {
				t.Errorf("error %q does not join exactly %d problems", err, len(tt.wants))
			}
		})
	}
}

func TestConfigKeySet(t *testing.T) {
	t.Parallel()
	configured := Config{SigningKeys: privPEM(t, genKey(t))}
	verifyOnly := Config{PublicKeys: pubPEM(t, genKey(t))}
	tests := []struct {
		name     string
		cfg      Config
		local    bool
		wantErr  bool
		wantSign bool
		wantWarn bool
	}{
		{name: "none, local: ephemeral", local: true, wantSign: true, wantWarn: true},
		{name: "none, deployed: error", local: false, wantErr: true},
		{name: "configured, local", cfg: configured, local: true, wantSign: true},
		{name: "configured, deployed", cfg: configured, wantSign: true},
		{name: "verify-only, deployed", cfg: verifyOnly},
		{name: "broken, local: no fallback", cfg: Config{SigningKeys: "junk"}, local: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			ks, err := tt.cfg.KeySet(tt.local, log)
			if (err != nil) != tt.wantErr {
				t.Fatalf("KeySet err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && ks.CanSign() != tt.wantSign {
				t.Errorf("CanSign = %v, want %v", ks.CanSign(), tt.wantSign)
			}
			warned := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "restart")
			if warned != tt.wantWarn {
				t.Errorf("warned = %v, want %v; log: %s", warned, tt.wantWarn, buf.String())
			}
		})
	}

	// A nil logger must not stop a local run.
	if _, err := (Config{}).KeySet(true, nil); err != nil {
		t.Errorf("KeySet with nil logger: %v", err)
	}
}
