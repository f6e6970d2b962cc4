package page

import (
	"errors"
	"net/url"
	"testing"

	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

func TestParse(t *testing.T) {
	t.Parallel()
	id := uuid.Must(uuid.NewV7())
	issued := Of(Request{Limit: 1}, []uuid.UUID{id, uuid.New()}, func(u uuid.UUID) uuid.UUID { return u })
	tests := []struct {
		name  string
		query string
		want  Request
		field string // the parameter a failure names, "" for success
	}{
		{"defaults", "", Request{Limit: DefaultLimit}, ""},
		{"limit", "limit=5", Request{Limit: 5}, ""},
		{"max limit", "limit=100", Request{Limit: 100}, ""},
		{"limit too large", "limit=101", Request{}, "limit"},
		{"limit zero", "limit=0", Request{}, "limit"},
		{"limit not a number", "limit=ten", Request{}, "limit"},
		{"cursor round trip", "cursor=" + *issued.NextCursor, Request{Limit: DefaultLimit, After: id}, ""},
		{"cursor not base64", "cursor=%25%25", Request{}, "cursor"},
		{"cursor not json", "cursor=bm9wZQ", Request{}, "cursor"},
		{"cursor with nil id", "cursor=eyJhIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0", Request{}, "cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(q)
			var fe valid.Errors
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.field != "" && (!errors.As(err, &fe) || fe[0].Field != tc.field):
				t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
			}
			if tc.field == "" && got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	self := func(u uuid.UUID) uuid.UUID { return u }

	p := Of(Request{Limit: 2}, ids, self)
	if len(p.Items) != 2 || p.NextCursor == nil {
		t.Fatalf("full page: %d items, cursor %v; want 2 and a cursor", len(p.Items), p.NextCursor)
	}
	q, _ := url.ParseQuery("cursor=" + *p.NextCursor)
	if r, err := Parse(q); err != nil || r.After != ids[1] {
		t.Fatalf("cursor points at %v (%v), want the last shown row %v", r.After, err, ids[1])
	}
	if last := Of(Request{Limit: 3}, ids, self); len(last.Items) != 3 || last.NextCursor != nil {
		t.Fatalf("last page: %d items, cursor %v; want 3 and none", len(last.Items), last.NextCursor)
	}
	if empty := Of[uuid.UUID](Request{Limit: 3}, nil, self); empty.Items == nil {
		t.Fatal("an empty page must encode items as [], not null")
	}
}
