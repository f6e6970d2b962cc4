package valid

import "testing"

func TestDisplayText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		ok   bool
	}{
		{"plain", "Launch plan", true},
		{"accents and CJK", "Café 東京", true},
		{"emoji with joiner", "👩\u200d💻 team", true},
		{"persian non-joiner", "می\u200cخواهم", true},
		{"flag tag sequence", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", true},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"tab", "a\tb", false},
		{"DEL", "a\x7fb", false},
		{"C1", "a\u0085b", false},
		{"right-to-left override", "invoice\u202efdp.exe", false},
		{"left-to-right embedding", "a\u202ab", false},
		{"isolate", "a\u2066b\u2069", false},
		{"right-to-left mark", "a\u200fb", false},
		{"zero-width space", "a\u200bb", false},
		{"byte order mark", "\ufeffa", false},
		{"line separator", "a\u2028b", false},
		{"invalid UTF-8", "a\xffb", false},
	}
	for _, tc := range tests {
		if got := DisplayText(tc.s); got != tc.ok {
			t.Errorf("%s: DisplayText(%q) = %v, want %v", tc.name, tc.s, got, tc.ok)
		}
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	const id = "0190a5e4-7c1e-7b3a-9d2f-4c5e6f708192"
	tests := []struct {
		s  string
		ok bool
	}{
		{id, true},
		{"0190A5E4-7C1E-7B3A-9D2F-4C5E6F708192", false},
		{"{" + id + "}", false},
		{"urn:uuid:" + id, false},
		{"0190a5e47c1e7b3a9d2f4c5e6f708192", false},
		{"0190a5e4-7c1e-7b3a-9d2f-4c5e6f70819g", false},
		{"0190a5e4_7c1e-7b3a-9d2f-4c5e6f708192", false},
		{"", false},
	}
	for _, tc := range tests {
		got, ok := ParseID(tc.s)
		if ok != tc.ok || (ok && got.String() != tc.s) {
			t.Errorf("ParseID(%q) = %v, %v; want ok %v", tc.s, got, ok, tc.ok)
		}
	}
	var errs Errors
	if errs.CheckID("member", "0190A5E4-7C1E-7B3A-9D2F-4C5E6F708192"); len(errs) != 1 {
		t.Fatalf("CheckID accepted a non-canonical id: %v", errs)
	}
	errs = nil
	if errs.CheckID("member", "00000000-0000-0000-0000-000000000000"); len(errs) != 1 {
		t.Fatalf("CheckID accepted the nil id")
	}
}

func TestCleanDisplayText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Ada Lovelace":           "Ada Lovelace",
		"Ada\x00 \u202eLovelace": "Ada Lovelace",
		"A\nd\ta\u200b":          "Ada",
		"bad \xff byte":          "bad  byte",
		"👩\u200d💻":               "👩\u200d💻",
	} {
		if got := CleanDisplayText(in); got != want || !DisplayText(got) {
			t.Errorf("CleanDisplayText(%q) = %q, want %q", in, got, want)
		}
	}
}
