package token

import (
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func retiredPEM(t *testing.T, pub string, retiredAt time.Time) string {
	t.Helper()
	block, _ := pem.Decode([]byte(pub))
	block.Headers = map[string]string{RetiredAtHeader: retiredAt.Format(time.RFC3339)}
	return string(pem.EncodeToMemory(block))
}

func jwksKIDs(ks *KeySet, now time.Time) []string {
	var kids []string
	for _, k := range ks.JWKSAt(now).Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestRetiredKey walks a rotation: the old key signs a token, a new key takes over and the old one moves to
// the public keys with Retired-At. Its token verifies through the grace period and is refused after it, and
// the JWKS stops listing the old key at the same moment.
func TestRetiredKey(t *testing.T) {
	t.Parallel()
	oldKey, newKey := genKey(t), genKey(t)
	p := testPrincipal()
	// The old key signs until retiredAt; its last token, issued shortly before, lives long enough that only
	// the retirement can refuse it.
	retiredAt := testNow
	issued := retiredAt.Add(-5 * time.Minute)
	oldToken, _, err := NewIssuer(mustKeySet(t, privPEM(t, oldKey), ""), testIssuer, testAudience, time.Hour).Issue(p, testSession(), issued)
	if err != nil {
		t.Fatal(err)
	}
	const grace = 10 * time.Minute
	retired, err := EncodeRetiredPEM(&oldKey.PublicKey, retiredAt)
	if err != nil {
		t.Fatal(err)
	}
	ks := mustKeySet(t, privPEM(t, newKey), retired).WithRotationGrace(grace)
	newToken, _, err := NewIssuer(ks, testIssuer, testAudience, time.Hour).Issue(p, testSession(), issued)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(ks, testIssuer, testAudience)
	both := []string{kidOf(t, newKey), kidOf(t, oldKey)}
	onlyNew := []string{kidOf(t, newKey)}

	tests := []struct {
		name       string
		at         time.Time
		oldValid   bool
		wantKIDs   []string
		newIsValid bool
	}{
		{"before retirement", retiredAt.Add(-time.Minute), true, both, true},
		{"at retirement", retiredAt, true, both, true},
		{"within the grace", retiredAt.Add(grace - time.Second), true, both, true},
		{"at the end of the grace", retiredAt.Add(grace), true, both, true},
		{"after the grace", retiredAt.Add(grace + time.Second), false, onlyNew, true},
		{"long after", retiredAt.Add(50 * time.Minute), false, onlyNew, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(oldToken, tt.at)
			if (err == nil) != tt.oldValid {
				t.Errorf("old key's token at %s: err = %v, want valid %v", tt.at, err, tt.oldValid)
			}
			if err != nil && (!errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "retired")) {
				t.Errorf("old key's token refused with %v; want an invalid (not expired) token naming the retirement", err)
			}
			if _, err := v.Verify(newToken, tt.at); (err == nil) != tt.newIsValid {
				t.Errorf("new key's token: %v", err)
			}
			if got := jwksKIDs(ks, tt.at); !slices.Equal(got, tt.wantKIDs) {
				t.Errorf("JWKS kids = %v, want %v", got, tt.wantKIDs)
			}
		})
	}

	t.Run("default grace", func(t *testing.T) {
		t.Parallel()
		def := NewVerifier(mustKeySet(t, privPEM(t, newKey), retired), testIssuer, testAudience)
		if _, err := def.Verify(oldToken, retiredAt.Add(DefaultRotationGrace)); err != nil {
			t.Errorf("within the default grace: %v", err)
		}
		if _, err := def.Verify(oldToken, retiredAt.Add(DefaultRotationGrace+time.Second)); err == nil {
			t.Error("after the default grace: verified")
		}
	})
	t.Run("zero grace", func(t *testing.T) {
		t.Parallel()
		zero := ks.WithRotationGrace(-time.Hour) // negative counts as zero
		if _, err := NewVerifier(zero, testIssuer, testAudience).Verify(oldToken, retiredAt); err != nil {
			t.Errorf("at Retired-At with no grace: %v", err)
		}
		if _, err := NewVerifier(zero, testIssuer, testAudience).Verify(oldToken, retiredAt.Add(time.Second)); err == nil {
			t.Error("after Retired-At with no grace: verified")
		}
		if got := jwksKIDs(zero, retiredAt.Add(time.Second)); !slices.Equal(got, onlyNew) {
			t.Errorf("JWKS kids = %v, want %v", got, onlyNew)
		}
	})
	t.Run("WithRotationGrace leaves the original alone", func(t *testing.T) {
		t.Parallel()
		_ = ks.WithRotationGrace(0)
		if _, err := v.Verify(oldToken, retiredAt.Add(grace)); err != nil {
			t.Errorf("original set changed: %v", err)
		}
	})
}

// A retirement may be scheduled ahead: the key verifies until then plus the grace.
func TestScheduledRetirement(t *testing.T) {
	t.Parallel()
	oldKey, newKey := genKey(t), genKey(t)
	p := testPrincipal()
	tok, _, err := NewIssuer(mustKeySet(t, privPEM(t, oldKey), ""), testIssuer, testAudience, 48*time.Hour).Issue(p, testSession(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	ks := mustKeySet(t, privPEM(t, newKey), retiredPEM(t, pubPEM(t, oldKey), testNow.Add(24*time.Hour)))
	v := NewVerifier(ks, testIssuer, testAudience)
	if _, err := v.Verify(tok, testNow.Add(23*time.Hour)); err != nil {
		t.Errorf("before the scheduled retirement: %v", err)
	}
	if _, err := v.Verify(tok, testNow.Add(24*time.Hour+DefaultRotationGrace+time.Second)); err == nil {
		t.Error("after the scheduled retirement and its grace: verified")
	}
}

func TestRetirementRefusals(t *testing.T) {
	t.Parallel()
	signer, other := genKey(t), genKey(t)
	when := testNow.Format(time.RFC3339)
	withHeaders := func(text string, headers map[string]string) string {
		block, _ := pem.Decode([]byte(text))
		block.Headers = headers
		return string(pem.EncodeToMemory(block))
	}
	tests := []struct {
		name, private, public string
		wantErr               string // substring of the error; empty when the set must parse
	}{
		{"retired public key", privPEM(t, signer), withHeaders(pubPEM(t, other), map[string]string{"Retired-At": when}), ""},
		{"retired public key, one-line PEM", privPEM(t, signer),
			strings.ReplaceAll(strings.TrimSpace(withHeaders(pubPEM(t, other), map[string]string{"Retired-At": when})), "\n", `\n`), ""},
		{"private key with Retired-At", withHeaders(privPEM(t, signer), map[string]string{"Retired-At": when}), "", "cannot be retired"},
		{"older private key with Retired-At", withHeaders(privPEM(t, other), map[string]string{"Retired-At": when}) + privPEM(t, signer), "", "cannot be retired"},
		{"signing key repeated as retired public key", privPEM(t, signer), withHeaders(pubPEM(t, signer), map[string]string{"Retired-At": when}), "cannot be retired"},
		{"unparsable Retired-At", privPEM(t, signer), withHeaders(pubPEM(t, other), map[string]string{"Retired-At": "yesterday"}), "RFC 3339"},
		{"date without time", privPEM(t, signer), withHeaders(pubPEM(t, other), map[string]string{"Retired-At": "2026-03-01"}), "RFC 3339"},
		{"misspelt header", privPEM(t, signer), withHeaders(pubPEM(t, other), map[string]string{"Retired-at": when}), "unknown PEM header"},
		{"header on a private key", withHeaders(privPEM(t, signer), map[string]string{"Proc-Type": "4,ENCRYPTED"}), "", "no PEM headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseKeySet(tt.private, tt.public)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKeySet: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseKeySet err = %v, want one mentioning %q", err, tt.wantErr)
			}
			cfg := Config{SigningKeys: tt.private, PublicKeys: tt.public, Issuer: testIssuer, Audience: testAudience,
				AccessTTL: testTTL, RefreshTTL: 24 * time.Hour, RotationGrace: time.Minute}
			if err := cfg.Validate(); err == nil {
				t.Error("Config.Validate accepted the keys")
			}
		})
	}
	if _, err := EncodeRetiredPEM(&other.PublicKey, time.Time{}); err == nil {
		t.Error("EncodeRetiredPEM without a time: no error")
	}
}

func TestConfigRotationGrace(t *testing.T) {
	t.Parallel()
	oldKey, newKey := genKey(t), genKey(t)
	tok, _, err := NewIssuer(mustKeySet(t, privPEM(t, oldKey), ""), testIssuer, testAudience, 48*time.Hour).Issue(testPrincipal(), testSession(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	base := Config{
		SigningKeys: privPEM(t, newKey), PublicKeys: retiredPEM(t, pubPEM(t, oldKey), testNow),
		Issuer: testIssuer, Audience: testAudience, AccessTTL: testTTL, RefreshTTL: 24 * time.Hour,
	}
	tests := []struct {
		name    string
		grace   time.Duration
		wantErr bool
	}{
		{"zero", 0, false},
		{"fifteen minutes", 15 * time.Minute, false},
		{"a day", MaxAccessTTL, false},
		{"negative", -time.Second, true},
		{"over a day", MaxAccessTTL + time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := base
			c.RotationGrace = tt.grace
			err := c.Validate()
			if (err != nil) != tt.wantErr || (err != nil && !strings.Contains(err.Error(), "TOKEN_ROTATION_GRACE")) {
				t.Fatalf("Validate = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			ks, err := c.KeySet(false, nil)
			if err != nil {
				t.Fatal(err)
			}
			v := NewVerifier(ks, testIssuer, testAudience)
			if _, err := v.Verify(tok, testNow.Add(tt.grace)); err != nil {
				t.Errorf("at the end of the configured grace: %v", err)
			}
			if _, err := v.Verify(tok, testNow.Add(tt.grace+time.Second)); err == nil {
				t.Error("after the configured grace: verified")
			}
		})
	}
}
