package page

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// testKey is the fixed cursor key of these tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestParse(t *testing.T) {
	t.Parallel()
	c := NewCursors(testKey)
	const scope = "GET /v1/users?role=admin"
	id := uuid.Must(uuid.NewV7())
	self := func(u uuid.UUID) uuid.UUID { return u }
	req, err := Parse(url.Values{"limit": {"1"}}, c, scope)
	if err != nil {
		t.Fatal(err)
	}
	issued := *Of(req, []uuid.UUID{id, uuid.New()}, self).NextCursor
	payload, sig, _ := strings.Cut(issued, ".")
	other := *Of(Request{Limit: 1, cursors: c, scope: "GET /v1/projects"}, []uuid.UUID{id, uuid.New()}, self).NextCursor
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"a":"`+uuid.NewString()+`"}`)) + "." + sig
	otherKey := *Of(Request{Limit: 1, cursors: NewCursors([]byte("another key, another deployment!")), scope: scope}, []uuid.UUID{id, uuid.New()}, self).NextCursor
	tests := []struct {
		name  string
		query string
		scope string
		after uuid.UUID
		limit int
		field string // the parameter a failure names, "" for success
		code  string // the failure's code
	}{
		{"defaults", "", scope, uuid.Nil, DefaultLimit, "", ""},
		{"limit", "limit=5", scope, uuid.Nil, 5, "", ""},
		{"max limit", "limit=100", scope, uuid.Nil, 100, "", ""},
		{"limit too large", "limit=101", scope, uuid.Nil, 0, "limit", ""},
		{"limit zero", "limit=0", scope, uuid.Nil, 0, "limit", ""},
		{"limit not a number", "limit=ten", scope, uuid.Nil, 0, "limit", ""},
		{"cursor round trip", "cursor=" + issued, scope, id, DefaultLimit, "", ""},
		{"cursor of another list", "cursor=" + other, scope, uuid.Nil, 0, "cursor", CodeInvalidCursor},
		{"cursor under other filters", "cursor=" + issued, "GET /v1/users?role=member", uuid.Nil, 0, "cursor", CodeInvalidCursor},
		{"cursor with its payload changed", "cursor=" + forged, scope, uuid.Nil, 0, "cursor", CodeInvalidCursor},
		{"cursor with its signature flipped", "cursor=" + payload + "." + flip(sig), scope, uuid.Nil, 0, "cursor", CodeInvalidCursor},
		{"cursor of another key", "cursor=" + otherKey, scope, uuid.Nil, 0, "cursor", CodeInvalidCursor},
		{"cursor unsigned, as cursors were", "cursor=" + payload, scope, uuid.Nil, 0, "cursor", CodeInvalidCursor},
		{"cursor not base64", "cursor=%25%25", scope, uuid.Nil, 0, "cursor", CodeInvalidCursor},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(q, c, tc.scope)
			var fe valid.Errors
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe[0].Field != tc.field || fe[0].Code != tc.code):
				t.Fatalf("err = %v, want a validation error on %s with code %q", err, tc.field, tc.code)
			}
			if tc.field == "" && (got.After != tc.after || got.Limit != tc.limit) {
				t.Fatalf("got %+v, want after %v limit %d", got, tc.after, tc.limit)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestOf(t *testing.T) {
	t.Parallel()
	c := NewCursors(testKey)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	self := func(u uuid.UUID) uuid.UUID { return u }

	req, _ := Parse(url.Values{"limit": {"2"}}, c, "list")
	p := Of(req, ids, self)
	if len(p.Items) != 2 || p.NextCursor == nil {
		t.Fatalf("full page: %d items, cursor %v; want 2 and a cursor", len(p.Items), p.NextCursor)
	}
	if r, err := Parse(url.Values{"cursor": {*p.NextCursor}}, c, "list"); err != nil || r.After != ids[1] {
		t.Fatalf("cursor points at %v (%v), want the last shown row %v", r.After, err, ids[1])
	}
	if last := Of(Request{Limit: 3}, ids, self); len(last.Items) != 3 || last.NextCursor != nil {
		t.Fatalf("last page: %d items, cursor %v; want 3 and none", len(last.Items), last.NextCursor)
	}
	if empty := Of[uuid.UUID](Request{Limit: 3}, nil, self); empty.Items == nil {
		t.Fatal("an empty page must encode items as [], not null")
	}
	// A Request made by hand signs with the process key: it pages, and its cursors open nowhere else.
	byHand := Of(Request{Limit: 1}, ids, self)
	if _, err := Parse(url.Values{"cursor": {*byHand.NextCursor}}, c, ""); err == nil {
		t.Fatal("a cursor signed without the configured key opened with it")
	}
	if r, err := Parse(url.Values{"cursor": {*byHand.NextCursor}}, nil, ""); err != nil || r.After != ids[0] {
		t.Fatalf("hand-made request's cursor: %v %v", r.After, err)
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	a := Scope("GET /v1/users", url.Values{"role": {"admin"}, "q": {"ann"}})
	b := Scope("GET /v1/users", url.Values{"q": {"ann"}, "role": {"admin"}})
	if a != b {
		t.Fatalf("parameter order changed the scope: %q vs %q", a, b)
	}
	if a == Scope("GET /v1/users", url.Values{"role": {"admin"}}) || a == Scope("GET /v1/projects", url.Values{"role": {"admin"}, "q": {"ann"}}) {
		t.Fatal("different lists share a scope")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"c2hvcnQ", "not base64 at all, though long enough!!"} {
		if err := (Config{Key: bad}).Validate(); err == nil {
			t.Fatalf("key %q passed validation", bad)
		}
	}
	if _, err := (Config{}).Cursors(false, nil); err == nil {
		t.Fatal("no key outside local development was accepted")
	}
	if c, err := (Config{}).Cursors(true, nil); err != nil || c == nil {
		t.Fatalf("local run without a key: %v", err)
	}
	c, err := (Config{Key: base64.StdEncoding.EncodeToString(testKey)}).Cursors(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two instances with the same key open each other's cursors.
	s := c.Seal("list", cursor{After: uuid.New()})
	var got cursor
	if !NewCursors(testKey).Open("list", s, &got) {
		t.Fatal("a cursor did not open under the same key")
	}
}
