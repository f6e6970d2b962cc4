package identity_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coditect/hyperscale/shared/identity"
	"github.com/coditect/hyperscale/shared/valid"
)

func TestCommonPasswordList(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("common-passwords.txt")
	if err != nil {
		t.Fatal(err)
	}
	list := strings.Fields(string(raw))
	if len(list) < 3000 {
		t.Fatalf("the list has %d passwords, want several thousand", len(list))
	}
	for _, p := range list {
		// Shorter entries would be dead weight (length refuses them) and upper case could never match.
		if utf8.RuneCountInString(p) < identity.MinPasswordLength || p != strings.ToLower(p) {
			t.Fatalf("entry %q is shorter than %d characters or not lower case", p, identity.MinPasswordLength)
		}
	}
	// Every entry is found, the first, the last and one in the middle included.
	for _, p := range []string{list[0], list[len(list)/2], list[len(list)-1]} {
		if !identity.CommonPassword(p) {
			t.Errorf("CommonPassword(%q) = false for a listed password", p)
		}
	}
}

func TestCommonPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		password string
		want     bool
	}{
		{"password1234", true},
		{"qwertyuiop12", true},
		{"iloveyou1234", true},
		{"123456789012", true},
		{"PassWord1234", true},
		{"  password1234 ", true},
		{"correcthorsebatterystaple", true},
		{"passwordpassword", true},
		{"football2024", true},
		{"1qaz2wsx3edc", true},
		{"qwerty123456", true},
		{"aaaaaaaaaaaa", true},
		{"correct horse battery", false},
		{"password123", false}, // shorter than the policy's minimum: length refuses it, the list need not
		{"my cat eats yellow tulips", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			t.Parallel()
			if got := identity.CommonPassword(tt.password); got != tt.want {
				t.Errorf("CommonPassword(%q) = %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, field, password string
		wantMessage           string // substring of the one message; empty when the password passes
	}{
		{"fine", "password", "my cat eats yellow tulips", ""},
		{"too short", "password", "short", "at least 12"},
		{"too long", "new_password", strings.Repeat("x", 257), "at most 256"},
		{"common", "new_password", "Password1234", "too common"},
		{"common keyboard walk", "owner.password", "qwertyuiop12", "too common"},
		{"common, nested field", "owner.password", "iloveyou1234", "too common"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errs valid.Errors
			identity.ValidatePassword(&errs, tt.field, tt.password)
			if tt.wantMessage == "" {
				if len(errs) != 0 {
					t.Fatalf("ValidatePassword = %v, want no failure", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tt.field || !strings.Contains(errs[0].Message, tt.wantMessage) {
				t.Fatalf("ValidatePassword = %v, want one failure of %s mentioning %q", errs, tt.field, tt.wantMessage)
			}
		})
	}
}

// ValidateCredentials, which sign-up, registration and invitations share, applies the common-password list.
func TestValidateCredentialsRefusesCommonPasswords(t *testing.T) {
	t.Parallel()
	var errs valid.Errors
	identity.ValidateCredentials(&errs, "owner.", "ada@example.com", "Password1234")
	var fields []string
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	if !slices.Equal(fields, []string{"owner.password"}) || !strings.Contains(errs[0].Message, "common") {
		t.Fatalf("ValidateCredentials = %v, want owner.password refused as common", errs)
	}
}
