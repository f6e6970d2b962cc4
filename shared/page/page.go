// Package page implements cursor pagination for list endpoints: a limit of 1 to 100 and an opaque cursor
// that names the last row a client has seen, so pages stay stable while rows are inserted between requests.
package page

import (
	"encoding/base64"
	"encoding/json"
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
type Request struct {
	Limit int
	After uuid.UUID
}

// cursor is the cursor's content; clients see only its base64url form and must not depend on it.
type cursor struct {
	After uuid.UUID `json:"a"`
}

// Parse reads limit and cursor from q. A bad value is a valid.Errors naming the parameter.
func Parse(q url.Values) (Request, error) {
	r := Request{Limit: DefaultLimit}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return r, valid.Errors{{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxLimit)}}
		}
		r.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		var c cursor
		if err != nil || json.Unmarshal(b, &c) != nil || c.After == uuid.Nil {
			return r, valid.Errors{{Field: "cursor", Message: "is not a cursor this API issued"}}
		}
		r.After = c.After
	}
	return r, nil
}

// Page is the JSON shape of every list answer. NextCursor is null on the last page.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Of builds the page for r from rows, which the caller fetched with a limit of r.Limit+1: the extra row, when
// it came back, proves there is a next page and is not shown. id gives a row's cursor position.
func Of[T any](r Request, rows []T, id func(T) uuid.UUID) Page[T] {
	p := Page[T]{Items: rows}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(rows) > r.Limit {
		p.Items = rows[:r.Limit]
		b, _ := json.Marshal(cursor{After: id(p.Items[r.Limit-1])})
		next := base64.RawURLEncoding.EncodeToString(b)
		p.NextCursor = &next
	}
	return p
}
