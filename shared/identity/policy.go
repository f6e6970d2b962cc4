package identity

import (
	_ "embed" // the common-password list ships inside the binary
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/coditect/hyperscale/shared/valid"
)

//go:generate go run gen_common_passwords.go

// commonPasswordsText is the list of refused passwords, one lower-case password per line. Only entries of at
// least MinPasswordLength characters matter, since shorter passwords are refused by length already.
//
//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords returns the list sorted for binary search. The strings point into the embedded text, so
// the list costs its slice headers only; it is built on first use, not at start-up.
var commonPasswords = sync.OnceValue(func() []string {
	list := strings.Fields(commonPasswordsText)
	slices.Sort(list)
	return list
})

// CommonPassword reports whether password, compared in lower case and without surrounding spaces, is on the
// project's list of common passwords.
func CommonPassword(password string) bool {
	_, found := slices.BinarySearch(commonPasswords(), strings.ToLower(strings.TrimSpace(password)))
	return found
}

// ValidatePassword checks a new password against the password policy, naming field in what it reports: at
// least MinPasswordLength and at most MaxPasswordLength characters, and not a common password.
func ValidatePassword(errs *valid.Errors, field, password string) {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		errs.Add(field, fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		errs.Add(field, fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
	case CommonPassword(password):
		errs.Add(field, "is too common: choose a password that is not on lists of frequently used passwords")
	}
}
