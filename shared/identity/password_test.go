package identity_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/identity"
)

// cheap keeps argon2 fast in tests; the cost parameters do not change what is being checked.
var cheap = identity.Params{Memory: 64, Time: 1, Threads: 1}

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		params   identity.Params
	}{
		{"ascii", "correct horse battery staple", cheap},
		{"unicode", "pässwörd-ñ-日本語-🔑", cheap},
		{"empty", "", cheap},
		{"several lanes and passes", "correct horse battery staple", identity.Params{Memory: 128, Time: 3, Threads: 2}},
		{"default params", "correct horse battery staple", identity.DefaultParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hash := identity.HashPassword(tt.password, tt.params)
			ok, err := identity.CheckPassword(tt.password, hash)
			if err != nil || !ok {
				t.Fatalf("CheckPassword(right password) = %v, %v; want true, nil", ok, err)
			}
			for _, wrong := range []string{tt.password + "x", strings.ToUpper(tt.password) + "!", "", "something else entirely"} {
				if wrong == tt.password {
					continue
				}
				ok, err := identity.CheckPassword(wrong, hash)
				if err != nil || ok {
					t.Errorf("CheckPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
				}
			}
		})
	}
}

func TestHashPasswordSalts(t *testing.T) {
	t.Parallel()
	a := identity.HashPassword("same password twice", cheap)
	b := identity.HashPassword("same password twice", cheap)
	if a == b {
		t.Fatalf("two hashes of one password are equal (%s): the salt is not random", a)
	}
	pa, pb := strings.Split(a, "$"), strings.Split(b, "$")
	if pa[4] == pb[4] {
		t.Errorf("salts are equal: %s", pa[4])
	}
	if pa[5] == pb[5] {
		t.Errorf("keys are equal: %s", pa[5])
	}
	for _, h := range []string{a, b} {
		if ok, err := identity.CheckPassword("same password twice", h); err != nil || !ok {
			t.Errorf("CheckPassword(%s) = %v, %v; want true, nil", h, ok, err)
		}
	}
}

func TestHashPasswordFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params identity.Params
		prefix string
	}{
		{"cheap", cheap, "$argon2id$v=19$m=64,t=1,p=1$"},
		{"other", identity.Params{Memory: 256, Time: 4, Threads: 3}, "$argon2id$v=19$m=256,t=4,p=3$"},
		{"default", identity.DefaultParams, "$argon2id$v=19$m=19456,t=2,p=1$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hash := identity.HashPassword("pw", tt.params)
			if !strings.HasPrefix(hash, tt.prefix) {
				t.Fatalf("hash %s does not start with %s", hash, tt.prefix)
			}
			parts := strings.Split(hash, "$")
			if len(parts) != 6 {
				t.Fatalf("hash %s has %d $-separated parts, want 6", hash, len(parts))
			}
			salt, err := base64.RawStdEncoding.DecodeString(parts[4])
			if err != nil || len(salt) != 16 {
				t.Errorf("salt %q: %d bytes, %v; want 16 bytes of unpadded base64", parts[4], len(salt), err)
			}
			key, err := base64.RawStdEncoding.DecodeString(parts[5])
			if err != nil || len(key) != 32 {
				t.Errorf("key %q: %d bytes, %v; want 32 bytes of unpadded base64", parts[5], len(key), err)
			}
		})
	}
}

// A hash keeps verifying after the service's parameters change, because CheckPassword reads them from the hash.
func TestCheckPasswordUsesParamsOfTheHash(t *testing.T) {
	t.Parallel()
	old := identity.HashPassword("long-lived password", identity.Params{Memory: 32, Time: 2, Threads: 1})
	current := identity.HashPassword("long-lived password", cheap)
	for _, h := range []string{old, current} {
		if ok, err := identity.CheckPassword("long-lived password", h); err != nil || !ok {
			t.Errorf("CheckPassword(%s) = %v, %v; want true, nil", h, ok, err)
		}
	}
	// The parameters are part of what is checked: the same salt and key under other parameters do not match.
	tampered := strings.Replace(old, "m=32,t=2,p=1", "m=32,t=1,p=1", 1)
	if ok, err := identity.CheckPassword("long-lived password", tampered); err != nil || ok {
		t.Errorf("CheckPassword with altered parameters = %v, %v; want false, nil", ok, err)
	}
}

// A key of another length than the service writes still verifies: its length comes from the hash.
func TestCheckPasswordKeyLengthFromHash(t *testing.T) {
	t.Parallel()
	h := identity.HashPassword("pw", cheap)
	parts := strings.Split(h, "$")
	key, _ := base64.RawStdEncoding.DecodeString(parts[5])
	parts[5] = base64.RawStdEncoding.EncodeToString(key[:16])
	// A shorter argon2 output is not a prefix of a longer one, so the truncated key must not match.
	if ok, err := identity.CheckPassword("pw", strings.Join(parts, "$")); err != nil || ok {
		t.Fatalf("truncated key = %v, %v; want false, nil", ok, err)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	t.Parallel()
	good := identity.HashPassword("pw", cheap)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(alg, version, params, salt, key string) string {
		return strings.Join([]string{"", alg, version, params, salt, key}, "$")
	}
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"not PHC", "hunter2"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"too few parts", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"too many parts", good + "$extra"},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"argon2i", with("argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{"argon2d", with("argon2d", "v=19", "m=64,t=1,p=1", salt, key)},
		{"algorithm case", with("ARGON2ID", "v=19", "m=64,t=1,p=1", salt, key)},
		{"old version", with("argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{"version not a number", with("argon2id", "v=x", "m=64,t=1,p=1", salt, key)},
		{"version missing", with("argon2id", "", "m=64,t=1,p=1", salt, key)},
		{"params missing", with("argon2id", "v=19", "", salt, key)},
		{"params reordered", with("argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"params not numbers", with("argon2id", "v=19", "m=a,t=b,p=c", salt, key)},
		{"params negative", with("argon2id", "v=19", "m=-64,t=1,p=1", salt, key)},
		{"params truncated", with("argon2id", "v=19", "m=64,t=1", salt, key)},
		{"threads overflow uint8", with("argon2id", "v=19", "m=64,t=1,p=256", salt, key)},
		{"memory overflow uint32", with("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key)},
		{"zero passes", with("argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"zero lanes", with("argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"memory beyond any sane cost", with("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key)},
		{"trailing junk after params", with("argon2id", "v=19", "m=64,t=1,p=1junk", salt, key)},
		{"salt not base64", with("argon2id", "v=19", "m=64,t=1,p=1", "!!not*base64!!", key)},
		{"salt padded base64", with("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key)},
		{"key not base64", with("argon2id", "v=19", "m=64,t=1,p=1", salt, "!!not*base64!!")},
		{"key url-safe alphabet", with("argon2id", "v=19", "m=64,t=1,p=1", salt, "-_-_"+key[4:])},
		{"empty key", with("argon2id", "v=19", "m=64,t=1,p=1", salt, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := checkNoPanic(t, "pw", tt.hash)
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want false and an error", tt.hash, ok, err)
			}
		})
	}
}

// checkNoPanic calls CheckPassword and turns a panic into a test failure naming the hash.
func checkNoPanic(t *testing.T, password, hash string) (ok bool, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("CheckPassword(%q) panicked: %v", hash, r)
		}
	}()
	return identity.CheckPassword(password, hash)
}

// The error does not echo the hash it could not read, so a log line of it leaks nothing.
func TestCheckPasswordErrorDoesNotLeakHash(t *testing.T) {
	t.Parallel()
	hash := "$argon2i$v=19$m=64,t=1,p=1$c2VjcmV0c2FsdA$c2VjcmV0a2V5"
	_, err := identity.CheckPassword("pw", hash)
	if err == nil {
		t.Fatal("want an error")
	}
	if msg := fmt.Sprint(err); strings.Contains(msg, "c2VjcmV0") {
		t.Fatalf("error %q contains the hash", msg)
	}
}
