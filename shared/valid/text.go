package valid

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// DisplayText reports whether s may be shown as a name, title or label: valid UTF-8 holding no control
// character (C0, DEL, C1), no line or paragraph separator, and no invisible format character (Unicode
// category Cf), which takes in the bidirectional embeddings, overrides and isolates (U+202A..U+202E,
// U+2066..U+2069), the direction marks and the zero-width space and no-break space. Such characters let one
// name pose as another ("invoice\u202Efdp.exe") or break the lines of a list that shows it.
//
// Three kinds of format character are kept because real text needs them: the zero-width non-joiner and joiner
// (U+200C, U+200D) that Persian and Indic scripts and emoji sequences are written with, and the tag characters
// (U+E0020..U+E007F) of subdivision flag emoji.
func DisplayText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !displayRune(r) {
			return false
		}
	}
	return true
}

// displayRune reports whether r may appear in DisplayText.
func displayRune(r rune) bool {
	switch {
	case r == '\u200c', r == '\u200d', r >= 0xE0020 && r <= 0xE007F:
		return true
	case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return false
	}
	return true
}

// CleanDisplayText returns s without the characters DisplayText refuses (and without invalid UTF-8), for
// names that arrive from elsewhere (an identity provider's ID token) and cannot be refused back to a person.
func CleanDisplayText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !displayRune(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// CheckDisplayText records that field must be plain text when s is not DisplayText, unless field has failed
// already (a NUL, say, is reported once). Every name, title, label and other one-line field people see is
// checked with it, so the rule and its message are the same everywhere.
func (e *Errors) CheckDisplayText(field, s string) {
	for _, f := range *e {
		if f.Field == field {
			return
		}
	}
	e.Check(DisplayText(s), field, "must be valid text without control, line-separator or invisible formatting characters")
}

// ParseID reads s as an id in its one canonical form: 36 characters, lower-case hexadecimal digits grouped
// 8-4-4-4-12 by dashes. Other spellings of the same UUID (upper case, braces, urn:uuid:, no dashes) are
// refused, so that one resource has one address and ids compare as strings wherever they travel (caches, logs,
// idempotency keys, cursors).
func ParseID(s string) (uuid.UUID, bool) {
	if len(s) != 36 {
		return uuid.Nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return uuid.Nil, false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return uuid.Nil, false
			}
		}
	}
	id, err := uuid.Parse(s)
	return id, err == nil
}

// CheckID reads s, the value of field, as a canonical id (see ParseID) that is not the nil UUID, recording a
// failure on e otherwise.
func (e *Errors) CheckID(field, s string) uuid.UUID {
	id, ok := ParseID(s)
	if !ok || id == uuid.Nil {
		e.Add(field, "must be an id: a lower-case UUID like 0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192")
		return uuid.Nil
	}
	return id
}
