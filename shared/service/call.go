package service

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coditect/hyperscale/shared/access"
	"github.com/coditect/hyperscale/shared/httpx"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/token"
	"github.com/google/uuid"
)

// Call is one request to a route, read before the route's own code runs: the caller (allowed the route's
// action) and the ids of the path. Routes built with Reply, WithBody, NoContent and List receive it, so a
// handler holds only what is particular to it: the store call and the headers of its answer.
type Call struct {
	// Principal is the caller, already allowed the route's action.
	token.Principal
	w   http.ResponseWriter
	r   *http.Request
	ids map[string]uuid.UUID
}

// newCall allows action for the request's caller, then reads every id of the route's path. The order is the
// API's: 401 or 403 before 404 for a malformed id, and both before the body is read.
func newCall(w http.ResponseWriter, r *http.Request, action access.Action) (*Call, error) {
	p, err := Allow(r, action)
	if err != nil {
		return nil, err
	}
	c := &Call{Principal: p, w: w, r: r}
	for _, name := range pathIDs(r.Pattern) {
		id, err := httpx.PathID(r, name)
		if err != nil {
			return nil, err
		}
		if c.ids == nil {
			c.ids = map[string]uuid.UUID{}
		}
		c.ids[name] = id
	}
	return c, nil
}

// pathIDs returns the names of the wildcards of pattern that hold ids: by the API's convention, "id" and
// those ending "_id". Other wildcards (an organization's slug, say) are left to the route.
func pathIDs(pattern string) []string {
	var names []string
	for seg := range strings.SplitSeq(pattern, "/") {
		name, ok := strings.CutPrefix(seg, "{")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "}")
		if name == "id" || strings.HasSuffix(name, "_id") {
			names = append(names, name)
		}
	}
	return names
}

// Context returns the request's context.
func (c *Call) Context() context.Context { return c.r.Context() }

// Request returns the request, for what Call does not read (headers such as If-Match).
func (c *Call) Request() *http.Request { return c.r }

// Header returns the header of the answer, for the route to set Location, ETag or Cache-Control on success.
func (c *Call) Header() http.Header { return c.w.Header() }

// Query returns the parsed query string.
func (c *Call) Query() url.Values { return c.r.URL.Query() }

// ID returns the path's id named name. It panics when the route's pattern has no such id wildcard: that is a
// mistake in the route's code, which its first test shows, not something a request can cause.
func (c *Call) ID(name string) uuid.UUID {
	id, ok := c.ids[name]
	if !ok {
		panic(fmt.Sprintf("service: route %q has no path id %q", c.r.Pattern, name))
	}
	return id
}

// Route returns the route as the request named it: its method and pattern with the ids in place ("GET
// /v1/tasks/<id>/comments"). A list's cursors are bound to it, so a cursor of one task's comments does not
// page another's.
func (c *Call) Route() string {
	segs := strings.Split(c.r.Pattern, "/")
	for i, seg := range segs {
		name, ok := strings.CutPrefix(seg, "{")
		if !ok {
			continue
		}
		if id, ok := c.ids[strings.TrimSuffix(name, "}")]; ok {
			segs[i] = id.String()
		}
	}
	return strings.Join(segs, "/")
}

// Reply is a route without a body that answers 200 with what fn returns, for a caller allowed action.
func Reply[T any](action access.Action, fn func(c *Call) (T, error)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := newCall(w, r, action)
		if err != nil {
			return err
		}
		v, err := fn(c)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, v)
		return nil
	}
}

// WithBody is a route that decodes its JSON body (httpx.Decode: strict, bounded) into In, hands it to fn and
// answers status with what fn returns, for a caller allowed action.
func WithBody[In, T any](action access.Action, status int, fn func(c *Call, in In) (T, error)) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := newCall(w, r, action)
		if err != nil {
			return err
		}
		var in In
		if err := httpx.Decode(w, r, &in); err != nil {
			return err
		}
		v, err := fn(c, in)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, status, v)
		return nil
	}
}

// NoContent is a route without a body that answers 204 when fn succeeds, for a caller allowed action.
func NoContent(action access.Action, fn func(c *Call) error) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := newCall(w, r, action)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// List is a list route: parse reads the query string (filters, ordering, cursor and limit), list fetches that
// page, and the answer is 200 with it, for a caller allowed action. A query that does not parse is answered
// before the store is asked.
func List[Q, T any](action access.Action, parse func(c *Call) (Q, error), list func(c *Call, q Q) (page.Page[T], error)) httpx.HandlerFunc {
	return Reply(action, func(c *Call) (page.Page[T], error) {
		q, err := parse(c)
		if err != nil {
			return page.Page[T]{}, err
		}
		return list(c, q)
	})
}

// Query adapts a parser of a list's query string, such as work.ParseProjectQuery, to List.
func Query[Q any](cursors *page.Cursors, parse func(url.Values, *page.Cursors) (Q, error)) func(c *Call) (Q, error) {
	return func(c *Call) (Q, error) { return parse(c.Query(), cursors) }
}

// Pages is List's parser for a list that has no filters: the cursor and limit, the cursor bound to the
// route (Call.Route).
func Pages(cursors *page.Cursors) func(c *Call) (page.Request, error) {
	return func(c *Call) (page.Request, error) { return page.Parse(c.Query(), cursors, c.Route()) }
}
