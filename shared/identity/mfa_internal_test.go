package identity

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
)

func TestSecretBox(t *testing.T) {
	t.Parallel()
	key := make([]byte, MFAKeyBytes)
	key[0] = 1
	box, err := NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	a, b := uuid.New(), uuid.New()
	sealed := box.seal("JBSWY3DPEHPK3PXP", a)
	if strings.Contains(string(sealed), "JBSWY3DPEHPK3PXP") {
		t.Fatal("the secret is stored in the clear")
	}
	if got, err := box.open(sealed, a); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Moved onto another identity, or altered, it does not open; another key does not open it either.
	if _, err := box.open(sealed, b); err == nil {
		t.Fatal("opened under another identity")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.open(sealed, a); err == nil {
		t.Fatal("opened after tampering")
	}
	other, _ := NewSecretBox(make([]byte, MFAKeyBytes))
	if _, err := other.open(box.seal("x", a), a); err == nil {
		t.Fatal("opened with another key")
	}
	if _, err := box.open([]byte{1, 2}, a); err == nil {
		t.Fatal("opened a truncated value")
	}
	if _, err := NewSecretBox(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func TestMFAKeyConfig(t *testing.T) {
	t.Parallel()
	good := base64.StdEncoding.EncodeToString(make([]byte, MFAKeyBytes))
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"", true}, // empty: the function decides (random locally, unavailable elsewhere)
		{good, true},
		{base64.RawURLEncoding.EncodeToString(make([]byte, MFAKeyBytes)), true},
		{base64.StdEncoding.EncodeToString(make([]byte, 31)), false},
		{"not base64 !!", false},
	} {
		if err := (MFAConfig{EncryptionKey: tc.key}).Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok %v", tc.key, err, tc.ok)
		}
	}
}

func TestMatchTOTP(t *testing.T) {
	t.Parallel()
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Unix(1_800_000_015, 0)
	step := now.Unix() / totpPeriod
	at := func(d int) string {
		c, err := totp.GenerateCode(secret, now.Add(time.Duration(d)*totpPeriod*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name     string
		code     string
		lastStep int64
		want     int64 // 0: refused
	}{
		{"current", at(0), 0, step},
		{"one step early", at(-1), 0, step - 1},
		{"one step late", at(1), 0, step + 1},
		{"two steps off", at(-2), 0, 0},
		{"current, already accepted", at(0), step, 0},
		{"older than the last accepted", at(-1), step, 0},
		{"newer than the last accepted", at(1), step, step + 1},
		{"not six digits", "12345", 0, 0},
	} {
		got, ok := matchTOTP(secret, tc.code, tc.lastStep, now)
		if ok != (tc.want != 0) || got != tc.want {
			t.Errorf("%s: step %d, %v; want %d", tc.name, got, ok, tc.want)
		}
	}
}
