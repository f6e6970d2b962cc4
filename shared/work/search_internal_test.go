package work

import "testing"

func TestPrefixEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"abc", "abd"},
		{"az", "a{"},
		{"café", "cafê"},
		{"a\U0010FFFF", "b"},
		{"\U0010FFFF\U0010FFFF", ""},
		{"x\uD7FF", "x\uE000"},
		{"", ""},
	} {
		if got := prefixEnd(tc.in); got != tc.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSearchWordsTsquery(t *testing.T) {
	t.Parallel()
	w := searchWords{lexemes: []string{"it's", `back\slash`}, prefixLexeme: "andr"}
	if got, want := w.tsquery(), `'it''s' | 'back\\slash' | 'andr':*`; got != want {
		t.Errorf("tsquery = %s, want %s", got, want)
	}
}
