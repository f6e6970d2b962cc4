package work

import (
	"net/url"

	"github.com/coditect/hyperscale/shared/page"
	"github.com/google/uuid"
)

// ProjectCursor signs with c the project list cursor (order, key, after) for the list query asks for, as
// List would issue it.
func ProjectCursor(c *page.Cursors, query url.Values, order, key string, after uuid.UUID) string {
	q, err := ParseProjectQuery(query, c)
	if err != nil {
		panic(err)
	}
	return projectCursor{Order: order, Key: key, After: after}.encode(c, q.scope)
}
