// Package page implements cursor pagination for list endpoints: a limit of 1 to 100 and an opaque cursor
// that names the last row a client has seen, so pages stay stable while rows are inserted between requests.
//
// Cursors are signed (HMAC-SHA256, see Cursors) and bound to a scope: the list that issued them and its
// normalised filters and ordering. A cursor changed by the client, or replayed against another list or other
// filters, is refused with a 422 whose code is invalid_cursor (docs/2026-12-03-canonical-ids-and-signed-cursors.md).
package page

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
)

// Limits on a page's size.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Request is what a client asked for: at most Limit rows after the row After (uuid.Nil for the first page).
// A Request made by Parse also carries what Of needs to sign the next page's cursor for the same list.
type Request struct {
	Limit int
	After uuid.UUID

	cursors *Cursors
	scope   string
}

// cursor is the cursor's content; clients see only its signed form and must not depend on it.
type cursor struct {
	After uuid.UUID `json:"a"`
}

// Parse reads limit and cursor from q for the list scope (see Scope), opening the cursor with c. A bad value
// is a valid.Errors naming the parameter; a cursor that c did not sign for scope is InvalidCursor.
func Parse(q url.Values, c *Cursors, scope string) (Request, error) {
	r := Request{Limit: DefaultLimit, cursors: c, scope: scope}
	var errs valid.Errors
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			errs.Add("limit", fmt.Sprintf("must be an integer from 1 to %d", MaxLimit))
		} else {
			r.Limit = n
		}
	}
	if s := q.Get("cursor"); s != "" {
		var cur cursor
		if !c.Open(scope, s, &cur) || cur.After == uuid.Nil {
			errs = append(errs, InvalidCursor())
		} else {
			r.After = cur.After
		}
	}
	return r, errs.Err()
}

// Page is the JSON shape of every list answer. NextCursor is null on the last page.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Of builds the page for r from rows, which the caller fetched with a limit of r.Limit+1: the extra row, when
// it came back, proves there is a next page and is not shown. id gives a row's cursor position. The next
// cursor is signed for r's scope, so it opens only on the list r was parsed for.
func Of[T any](r Request, rows []T, id func(T) uuid.UUID) Page[T] {
	return Keyset(rows, r.Limit, func(last T) string { return r.cursors.Seal(r.scope, cursor{After: id(last)}) })
}

// Keyset builds the page of at most limit rows from rows fetched with a limit of limit+1, as Of does, for a
// list whose cursor holds more than the last row's id (its ordering key, its filters): next returns the sealed
// cursor that follows last, the page's last row, and is called only when there is a next page.
func Keyset[T any](rows []T, limit int, next func(last T) string) Page[T] {
	p := Page[T]{Items: rows}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(rows) > limit {
		p.Items = rows[:limit]
		c := next(p.Items[limit-1])
		p.NextCursor = &c
	}
	return p
}

// ParseLimit reads only limit from q (DefaultLimit when it is absent), adding a bad value to errs, for a list
// whose cursor carries more than an id and is opened by the list itself.
func ParseLimit(q url.Values, errs *valid.Errors) int {
	r, err := Parse(url.Values{"limit": q["limit"]}, nil, "")
	var fe valid.Errors
	if errors.As(err, &fe) {
		*errs = append(*errs, fe...)
	}
	return r.Limit
}

// mustJSON encodes a cursor payload, which is always a plain struct of ids, numbers, strings and times.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("page: encode cursor: %v", err))
	}
	return b
}
